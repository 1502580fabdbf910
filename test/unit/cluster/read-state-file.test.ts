import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readClusterStateFile } from '../../../src/cluster/read-state-file.js';

describe('readClusterStateFile', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ipvs-sentinel-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and parses a file', async () => {
    const path = join(dir, 'state.yaml');
    await writeFile(path, 'kind: Node\nmetadata: {name: n1}\n');
    await expect(readClusterStateFile(path)).resolves.toMatchObject({ nodes: [{ name: 'n1', zone: null, addresses: [] }] });
  });

  it('FILE_UNREADABLE when the file is missing', async () => {
    await expect(readClusterStateFile(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'FILE_UNREADABLE', op: 'read cluster state' });
  });

  it('CLUSTER_STATE_INVALID names the file', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'kind: Pod\n');
    await expect(readClusterStateFile(path)).rejects.toMatchObject({ code: 'CLUSTER_STATE_INVALID', message: expect.stringContaining('has kind Pod') as unknown });
  });
});
