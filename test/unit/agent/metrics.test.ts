import { describe, expect, it } from 'vitest';
import { FINDING_KINDS } from '../../../src/checks/registry.js';
import { createMetrics } from '../../../src/agent/metrics.js';
import { escapeLabelValue, localMark } from '../../../src/render/ipvs-metrics.js';
import { fakeAgentView, okDrift, sampleModules, trackedFinding } from '../../support/agent-view.js';
import { rs, serviceRef, snapshot, vs, zeroStats } from '../../support/builders.js';
import { expectGolden } from '../../support/golden.js';

/** A tiny text-format (0.0.4) parser: families with their TYPE and samples with unescaped labels. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parseExposition(textIn: string): { types: Map<string, string>; helps: Map<string, number>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helps = new Map<string, number>();
  const samples: Sample[] = [];
  for (const line of textIn.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        expect(types.has(name), `TYPE ${name} twice`).toBe(false);
        types.set(name, rest);
      } else helps.set(name, (helps.get(name) ?? 0) + 1);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    const body = m[2] ?? '';
    let lm: RegExpExecArray | null;
    let consumed = 0;
    while ((lm = labelRe.exec(body)) !== null) {
      labels[lm[1] ?? ''] = (lm[2] ?? '').replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
      consumed = labelRe.lastIndex;
    }
    expect(consumed, `labels of ${line}`).toBe(body.length);
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return { types, helps, samples };
}

function series(samples: Sample[], name: string): Sample[] {
  return samples.filter((s) => s.name === name);
}

/** Only the ipvs_sentinel_* families: the process_/nodejs_ ones vary from run to run. */
function agentFamilies(textIn: string): string {
  return textIn
    .split('\n\n')
    .filter((block) => /^# HELP ipvs_sentinel_/.test(block))
    .map((block) => block.replace(/\n?$/, '\n'))
    .join('\n');
}

const big = (n: bigint) => ({ ...zeroStats(), conns: n, inPkts: n + 1n, outPkts: n + 2n, inBytes: n + 3n, outBytes: n + 4n });

function sampleSnapshot() {
  return snapshot([
    vs('TCP/10.96.0.1:443', [rs('192.168.1.10:6443', { activeConns: 3, inactiveConns: 12 }), rs('192.168.1.9:6443', { weight: 0 })], { stats: big(19n) }),
    vs('UDP/[fd00::10]:53', [rs('[fd00::7]:53', { inactiveConns: 4 })], { stats: big(7n) }),
    vs('SCTP/10.96.0.50:3868', [rs('10.244.3.3:3868')], { stats: big(2n ** 64n - 5n) }),
    vs('FWM/268439552/inet', [rs('10.0.0.7:0', { forward: 'tunnel' })], { stats: big(100n) }),
    vs('FWM/268439552/inet6', [rs('[fd00::9]:0', { forward: 'tunnel' })], { stats: big(1n) }),
  ]);
}

function sampleView() {
  return fakeAgentView({
    snapshot: sampleSnapshot(),
    services: new Map([
      ['TCP/10.96.0.1:443', serviceRef('default/kubernetes:https')],
      ['UDP/[fd00::10]:53', serviceRef('kube-system/kube-dns:dns')],
    ]),
    modules: sampleModules(),
    drift: okDrift([
      trackedFinding('weight-mismatch', 'warning', true, { virtualServer: 'TCP/10.96.0.1:443', realServer: '192.168.1.9:6443' }),
      trackedFinding('weight-mismatch', 'warning', true, { virtualServer: 'TCP/10.96.0.1:443', realServer: '192.168.1.10:6443' }),
      trackedFinding('missing-virtual-server', 'critical', false, { virtualServer: 'TCP/10.96.0.99:80' }),
    ]),
  });
}

describe('createMetrics', () => {
  it('renders every contract family with its type, HELP and TYPE once each', async () => {
    const { view } = sampleView();
    const metrics = createMetrics({ backendMetrics: true, view });
    metrics.recordRead('netlink', 0.004);
    const { types, helps } = parseExposition(await metrics.render());
    const expected: Record<string, string> = {
      ipvs_sentinel_read_duration_seconds: 'histogram',
      ipvs_sentinel_read_errors_total: 'counter',
      ipvs_sentinel_virtual_servers: 'gauge',
      ipvs_sentinel_real_servers: 'gauge',
      ipvs_sentinel_drift_findings: 'gauge',
      ipvs_sentinel_drift_detected_total: 'counter',
      ipvs_sentinel_health_check: 'gauge',
      ipvs_sentinel_kernel_module_loaded: 'gauge',
      ipvs_sentinel_kube_proxy_mode: 'gauge',
      ipvs_sentinel_cluster_synced: 'gauge',
      ipvs_sentinel_last_check_timestamp_seconds: 'gauge',
      ipvs_sentinel_connections_total: 'counter',
      ipvs_sentinel_incoming_packets_total: 'counter',
      ipvs_sentinel_outgoing_packets_total: 'counter',
      ipvs_sentinel_incoming_bytes_total: 'counter',
      ipvs_sentinel_outgoing_bytes_total: 'counter',
      ipvs_sentinel_backend_connections_active: 'gauge',
      ipvs_sentinel_backend_connections_inactive: 'gauge',
      ipvs_sentinel_backend_weight: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(types.get(name), name).toBe(type);
      expect(helps.get(name), name).toBe(1);
    }
    // default process metrics under their standard names, on this registry
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_heap_size_total_bytes')).toBe('gauge');
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('labels virtual servers like node_exporter: IPv4, IPv6, SCTP, fwmark (8-digit hex, summed across families)', async () => {
    const { view } = sampleView();
    const { samples } = parseExposition(await createMetrics({ backendMetrics: true, view }).render());
    const conns = series(samples, 'ipvs_sentinel_connections_total');
    expect(conns).toEqual([
      { name: 'ipvs_sentinel_connections_total', labels: { local_address: '', local_port: '0', local_mark: '10001000', proto: 'FWM', namespace: '', service: '', port_name: '' }, value: 101 },
      { name: 'ipvs_sentinel_connections_total', labels: { local_address: '10.96.0.50', local_port: '3868', local_mark: '', proto: 'SCTP', namespace: '', service: '', port_name: '' }, value: 2 ** 64 },
      { name: 'ipvs_sentinel_connections_total', labels: { local_address: '10.96.0.1', local_port: '443', local_mark: '', proto: 'TCP', namespace: 'default', service: 'kubernetes', port_name: 'https' }, value: 19 },
      { name: 'ipvs_sentinel_connections_total', labels: { local_address: 'fd00::10', local_port: '53', local_mark: '', proto: 'UDP', namespace: 'kube-system', service: 'kube-dns', port_name: 'dns' }, value: 7 },
    ]);
    expect(series(samples, 'ipvs_sentinel_outgoing_bytes_total').map((s) => s.value)).toEqual([109, 2 ** 64, 23, 11]);
    const weight = series(samples, 'ipvs_sentinel_backend_weight');
    expect(weight.find((s) => s.labels.remote_address === '192.168.1.9')).toEqual({
      name: 'ipvs_sentinel_backend_weight',
      labels: { local_address: '10.96.0.1', local_port: '443', local_mark: '', proto: 'TCP', remote_address: '192.168.1.9', remote_port: '6443', namespace: 'default', service: 'kubernetes', port_name: 'https' },
      value: 0,
    });
    expect(weight.find((s) => s.labels.remote_address === 'fd00::7')?.labels).toMatchObject({ local_address: 'fd00::10', proto: 'UDP', remote_port: '53' });
    expect(weight.find((s) => s.labels.remote_address === 'fd00::9')?.labels).toMatchObject({ local_address: '', local_port: '0', local_mark: '10001000', proto: 'FWM', remote_port: '0' });
    expect(series(samples, 'ipvs_sentinel_backend_connections_inactive').find((s) => s.labels.remote_address === '192.168.1.10')?.value).toBe(12);
    expect(series(samples, 'ipvs_sentinel_virtual_servers')[0]?.value).toBe(5);
    expect(series(samples, 'ipvs_sentinel_real_servers')[0]?.value).toBe(6);
  });

  it('leaves the backend families out with backendMetrics=false', async () => {
    const { view } = sampleView();
    const { types, samples } = parseExposition(await createMetrics({ backendMetrics: false, view }).render());
    expect([...types.keys()].filter((n) => n.startsWith('ipvs_sentinel_backend_'))).toEqual([]);
    expect(series(samples, 'ipvs_sentinel_connections_total')).toHaveLength(4);
  });

  it('computes findings at scrape time and drops combinations that vanished', async () => {
    const { view, state } = sampleView();
    const metrics = createMetrics({ backendMetrics: true, view });
    let { samples } = parseExposition(await metrics.render());
    expect(series(samples, 'ipvs_sentinel_drift_findings').map((s) => [s.labels, s.value])).toEqual([
      [{ kind: 'weight-mismatch', severity: 'warning', confirmed: 'true' }, 2],
      [{ kind: 'missing-virtual-server', severity: 'critical', confirmed: 'false' }, 1],
    ]);
    state.drift = okDrift([trackedFinding('missing-virtual-server', 'critical', true, { virtualServer: 'TCP/10.96.0.99:80' })]);
    ({ samples } = parseExposition(await metrics.render()));
    expect(series(samples, 'ipvs_sentinel_drift_findings').map((s) => [s.labels, s.value])).toEqual([[{ kind: 'missing-virtual-server', severity: 'critical', confirmed: 'true' }, 1]]);
    state.drift = okDrift();
    ({ samples } = parseExposition(await metrics.render()));
    expect(series(samples, 'ipvs_sentinel_drift_findings')).toEqual([]);
  });

  it('follows the view for modules, proxy mode, sync, last check and the table', async () => {
    const { view, state } = sampleView();
    const metrics = createMetrics({ backendMetrics: true, view });
    let { samples } = parseExposition(await metrics.render());
    expect(Object.fromEntries(series(samples, 'ipvs_sentinel_kernel_module_loaded').map((s) => [s.labels.module, s.value]))).toEqual({ ip_vs: 1, ip_vs_rr: 1, nf_conntrack: 0, ip_vs_sh: 0 });
    expect(series(samples, 'ipvs_sentinel_kube_proxy_mode').map((s) => [s.labels.mode, s.value])).toEqual([['ipvs', 1]]);
    expect(series(samples, 'ipvs_sentinel_cluster_synced')[0]?.value).toBe(1);
    expect(series(samples, 'ipvs_sentinel_last_check_timestamp_seconds')[0]?.value).toBe(1740830440);

    Object.assign(state, { modules: null, proxyMode: null, clusterSynced: false, lastCheck: null, snapshot: null });
    ({ samples } = parseExposition(await metrics.render()));
    expect(series(samples, 'ipvs_sentinel_kernel_module_loaded')).toEqual([]);
    expect(series(samples, 'ipvs_sentinel_kube_proxy_mode').map((s) => s.labels.mode)).toEqual(['unknown']);
    expect(series(samples, 'ipvs_sentinel_cluster_synced')[0]?.value).toBe(0);
    expect(series(samples, 'ipvs_sentinel_last_check_timestamp_seconds')[0]?.value).toBe(0);
    expect(series(samples, 'ipvs_sentinel_virtual_servers')[0]?.value).toBe(0);
    expect(series(samples, 'ipvs_sentinel_connections_total')).toEqual([]);
  });

  it('renders the traffic families from the latest snapshot and Service names at every scrape', async () => {
    const { view, state } = sampleView();
    const metrics = createMetrics({ backendMetrics: false, view });
    const before = await metrics.render();
    expect(before).toContain('service="kubernetes"');
    state.services.set('TCP/10.96.0.1:443', serviceRef('default/renamed:https'));
    expect(await metrics.render()).toContain('service="renamed"');
    state.snapshot = snapshot([vs('TCP/10.96.0.2:80')]);
    const { samples } = parseExposition(await metrics.render());
    expect(series(samples, 'ipvs_sentinel_connections_total').map((s) => s.labels.local_address)).toEqual(['10.96.0.2']);
  });

  it('exposition(): prom-client families first, then the traffic families rendered only as the pieces are iterated', async () => {
    const { view, state } = sampleView();
    let snapshotReads = 0;
    const counting = { ...view, snapshot: () => (snapshotReads++, state.snapshot) };
    const metrics = createMetrics({ backendMetrics: true, view: counting });
    const pieces = (await metrics.exposition())[Symbol.iterator]();
    const byCollectors = snapshotReads; // the virtual_servers and real_servers gauges
    const own = pieces.next();
    expect(own.done).toBe(false);
    expect(String(own.value)).toMatch(/# TYPE ipvs_sentinel_cluster_synced gauge[\s\S]*\n\n$/);
    expect(String(own.value)).not.toContain('ipvs_sentinel_connections_total');
    const rest: Buffer[] = [];
    for (let p = pieces.next(); !p.done; p = pieces.next()) rest.push(p.value);
    expect(snapshotReads).toBe(byCollectors + 1);
    expect(String(Buffer.concat(rest))).toMatch(/^# HELP ipvs_sentinel_connections_total /);
    const whole = await metrics.render(); // process_* values move between scrapes: compare the traffic part
    expect(whole.endsWith(`\n\n${String(Buffer.concat(rest))}`)).toBe(true);
  });

  it('exposition() rejects, before any piece, when a collector throws', async () => {
    const { view } = sampleView();
    const broken = { ...view, drift: () => { throw new Error('boom'); } };
    await expect(createMetrics({ backendMetrics: true, view: broken }).exposition()).rejects.toThrow('boom');
  });

  it('records reads in the histogram and errors by source and reason; drift detections by kind', async () => {
    const { view } = sampleView();
    const metrics = createMetrics({ backendMetrics: true, view });
    metrics.recordRead('netlink', 0.0008);
    metrics.recordRead('netlink', 0.02);
    metrics.recordRead('cluster', 12, { reason: 'timeout' });
    metrics.recordRead('cluster', 31, { reason: 'timeout' });
    metrics.recordRead('modules', 0.001, { reason: 'ENOENT' });
    metrics.recordDriftDetected('weight-mismatch');
    metrics.recordDriftDetected('weight-mismatch');
    const { samples } = parseExposition(await metrics.render());
    const bucket = (source: string, le: string) => series(samples, 'ipvs_sentinel_read_duration_seconds_bucket').find((s) => s.labels.source === source && s.labels.le === le)?.value;
    expect(bucket('netlink', '0.001')).toBe(1);
    expect(bucket('netlink', '0.025')).toBe(2);
    expect(bucket('cluster', '30')).toBe(1);
    expect(bucket('cluster', '+Inf')).toBe(2);
    expect(series(samples, 'ipvs_sentinel_read_duration_seconds_count').find((s) => s.labels.source === 'cluster')?.value).toBe(2);
    expect(series(samples, 'ipvs_sentinel_read_errors_total').map((s) => [s.labels, s.value])).toEqual([
      [{ source: 'cluster', reason: 'timeout' }, 2],
      [{ source: 'modules', reason: 'ENOENT' }, 1],
    ]);
    const detected = series(samples, 'ipvs_sentinel_drift_detected_total');
    expect(detected.filter((s) => s.value > 0).map((s) => [s.labels, s.value])).toEqual([[{ kind: 'weight-mismatch' }, 2]]);
    // Every kind of the registry is there from the start, at 0.
    expect(detected.map((s) => s.labels.kind).sort()).toEqual([...FINDING_KINDS].sort());
  });

  it('uses its own registry: two instances do not share series', async () => {
    const a = createMetrics({ backendMetrics: true, view: sampleView().view });
    const b = createMetrics({ backendMetrics: true, view: sampleView().view });
    a.recordDriftDetected('scheduler-mismatch');
    expect(await a.render()).toContain('ipvs_sentinel_drift_detected_total{kind="scheduler-mismatch"} 1');
    expect(await b.render()).toContain('ipvs_sentinel_drift_detected_total{kind="scheduler-mismatch"} 0');
  });

  it('escapes label values and formats marks', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(localMark(0x10001000)).toBe('10001000');
    expect(localMark(4097)).toBe('00001001');
    expect(localMark(0xfffffffe)).toBe('FFFFFFFE');
  });

  it('ipvs_sentinel_* families (golden)', async () => {
    const { view } = sampleView();
    const metrics = createMetrics({ backendMetrics: true, view });
    metrics.recordRead('netlink', 0.003);
    metrics.recordRead('cluster', 0.4, { reason: 'ECONNREFUSED' });
    metrics.recordDriftDetected('weight-mismatch');
    await expectGolden('test/fixtures/golden/metrics/metrics.txt', agentFamilies(await metrics.render()));
  });
});
