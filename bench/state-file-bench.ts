/**
 * `--cluster-state` benchmark: `kubectl get services,endpointslices,nodes -A -o yaml|json` Lists of
 * 50,000 objects (25,000 Services, each with an EndpointSlice, and 50 Nodes) with 1 and 10 endpoints
 * per slice, each read by a process of its own with the image's young generation
 * (--max-semi-space-size=4) and --expose-gc, which the measurement needs to see the heap the model
 * keeps after a full collection: read time, RSS before the read and at its peak, the heap the model keeps. The files are generated into a temporary directory.
 * Target: the peak stays well under the DaemonSet's 512 Mi limit at every size the file limit allows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stateDumpJson, stateDumpYaml, type StateDumpSize } from '../test/support/state-dump.js';

const REPO_ROOT = new URL('..', import.meta.url).pathname;
const MB = 1024 * 1024;

interface ChildResult {
  services: number;
  endpointSlices: number;
  nodes: number;
  parseMs: number;
  rssBeforeBytes: number;
  maxRssBytes: number;
  heapUsedAfterGc: number;
}

function readInChild(file: string): ChildResult | string {
  const run = spawnSync(process.execPath, ['--max-semi-space-size=4', '--expose-gc', '--import', 'tsx', 'test/support/parse-state-child.ts', file], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * MB,
  });
  if (run.status !== 0) return `failed (${run.signal ?? `exit ${run.status}`}): ${run.stderr.split('\n')[0] ?? ''}`;
  return JSON.parse(run.stdout) as ChildResult;
}

function stateFileBench(): void {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-sentinel-state-bench-'));
  try {
    const sizes: StateDumpSize[] = [
      { services: 25_000, endpointsPerSlice: 1, nodes: 50 },
      { services: 25_000, endpointsPerSlice: 10, nodes: 50 },
    ];
    console.log('objects  endpoints/slice  format  file MB  read s   RSS before MB  peak RSS MB  heap kept MB');
    for (const size of sizes) {
      for (const [format, write] of [['yaml', stateDumpYaml], ['json', stateDumpJson]] as const) {
        const file = join(dir, `dump.${format}`);
        const text = write(size);
        writeFileSync(file, text);
        const result = readInChild(file);
        const objects = 2 * size.services + size.nodes;
        const head = `${String(objects).padStart(7)}  ${String(size.endpointsPerSlice).padStart(15)}  ${format.padEnd(6)}  ${(Buffer.byteLength(text) / MB).toFixed(0).padStart(7)}`;
        if (typeof result === 'string') {
          console.log(`${head}  ${result}`);
          continue;
        }
        const read = result.services + result.endpointSlices + result.nodes;
        if (read !== objects) console.log(`  (read ${read} objects, expected ${objects})`);
        console.log(
          `${head}  ${(result.parseMs / 1000).toFixed(1).padStart(6)}  ${(result.rssBeforeBytes / MB).toFixed(0).padStart(13)}  ${(result.maxRssBytes / MB).toFixed(0).padStart(11)}  ${(result.heapUsedAfterGc / MB).toFixed(0).padStart(12)}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runStateFileBench(): Promise<void> {
  stateFileBench();
  return Promise.resolve();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runStateFileBench();
