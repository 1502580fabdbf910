/** The real client-node 1.4 informers, through startClusterWatch, against the API stand-in. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startClusterWatch, type ClusterEvent, type ClusterWatch, type ClusterWatchOptions } from '../../../src/cluster/informers.js';
import { KubeApiStandin, type StandinKind, type WireObject } from '../../support/kube-api-standin.js';
import { standinKubeConfig } from '../../support/standin-kubeconfig.js';
import { sleep, waitFor } from '../../support/wait.js';

const NODE = 'node-1';
const HEADLESS = 'service.kubernetes.io/headless';
const PROXY_NAME = 'service.kubernetes.io/service-proxy-name';

function svc(name: string, labels: Record<string, string> = {}, clusterIP = '10.96.0.10'): WireObject {
  return { metadata: { name, namespace: 'default', labels }, spec: { clusterIP, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } };
}

function slice(name: string, service: string, ips: string[], labels: Record<string, string> = {}): WireObject {
  return {
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service, ...labels } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

function node(name: string, ip: string): WireObject {
  return { metadata: { name, managedFields: [{ manager: 'kubelet' }] }, status: { addresses: [{ type: 'InternalIP', address: ip }], images: [{ names: ['pause'] }] } };
}

function seed(api: KubeApiStandin): void {
  api.create('Service', svc('web'));
  api.create('Service', svc('proxied', { [PROXY_NAME]: 'other-proxy' }));
  api.create('Service', svc('db', { [HEADLESS]: '' }, 'None'));
  api.create('EndpointSlice', slice('web-abc', 'web', ['10.244.1.7']));
  api.create('EndpointSlice', slice('db-abc', 'db', ['10.244.1.8'], { [HEADLESS]: '' }));
  api.create('Node', node(NODE, '192.168.1.10'));
  api.create('Node', node('node-2', '192.168.1.11'));
  api.create('ConfigMap', { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': 'mode: ipvs\n' } });
  api.create('ConfigMap', { metadata: { name: 'coredns', namespace: 'kube-system' }, data: {} });
}

const KIND_OF = { service: 'Service', endpointslice: 'EndpointSlice', node: 'Node', configmap: 'ConfigMap' } as const satisfies Record<ClusterEvent['resource'], StandinKind>;

function names(objects: readonly { metadata?: { namespace?: string; name?: string } }[]): string[] {
  return objects.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`).sort();
}

/** name → resourceVersion of what the informer caches, and of what the stand-in holds through the same filter. */
function versions(objects: readonly { metadata?: { namespace?: string; name?: string; resourceVersion?: string } }[]): Record<string, string> {
  return Object.fromEntries(objects.map((o) => [`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, o.metadata?.resourceVersion ?? '']));
}

function standinView(api: KubeApiStandin, kind: StandinKind): WireObject[] {
  return api.list(kind).filter((o) => {
    const labels = o.metadata.labels ?? {};
    if (kind === 'Service' || kind === 'EndpointSlice') return !(HEADLESS in labels) && !(PROXY_NAME in labels);
    if (kind === 'Node') return o.metadata.name === NODE;
    return o.metadata.namespace === 'kube-system' && o.metadata.name === 'kube-proxy';
  });
}

/** A consumer's own map, built only from onChange events: it must end equal to the stand-in. */
class EventLog {
  readonly events: ClusterEvent[] = [];
  readonly state = new Map<string, string>();
  readonly duplicateAdds: string[] = [];

  readonly onChange = (event: ClusterEvent): void => {
    this.events.push(event);
    const key = `${event.resource}:${event.object.metadata?.namespace ?? ''}/${event.object.metadata?.name ?? ''}`;
    if (event.type === 'add' && this.state.has(key)) this.duplicateAdds.push(key);
    if (event.type === 'delete') this.state.delete(key);
    else this.state.set(key, event.object.metadata?.resourceVersion ?? '');
  };

  expected(api: KubeApiStandin): Map<string, string> {
    const expected = new Map<string, string>();
    for (const resource of Object.keys(KIND_OF) as (keyof typeof KIND_OF)[]) {
      for (const o of standinView(api, KIND_OF[resource])) expected.set(`${resource}:${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion ?? '');
    }
    return expected;
  }
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

let api: KubeApiStandin;
let watch: ClusterWatch | undefined;
let log: EventLog;

function start(overrides: Partial<ClusterWatchOptions> = {}): ClusterWatch {
  watch = startClusterWatch({
    kubeConfig: standinKubeConfig(api.url),
    nodeName: NODE,
    onChange: log.onChange,
    backoff: { initialMs: 20, maxMs: 100, jitter: 0 },
    watchTimeoutSeconds: 60,
    ...overrides,
  });
  return watch;
}

beforeEach(async () => {
  api = await KubeApiStandin.start({ bookmarkIntervalMs: 25 });
  log = new EventLog();
  seed(api);
});

afterEach(async () => {
  await watch?.stop();
  watch = undefined;
  await api.stop();
});

describe('startClusterWatch', () => {
  it('lists every resource with kube-proxy selectors, reports synced, then watches with bookmarks and a timeout', async () => {
    const w = start();
    expect(w.status().synced).toBe(false);
    await w.whenSynced();
    const status = w.status();
    expect(status).toMatchObject({ synced: true, lastError: null, unreachableSince: null });
    for (const r of ['service', 'endpointslice', 'node', 'configmap'] as const) {
      expect(status.perResource[r]).toMatchObject({ synced: true, lists: 1, restarts: 0, lastError: null });
      expect(status.perResource[r].lastContact).toBeInstanceOf(Date);
    }
    expect(names(w.cached('service'))).toEqual(['default/web']);
    expect(names(w.cached('endpointslice'))).toEqual(['default/web-abc']);
    expect(names(w.cached('node'))).toEqual(['/node-1']);
    expect(names(w.cached('configmap'))).toEqual(['kube-system/kube-proxy']);
    expect(log.state).toEqual(log.expected(api));

    await waitFor(() => api.watchCount() === 4);
    const selector = '!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name';
    const byPath = (path: string, watching: boolean) => api.requests.filter((r) => r.path === path && (r.query.watch === 'true') === watching);
    expect(byPath('/api/v1/services', false)[0]?.query).toEqual({ labelSelector: selector, limit: '500' });
    expect(byPath('/apis/discovery.k8s.io/v1/endpointslices', true)[0]?.query).toMatchObject({
      labelSelector: selector,
      allowWatchBookmarks: 'true',
      timeoutSeconds: '60',
      resourceVersion: api.resourceVersion,
    });
    expect(byPath('/api/v1/nodes', true)[0]?.query).toMatchObject({ fieldSelector: 'metadata.name=node-1' });
    expect(byPath('/api/v1/namespaces/kube-system/configmaps', false)[0]?.query).toMatchObject({ fieldSelector: 'metadata.name=kube-proxy' });
  });

  it('hands objects on converted to the model, with the identity the informer caches them by, listed or watched', async () => {
    const w = start();
    await w.whenSynced();
    const isNode = (e: ClusterEvent): e is Extract<ClusterEvent, { resource: 'node' }> => e.resource === 'node';
    const cached = (ip: string): unknown => ({
      metadata: { name: NODE, uid: expect.any(String) as unknown, resourceVersion: expect.any(String) as unknown },
      converted: { name: NODE, zone: null, addresses: [{ type: 'InternalIP', address: ip }] },
      problem: null,
    });
    const listed = log.events.find(isNode);
    expect(listed?.object).toEqual(cached('192.168.1.10'));
    api.update('Node', node(NODE, '192.168.1.20'));
    const watched = await waitFor(() => log.events.filter(isNode).find((e) => e.type === 'update'));
    expect(watched.object).toEqual(cached('192.168.1.20'));
    // Nothing of the wire object (managedFields, images, timestamps) is left in the informer's cache.
    expect(w.cached('node')).toEqual([cached('192.168.1.20')]);
    const configMap = log.events.find((e) => e.resource === 'configmap');
    expect(configMap?.object.converted).toBe('mode: ipvs\n');
  });

  it('delivers add, update and delete events as they happen', async () => {
    const w = start();
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    log.events.length = 0;
    api.create('Service', svc('api'));
    api.update('EndpointSlice', slice('web-abc', 'web', ['10.244.1.7', '10.244.2.9']));
    api.delete('Service', { name: 'web', namespace: 'default' });
    api.update('ConfigMap', { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': 'mode: ipvs\nipvs:\n  scheduler: lc\n' } });
    api.update('Node', node(NODE, '192.168.1.20'));
    await waitFor(() => log.events.length >= 5);
    // One stream per resource: order holds within a resource, not across them.
    const seen = log.events.map((e) => [e.type, e.resource, e.object.metadata?.name]);
    expect(seen.sort()).toEqual([
      ['add', 'service', 'api'],
      ['update', 'endpointslice', 'web-abc'],
      ['delete', 'service', 'web'],
      ['update', 'configmap', 'kube-proxy'],
      ['update', 'node', NODE],
    ].sort());
    expect(log.state).toEqual(log.expected(api));
  });

  it('ignores objects kube-proxy ignores, and drops a Service that gains the service-proxy-name label', async () => {
    const w = start();
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    log.events.length = 0;
    api.create('Service', svc('other', { [PROXY_NAME]: 'cilium' }));
    api.create('EndpointSlice', slice('db-def', 'db', ['10.244.3.3'], { [HEADLESS]: '' }));
    api.create('ConfigMap', { metadata: { name: 'kube-proxy', namespace: 'default' } });
    api.update('Node', node('node-2', '192.168.1.99'));
    api.update('Service', svc('web', { [PROXY_NAME]: 'cilium' }));
    await waitFor(() => log.events.length >= 1);
    await sleep(50);
    expect(log.events.map((e) => [e.type, e.resource, e.object.metadata?.name])).toEqual([['delete', 'service', 'web']]);
    expect(names(w.cached('node'))).toEqual(['/node-1']);
  });

  it('advances its resourceVersion on bookmarks without emitting events', async () => {
    const w = start();
    await w.whenSynced();
    const synced = w.status().perResource.service.resourceVersion;
    log.events.length = 0;
    api.create('Service', svc('ignored', { [PROXY_NAME]: 'cilium' }));
    api.create('ConfigMap', { metadata: { name: 'unrelated', namespace: 'default' } });
    await waitFor(() => w.status().perResource.service.resourceVersion === api.resourceVersion, { what: 'a bookmark' });
    expect(Number(w.status().perResource.service.resourceVersion)).toBeGreaterThan(Number(synced));
    expect(log.events).toEqual([]);
  });

  it('relists after 410 Gone and ends with the stand-in state, no lost or duplicated objects', async () => {
    const w = start();
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    const syncedAt = api.resourceVersion;
    await api.stop();
    api.create('Service', svc('new'));
    api.update('Service', svc('web', {}, '10.96.0.99'));
    api.delete('EndpointSlice', { name: 'web-abc', namespace: 'default' });
    api.create('EndpointSlice', slice('new-xyz', 'new', ['10.244.5.5']));
    api.update('Service', svc('db')); // loses the headless label: now watched
    api.compactHistory();
    await api.start();

    await waitFor(() => w.status().perResource.service.lists === 2 && w.status().perResource.endpointslice.lists === 2, { what: 'relists' });
    await waitFor(() => w.status().unreachableSince === null);
    for (const [resource, kind] of Object.entries(KIND_OF) as [keyof typeof KIND_OF, StandinKind][]) {
      expect(versions(w.cached(resource))).toEqual(versions(standinView(api, kind)));
    }
    expect(log.state).toEqual(log.expected(api));
    expect(log.duplicateAdds).toEqual([]);
    // The old version was tried (and got 410), then the relist's version is watched.
    const watchedFrom = (): (string | undefined)[] => api.requests.filter((r) => r.path === '/api/v1/services' && r.query.watch === 'true').map((r) => r.query.resourceVersion);
    expect(watchedFrom()).toContain(syncedAt);
    await waitFor(() => watchedFrom().at(-1) === api.resourceVersion, { what: 'watch from the relisted version' });
  });

  it('reports the API unreachable while the stand-in is down, then recovers by itself from where it was', async () => {
    const { logger, lines } = logCapture();
    const w = start({ logger });
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    await api.stop();
    const down = await waitFor(() => w.status().unreachableSince, { what: 'unreachable' });
    api.create('Service', svc('during-outage'));
    await sleep(300);
    const status = w.status();
    expect(status.synced).toBe(true);
    expect(status.lastError).toMatch(/ECONNREFUSED|socket|closed|reset/i);
    expect(status.unreachableSince).toEqual(down);
    expect(Date.now() - down.getTime()).toBeGreaterThanOrEqual(250);

    await api.start();
    await waitFor(() => w.status().unreachableSince === null && log.state.has('service:default/during-outage'), { what: 'recovery' });
    const after = w.status();
    expect(after.lastError).toBeNull();
    expect(after.perResource.service.restarts).toBeGreaterThan(0);
    expect(after.perResource.service.lists).toBe(1); // resumed the watch, no relist needed
    expect(log.state).toEqual(log.expected(api));

    const warn = lines.filter((l) => l.msg === 'cluster watch failing; retrying with backoff');
    expect(warn.map((l) => l.resource).sort()).toEqual(['configmap', 'endpointslice', 'node', 'service']);
    expect(warn[0]).toMatchObject({ level: 40, component: 'cluster' });
    expect(lines.filter((l) => l.msg === 'cluster watch recovered')).toHaveLength(4);
  });

  it('retries a failing first list with backoff until it syncs', async () => {
    api.injectErrors(3, { match: (r) => r.path === '/api/v1/nodes' && !r.watch });
    const w = start();
    await w.whenSynced();
    const nodeStatus = w.status().perResource.node;
    expect(nodeStatus).toMatchObject({ synced: true, restarts: 3, unreachableSince: null });
    expect(nodeStatus.lastError).toBe('HTTP 500: injected error from the test');
  });

  it('names a refused list by the status and the message of the API server', async () => {
    api.injectErrors(100, { status: 403, match: (r) => r.path === '/apis/discovery.k8s.io/v1/endpointslices' && !r.watch });
    const w = start();
    const status = await waitFor(() => (w.status().perResource.endpointslice.lastError !== null ? w.status() : undefined));
    expect(status.synced).toBe(false);
    expect(status.perResource.endpointslice.lastError).toBe('HTTP 403: injected error from the test');
    expect(status.lastError).toBe('endpointslice: HTTP 403: injected error from the test');
  });

  it('falls back to one unpaged list when a continue token has expired', async () => {
    for (const name of ['a', 'b', 'c']) api.create('Service', svc(name));
    api.injectErrors(1, { status: 410, match: (r) => r.path === '/api/v1/services' && r.query.continue !== undefined });
    const w = start({ listPageSize: 2 });
    await w.whenSynced();
    expect(names(w.cached('service'))).toEqual(['default/a', 'default/b', 'default/c', 'default/web']);
    const lists = api.requests.filter((r) => r.path === '/api/v1/services' && r.query.watch === undefined).map((r) => r.query);
    expect(lists.map((q) => [q.limit, q.continue !== undefined])).toEqual([
      ['2', false],
      ['2', true],
      [undefined, false],
    ]);
    expect(w.status().perResource.service.lists).toBe(1);
  });

  it('re-watches from its resourceVersion when the server ends a watch at timeoutSeconds', async () => {
    const w = start({ watchTimeoutSeconds: 1 });
    await w.whenSynced();
    await waitFor(() => api.requests.filter((r) => r.path === '/api/v1/nodes' && r.query.watch === 'true').length >= 2, { timeoutMs: 3000 });
    expect(w.status()).toMatchObject({ lastError: null, unreachableSince: null });
    expect(w.status().perResource.node.lists).toBe(1);
  });

  it('takes a watch that outlives its timeoutSeconds for a dead connection and reconnects', async () => {
    const { logger, lines } = logCapture();
    const w = start({ logger, watchTimeoutSeconds: 1, watchStallGraceMs: 100 });
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    api.freezeWatches();
    api.create('Service', svc('after-freeze'));
    await waitFor(() => log.state.has('service:default/after-freeze'), { timeoutMs: 3000, what: 'event after reconnect' });
    const failing = lines.find((l) => l.resource === 'service' && l.msg === 'cluster watch failing; retrying with backoff');
    expect(failing?.err).toMatch(/past its timeoutSeconds/);
    expect(w.status().perResource.service).toMatchObject({ lists: 1, unreachableSince: null });
  });

  it('keeps going when the event handler throws, and logs it', async () => {
    const { logger, lines } = logCapture();
    const w = start({
      logger,
      onChange: (event) => {
        if (event.object.metadata?.name === 'bad') throw new Error('converter bug');
        log.onChange(event);
      },
    });
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    api.create('Service', svc('bad'));
    api.create('Service', svc('good'));
    await waitFor(() => log.state.has('service:default/good'));
    expect(lines.find((l) => l.msg === 'cluster event handler failed')).toMatchObject({ level: 50, resource: 'service', err: 'converter bug' });
    expect(w.status().perResource.service.resourceVersion).toBe(api.resourceVersion);
  });

  it('stop() closes every watch', async () => {
    const w = start();
    await w.whenSynced();
    await waitFor(() => api.watchCount() === 4);
    await w.stop();
    watch = undefined;
    await waitFor(() => api.watchCount() === 0, { what: 'watches closed' });
    api.create('Service', svc('after-stop'));
    await sleep(50);
    expect(log.state.has('service:default/after-stop')).toBe(false);
  });
});
