/**
 * What the built agent loads (`npm run build`, which `npm test` runs first): the bundles of
 * scripts/bundle.mjs keep client-node's generated API, prom-client's unused parts and pino's
 * transports out, and node:http comes through require, so Node 24 never loads undici and http2. Each of these was
 * measured in megabytes of RSS (README › Performance).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dist = new URL('../../../dist/', import.meta.url);

describe('the built agent', () => {
  it('exists (npm run build)', () => {
    expect(existsSync(new URL('wiring.js', dist)), 'dist/ is missing: run `npm run build`').toBe(true);
  });

  it('loads no unused package and no undici, http2 or worker_threads when serve starts its parts and probes kube-proxy', () => {
    const script = `
      import { createRequire } from 'node:module';
      for (const m of ['wiring.js', 'agent/agent.js', 'agent/heap.js', 'agent/metrics.js', 'agent/http.js', 'cluster/client-node.js', 'cluster/informers.js', 'cluster/kubeconfig.js', 'ipvs/reader.js', 'cli/main.js']) {
        await import(new URL(m, ${JSON.stringify(dist.href)}));
      }
      // one kube-proxy probe (a closed port: the request is made, the answer is unknown)
      const { probeKubeProxy } = await import(new URL('node/kube-proxy-probe.js', ${JSON.stringify(dist.href)}));
      const probe = await probeKubeProxy({ url: 'http://127.0.0.1:1', timeoutMs: 1000 });
      if (probe.problems.length !== 2) throw new Error('probe: ' + JSON.stringify(probe));
      // the default metrics, collected (the CPU counter is the one that used to load @opentelemetry/api)
      const { Registry, collectDefaultMetrics } = await import(new URL('agent/prom-client.js', ${JSON.stringify(dist.href)}));
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      if (!(await registry.metrics()).includes('process_cpu_seconds_total')) throw new Error('no process_cpu_seconds_total');
      console.log(JSON.stringify({ cjs: Object.keys(createRequire(import.meta.url).cache), builtins: process.moduleLoadList }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../../../', import.meta.url), encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const { cjs, builtins } = JSON.parse(out) as { cjs: string[]; builtins: string[] };
    expect(cjs.filter((p) => /node_modules\/(@opentelemetry|tdigest|bintrees|thread-stream)\//.test(p) || /prom-client\/(index|lib\/pushgateway|lib\/cluster)\.js$/.test(p))).toEqual([]);
    expect(builtins.filter((m) => /^NativeModule (internal\/deps\/undici|http2|worker_threads)\b/.test(m))).toEqual([]);
  });

  it('bundles client-node without its generated API and prom-client without @opentelemetry/api', () => {
    const clientNode = readFileSync(new URL('cluster/client-node.js', dist), 'utf8');
    expect(clientNode).not.toMatch(/from ["']@kubernetes\/client-node/);
    expect(clientNode).not.toMatch(/class CoreV1Api\b/);
    const promClient = readFileSync(new URL('agent/prom-client.js', dist), 'utf8');
    expect(promClient).not.toMatch(/from ["']prom-client|require\(["']@opentelemetry/);
    expect(promClient).toMatch(/processCpuTotal/);
    const pino = readFileSync(new URL('util/pino.js', dist), 'utf8');
    expect(pino).not.toMatch(/from ["']pino["']|require\(["'](thread-stream|worker_threads)/);
  });
});
