/** GET /migration and ipvs_sentinel_migration_findings over a hand-built view and a built report. */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServerHandle } from '../../../src/agent/http.js';
import { createMetrics } from '../../../src/agent/metrics.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import type { MigrationReport } from '../../../src/migration/types.js';
import { fakeAgentView } from '../../support/agent-view.js';
import { migrationInput } from '../../support/migration-input.js';
import { pino } from '../../../src/util/pino.js';

const servers: HttpServerHandle[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const blocked = (): MigrationReport => buildMigrationReport(migrationInput({}, { sockets: [{ protocol: 'TCP', family: 'inet', address: '10.96.0.50', port: 9000, inode: 7, uid: 0 }] }));

async function serve(report: MigrationReport | null): Promise<(path: string) => Promise<{ status: number; type: string; body: string }>> {
  const { view } = fakeAgentView();
  const migration = (): Promise<MigrationReport> | null => (report ? Promise.resolve(report) : null);
  const metrics = createMetrics({ backendMetrics: false, view, migration });
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, view, metrics, logger: pino({ level: 'silent' }), migration });
  servers.push(server);
  return (path) =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.address.port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });
}

/** The samples of one metric family, parsed from the exposition. */
function samples(exposition: string, family: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    const m = new RegExp(`^${family}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], Number(m[2]));
  }
  return out;
}

describe('/migration', () => {
  it('serves the last poll\'s report as JSON, and as Markdown on ?output=markdown', async () => {
    const report = blocked();
    const get = await serve(report);
    const json = await get('/migration');
    expect(json.status).toBe(200);
    expect(json.type).toBe('application/json');
    expect((JSON.parse(json.body) as MigrationReport).headline).toBe(report.headline);
    const md = await get('/migration?output=markdown');
    expect(md.body.split('\n')[0]).toBe('## IPVS → nftables readiness: node `node-a`');
    expect((await get('/migration?output=yaml')).status).toBe(400);
  });

  it('503 before the first poll', async () => {
    const get = await serve(null);
    expect((await get('/migration')).status).toBe(503);
  });

  it('ipvs_sentinel_migration_findings: 1 for each finding present, 0 for every other catalogued id', async () => {
    const get = await serve(blocked());
    const metric = samples((await get('/metrics')).body, 'ipvs_sentinel_migration_findings');
    expect(metric.get('id="vip-bound-socket",severity="blocker"')).toBe(1);
    expect(metric.get('id="ipvs-deprecation",severity="info"')).toBe(1);
    expect(metric.get('id="itp-local-fallback",severity="blocker"')).toBe(0);
    expect([...metric.values()].filter((v) => v === 1)).toHaveLength(blocked().findings.length);
  });
});
