/**
 * The real client-node informers, through startClusterWatch, against an API stand-in that lies:
 * watch lines that are not events, 200 watches that deliver nothing, lists that are not lists,
 * refusals and requests that are never answered. Nothing of it may crash the process or make a
 * request storm; bad lines are skipped and counted, failures back off, and the status says why.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WatchClusterSource } from '../../../src/agent/cluster-source.js';
import { createMetrics } from '../../../src/agent/metrics.js';
import { backoffDelay } from '../../../src/cluster/backoff.js';
import { startClusterWatch, type ClusterEvent, type ClusterResource, type ClusterWatch, type ClusterWatchOptions } from '../../../src/cluster/informers.js';
import { fakeAgentView } from '../../support/agent-view.js';
import { config, nodeFacts } from '../../support/cluster-builders.js';
import { KubeApiStandin, type StandinFault, type StandinKind, type WireObject } from '../../support/kube-api-standin.js';
import { standinKubeConfig } from '../../support/standin-kubeconfig.js';
import { sleep, waitFor } from '../../support/wait.js';

const NODE = 'node-1';

const PATHS: Record<ClusterResource, string> = {
  service: '/api/v1/services',
  endpointslice: '/apis/discovery.k8s.io/v1/endpointslices',
  node: '/api/v1/nodes',
  configmap: '/api/v1/namespaces/kube-system/configmaps',
};
const KINDS: Record<ClusterResource, StandinKind> = { service: 'Service', endpointslice: 'EndpointSlice', node: 'Node', configmap: 'ConfigMap' };
const RESOURCES = Object.keys(PATHS) as ClusterResource[];

function svc(name: string): WireObject {
  return { metadata: { name, namespace: 'default' }, spec: { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } };
}

function slice(name: string, ips: string[]): WireObject {
  return {
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

function node(ip: string): WireObject {
  return { metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: ip }] } };
}

function configMap(conf: string): WireObject {
  return { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': conf } };
}

function seed(api: KubeApiStandin): void {
  api.create('Service', svc('web'));
  api.create('EndpointSlice', slice('web-abc', ['10.244.1.7']));
  api.create('Node', node('192.168.1.10'));
  api.create('ConfigMap', configMap('mode: ipvs\n'));
}

/** One change per resource, each seen as an update (or add) by its informer. */
function changeEveryResource(api: KubeApiStandin, tag: number): void {
  api.create('Service', svc(`after-${tag}`));
  api.update('EndpointSlice', slice('web-abc', ['10.244.1.7', `10.244.2.${tag}`]));
  api.update('Node', node(`192.168.1.${20 + tag}`));
  api.update('ConfigMap', configMap(`mode: ipvs\n# ${tag}\n`));
}

function logCapture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream).child({ component: 'cluster' }), lines };
}

/** The stand-in's resourceVersion after seed(): later events carry higher ones. */
const SEEDED_RV = 5;

const BACKOFF = { initialMs: 20, maxMs: 160, factor: 2, jitter: 0 };

/** performance.now() of each request to `path`, watches or lists. */
function attempts(api: KubeApiStandin, path: string, watch: boolean): number[] {
  return api.timedRequests.filter((r) => r.path === path && (r.query.watch === 'true') === watch).map((r) => r.at);
}

/**
 * Each wait between consecutive attempts is at least the backoff's delay for the failures so far
 * (`firstFailure` is the count behind the first wait). A timer never fires early, so this holds
 * however loaded the machine is; a storm breaks it at once.
 */
function expectBackoffSchedule(times: number[], backoff: typeof BACKOFF, firstFailure = 1): void {
  const gaps = times.slice(1).map((t, i) => Math.round(t - (times[i] ?? 0)));
  const schedule = gaps.map((_, i) => backoffDelay(firstFailure + i, backoff, 0.5));
  // 1 ms of slack: the stand-in stamps a request a moment after the agent's timer fired for it.
  expect(gaps.map((gap, i) => gap >= (schedule[i] ?? 0) - 1), `waits ${gaps.join(', ')} ms against the schedule ${schedule.join(', ')} ms`).not.toContain(false);
}

let api: KubeApiStandin;
let watch: ClusterWatch | undefined;
let events: ClusterEvent[];

function start(overrides: Partial<ClusterWatchOptions> = {}): ClusterWatch {
  watch = startClusterWatch({
    kubeConfig: standinKubeConfig(api.url),
    nodeName: NODE,
    onChange: (event) => events.push(event),
    backoff: BACKOFF,
    watchTimeoutSeconds: 60,
    watchHealthyAfterMs: 100,
    ...overrides,
  });
  return watch;
}

const cachedNames = (w: ClusterWatch, resource: ClusterResource): string[] => w.cached(resource).map((o) => o.metadata.name).sort();

beforeEach(async () => {
  api = await KubeApiStandin.start({ bookmarkIntervalMs: 50 });
  events = [];
  seed(api);
  expect(api.resourceVersion).toBe(String(SEEDED_RV));
});

afterEach(async () => {
  await watch?.stop();
  watch = undefined;
  await api.stop();
});

describe('a watch line that is not a valid event', () => {
  const line = (type: string, object: unknown): string => JSON.stringify({ type, object });
  it.each([
    ['{}', '{}', /the event type is missing/],
    ['[1,2,3]', '[1,2,3]', /the event is an array/],
    ['"str"', '"str"', /the event is a string/],
    ['null', 'null', /the event is null/],
    ['an ADDED object without metadata', line('ADDED', { spec: {} }), /ADDED event: metadata is missing/],
    ['a MODIFIED event without an object', '{"type":"MODIFIED"}', /MODIFIED event: the object is missing/],
    ['a DELETED object without a name', line('DELETED', { metadata: { namespace: 'default', resourceVersion: '9' } }), /metadata.name is missing/],
    ['an ADDED object without a resourceVersion', line('ADDED', { metadata: { name: 'x', namespace: 'default' } }), /metadata.resourceVersion is missing/],
    ['a BOOKMARK without a resourceVersion', line('BOOKMARK', { metadata: {} }), /BOOKMARK event without metadata.resourceVersion/],
    ['an ERROR that is not a Status', line('ERROR', 'boom'), /ERROR event whose object is a string/],
    ['an unknown event type', line('RESYNC', {}), /unknown event type "RESYNC"/],
    ['garbage', '<html><body>502 Bad Gateway</body></html>', /not JSON/],
    ['a cut-off event', '{"type":"ADDED","object":{"metadata":{"name":"cut', /not JSON/],
  ])('%s is skipped and counted; the informers keep their caches and the later events', async (_name, bad, reason) => {
    const { logger, lines } = logCapture();
    const w = start({ logger });
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    for (const resource of RESOURCES) expect(api.sendRawLine(KINDS[resource], bad)).toBe(1);
    changeEveryResource(api, 1);

    await waitFor(() => RESOURCES.every((r) => events.some((e) => e.resource === r && e.type !== 'delete' && Number(e.object.metadata.resourceVersion) > SEEDED_RV)), {
      what: 'the good events after the bad line',
    });
    const status = w.status();
    for (const resource of RESOURCES) expect(status.perResource[resource]).toMatchObject({ rejectedEvents: 1, synced: true, unreachableSince: null, lists: 1, restarts: 0 });
    expect(cachedNames(w, 'service')).toEqual(['after-1', 'web']);
    expect(w.cached('node')[0]?.converted).toMatchObject({ addresses: [{ type: 'InternalIP', address: '192.168.1.21' }] });
    expect(events.filter((e) => e.type === 'delete')).toEqual([]);

    const warnings = lines.filter((l) => l.msg === 'cluster watch event rejected; skipped');
    expect(warnings.map((l) => l.resource).sort()).toEqual([...RESOURCES].sort());
    for (const warning of warnings) {
      expect(warning).toMatchObject({ level: 40, component: 'cluster', rejectedEvents: 1 });
      expect(warning.reason).toMatch(reason);
    }
  });

  it('warns once a minute per resource, counting every line, and keeps watching through a stream of them', async () => {
    const { logger, lines } = logCapture();
    const w = start({ logger });
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    for (let i = 0; i < 50; i++) api.sendRawLine('Service', i % 2 === 0 ? '{}' : 'null');
    api.create('Service', svc('after'));
    await waitFor(() => cachedNames(w, 'service').includes('after'));
    expect(w.status().perResource.service.rejectedEvents).toBe(50);
    const rejections = lines.filter((l) => l.msg === 'cluster watch event rejected; skipped');
    expect(rejections.filter((l) => l.level === 40)).toHaveLength(1);
    expect(rejections.filter((l) => l.level === 20).map((l) => l.rejectedEvents)).toEqual(Array.from({ length: 49 }, (_, i) => i + 2));
    expect(api.timedRequests.filter((r) => r.query.watch === 'true' && r.path === PATHS.service)).toHaveLength(1);
  });

  it('is counted in ipvs_sentinel_watch_events_rejected_total by resource', async () => {
    const w = start();
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    api.sendRawLine('EndpointSlice', '[1,2,3]');
    api.sendRawLine('EndpointSlice', '"str"');
    api.sendRawLine('Node', '{}');
    await waitFor(() => w.status().perResource.node.rejectedEvents === 1 && w.status().perResource.endpointslice.rejectedEvents === 2);
    const metrics = createMetrics({ backendMetrics: false, view: fakeAgentView().view, watchStatus: () => w.status() });
    const text = await metrics.render();
    const samples = text.split('\n').filter((l) => l.startsWith('ipvs_sentinel_watch_events_rejected_total'));
    expect(samples.sort()).toEqual([
      'ipvs_sentinel_watch_events_rejected_total{resource="configmap"} 0',
      'ipvs_sentinel_watch_events_rejected_total{resource="endpointslice"} 2',
      'ipvs_sentinel_watch_events_rejected_total{resource="node"} 1',
      'ipvs_sentinel_watch_events_rejected_total{resource="service"} 0',
    ]);
    expect(text).toContain('# TYPE ipvs_sentinel_watch_events_rejected_total counter');
    // Without informers (--cluster-state) the family is not there at all.
    expect(await createMetrics({ backendMetrics: false, view: fakeAgentView().view }).render()).not.toContain('watch_events_rejected_total');
  });
});

describe('a watch answered 200 that delivers nothing valid', () => {
  it.each([
    ['an empty body', ''],
    ['a null body', 'null\n'],
    ['garbage', '<html>\n<body>upstream connect error</body>\n</html>\n'],
    ['a cut-off event', '{"type":"ADDED","object":{"metadata":{"na'],
  ])('%s: the watch is retried on the backoff schedule, logged once, and the cluster is reported failing', async (_name, body) => {
    api.injectFaults(Infinity, { body }, (r) => r.watch && r.path === PATHS.service);
    const { logger, lines } = logCapture();
    const fakeNow = { offsetMs: 0 };
    let w: ClusterWatch | undefined;
    const source = new WatchClusterSource(
      (onChange) => {
        w = start({ logger, onChange: (event) => onChange(event) });
        return w;
      },
      () => new Date(Date.now() + fakeNow.offsetMs),
    );
    if (!w) throw new Error('no watch');
    const started = w;
    await started.whenSynced();
    const failing = await waitFor(() => started.status().perResource.service.unreachableSince, { what: 'the service watch failing' });
    await waitFor(() => attempts(api, PATHS.service, true).length >= 6, { what: 'six watch attempts' });

    expectBackoffSchedule(attempts(api, PATHS.service, true), BACKOFF);
    const status = started.status();
    expect(status.perResource.service).toMatchObject({ synced: true, lists: 1, unreachableSince: failing });
    expect(status.perResource.service.lastError).toMatch(/^KUBE_API_MALFORMED \(watch \/api\/v1\/services\): the watch ended after \d+ ms without a valid event/);
    expect(status.lastError).toMatch(/^service: KUBE_API_MALFORMED/);
    // The other resources are not affected.
    for (const resource of RESOURCES.filter((r) => r !== 'service')) expect(status.perResource[resource].unreachableSince).toBeNull();

    const warned = lines.filter((l) => l.msg === 'cluster watch failing; retrying with backoff');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, resource: 'service' });
    expect(lines.filter((l) => l.msg === 'cluster watch recovered')).toEqual([]);

    // Past the bound the cluster check is unknown, with the reason.
    fakeNow.offsetMs = 31_000;
    const state = source.current(nodeFacts({ name: NODE }), config());
    expect(state.desired).toBeNull();
    expect(state.unknownReason).toMatch(/^the Kubernetes API has been unreachable for 3\d s \(service: KUBE_API_MALFORMED .* without a valid event.*\): the cached cluster may be stale$/);

    // Healed, the watch recovers by itself and the status with it.
    api.healFaults();
    api.create('Service', svc('after'));
    await waitFor(() => started.status().unreachableSince === null && cachedNames(started, 'service').includes('after'), { what: 'recovery' });
    fakeNow.offsetMs = 0;
    expect(source.current(nodeFacts({ name: NODE }), config()).unknownReason).toBeNull();
    await source.stop();
  });
});

describe('a list answer that is not a list', () => {
  const list = (items: unknown, extra: Record<string, unknown> = {}): StandinFault => ({ body: JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items, ...extra }) });
  it.each<[string, StandinFault, RegExp, number]>([
    ['items that are not an array', list({ a: 1 }), /items is an object, not an array/, 0],
    ['an item that is not an object', list([{ metadata: { name: 'ok', namespace: 'default', resourceVersion: '3' } }, 7]), /1 of 2 items rejected; item 1: the object is a number/, 1],
    ['items without metadata', list([{ spec: {} }, null]), /2 of 2 items rejected; item 0: metadata is missing/, 2],
    ['no resourceVersion', list([], { metadata: {} }), /metadata.resourceVersion is missing/, 0],
    ['another kind of list', { body: JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '5' }, items: [] }) }, /kind "PodList" where ServiceList was asked for/, 0],
    ['null', { body: 'null' }, /the answer is null, not a list/, 0],
    ['an empty body', { body: '' }, /not JSON \(0 bytes, empty\)/, 0],
    ['JSON garbage', { body: '{"kind":"ServiceList","items":[{' }, /not JSON \(\d+ bytes, cut off or garbage\)/, 0],
    ['a body cut off mid-way', { truncate: 40 }, /the answer was cut off: aborted/, 0],
  ])('%s: a coded error, retried with backoff until a good answer syncs it', async (_name, fault, reason, rejectedPerAnswer) => {
    api.injectFaults(3, fault, (r) => !r.watch && r.path === PATHS.service);
    const { logger, lines } = logCapture();
    const w = start({ logger });
    await w.whenSynced();
    const status = w.status().perResource.service;
    expect(status).toMatchObject({ synced: true, lists: 1, restarts: 3, unreachableSince: null, rejectedEvents: 3 * rejectedPerAnswer });
    expect(status.lastError).toMatch(/^KUBE_API_MALFORMED \(list \/api\/v1\/services\): /);
    expect(status.lastError).toMatch(reason);
    expect(cachedNames(w, 'service')).toEqual(['web']);
    expect(attempts(api, PATHS.service, false)).toHaveLength(4);
    expectBackoffSchedule(attempts(api, PATHS.service, false), BACKOFF);
    expect(lines.filter((l) => l.msg === 'cluster watch failing; retrying with backoff')).toHaveLength(1);
  });

  it('a relist answered with garbage keeps the cache it had until a good list replaces it', async () => {
    const w = start();
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    await api.stop();
    api.create('Service', svc('new'));
    api.compactHistory();
    api.injectFaults(2, { body: '{"items":' }, (r) => !r.watch && r.path === PATHS.service);
    await api.start();
    await waitFor(() => w.status().perResource.service.lists === 2, { what: 'the relist' });
    expect(w.status().perResource.service.restarts).toBeGreaterThanOrEqual(2);
    expect(w.status().perResource.service.lastError).toMatch(/^KUBE_API_MALFORMED \(list \/api\/v1\/services\): the answer is not JSON/);
    expect(cachedNames(w, 'service')).toEqual(['new', 'web']);
    expect(events.filter((e) => e.type === 'delete')).toEqual([]);
  });

  it('a list that never completes times out with a coded error and is retried', async () => {
    api.injectFaults(2, { hang: true }, (r) => !r.watch && r.path === PATHS.node);
    // Long enough that a real list answers in time on a loaded machine; only the hung ones time out.
    const w = start({ listTimeoutMs: 1500 });
    await w.whenSynced();
    expect(w.status().perResource.node).toMatchObject({ synced: true, restarts: 2, lastError: 'KUBE_API_ERROR (list /api/v1/nodes): no complete answer within 1.5 s' });
  });
});

describe('recovery after API faults', () => {
  it('after refusals and unanswered watches, every resource watches again after attempts that follow the backoff', async () => {
    const { logger, lines } = logCapture();
    const backoff = { ...BACKOFF, maxMs: 80 };
    // Long enough that a real watch answers in time on a loaded machine; only the hung one times out.
    const w = start({ logger, backoff, watchAnswerTimeoutMs: 1000 });
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    const refusals = 5;
    for (const resource of RESOURCES) {
      const isWatch = (r: { path: string; watch: boolean }): boolean => r.watch && r.path === PATHS[resource];
      api.injectErrors(refusals, { status: 403, match: isWatch });
      api.injectFaults(1, { hang: true }, isWatch);
    }
    // The open watches are cut (a restarted API server, a proxy gone): then 403s, then no answer at all.
    await api.stop();
    api.clearRequests();
    changeEveryResource(api, 1);
    await api.start();

    await waitFor(() => w.status().unreachableSince === null && api.watchCount() === 4 && RESOURCES.every((r) => events.some((e) => e.resource === r && Number(e.object.metadata.resourceVersion) > SEEDED_RV)), {
      what: 'every resource watching again',
    });
    await sleep(100);
    const status = w.status();
    for (const resource of RESOURCES) {
      // One failed reconnect while the API was down, the refusals, the unanswered one, then the watch that stays.
      const times = attempts(api, PATHS[resource], true);
      expect(times.length, resource).toBe(refusals + 2);
      expectBackoffSchedule(times, backoff, 2);
      expect(attempts(api, PATHS[resource], false), `${resource} resumed without a relist`).toEqual([]);
      expect(status.perResource[resource]).toMatchObject({ synced: true, lists: 1, unreachableSince: null, lastError: expect.stringMatching(/got no answer within 1 s/) as unknown });
    }
    expect(lines.filter((l) => l.msg === 'cluster watch failing; retrying with backoff').map((l) => l.resource).sort()).toEqual([...RESOURCES].sort());
    expect(lines.filter((l) => l.msg === 'cluster watch recovered').map((l) => l.resource).sort()).toEqual([...RESOURCES].sort());
  });

  it('a watch that reopens and stays quiet counts as recovered once it has been open a while', async () => {
    // No bookmarks and no changes: only the open connection tells of a healthy API.
    const quiet = await KubeApiStandin.start({ bookmarkIntervalMs: 0 });
    seed(quiet);
    try {
      const w = start({ kubeConfig: standinKubeConfig(quiet.url), watchHealthyAfterMs: 50 });
      await w.whenSynced();
      await waitFor(() => quiet.watchCount() === 4);
      await quiet.stop();
      await waitFor(() => RESOURCES.every((r) => w.status().perResource[r].unreachableSince !== null), { what: 'every watch failing' });
      events.length = 0;
      await quiet.start();
      await waitFor(() => w.status().unreachableSince === null, { what: 'recovered without an event' });
      expect(quiet.watchCount()).toBe(4);
      expect(events).toEqual([]);
    } finally {
      await watch?.stop();
      watch = undefined;
      await quiet.stop();
    }
  });
});
