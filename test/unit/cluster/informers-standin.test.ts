/** The API stand-in itself, spoken to with plain fetch: the protocol the informers rely on. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiStandin, type WireObject } from '../../support/kube-api-standin.js';
import { waitFor } from '../../support/wait.js';

interface WatchEvent {
  type: string;
  object: { kind?: string; code?: number; reason?: string; metadata: { name?: string; resourceVersion?: string } };
}

/** A watch stream read line by line. */
async function openWatch(url: string): Promise<{ status: number; contentType: string | null; events: WatchEvent[]; ended: () => boolean; close: () => void }> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const events: WatchEvent[] = [];
  let done = false;
  const body = res.body;
  if (!body) throw new Error('no body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, nl)) as WatchEvent);
          buffer = buffer.slice(nl + 1);
        }
      }
    } catch {
      // aborted or dropped
    }
    done = true;
  })();
  return { status: res.status, contentType: res.headers.get('content-type'), events, ended: () => done, close: () => controller.abort() };
}

function svc(name: string, labels: Record<string, string> = {}, namespace = 'default'): WireObject {
  return { metadata: { name, namespace, labels }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, protocol: 'TCP' }] } };
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> & { items?: WireObject[]; metadata?: Record<string, unknown> } }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

let api: KubeApiStandin;
beforeEach(async () => {
  api = await KubeApiStandin.start({ bookmarkIntervalMs: 30 });
});
afterEach(async () => {
  await api.stop();
});

describe('list', () => {
  it('answers a List with the global resourceVersion and items without kind', async () => {
    api.create('Service', svc('a'));
    api.create('ConfigMap', { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: {} });
    const { status, body } = await getJson(`${api.url}/api/v1/services`);
    expect(status).toBe(200);
    expect(body.kind).toBe('ServiceList');
    expect(body.apiVersion).toBe('v1');
    expect(body.metadata).toEqual({ resourceVersion: api.resourceVersion });
    expect(body.items?.map((i) => i.metadata.name)).toEqual(['a']);
    expect(body.items?.[0]).not.toHaveProperty('kind');
    expect(api.requests.at(-1)).toEqual({ method: 'GET', path: '/api/v1/services', query: {} });
  });

  it.each([
    ['', ['plain', 'proxied', 'headless', 'team-a', 'team-b']],
    ['!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name', ['plain', 'team-a', 'team-b']],
    ['service.kubernetes.io/headless', ['headless']],
    ['team=a', ['team-a']],
    ['team==a', ['team-a']],
    ['team!=a', ['plain', 'proxied', 'headless', 'team-b']],
    ['team in (a, b)', ['team-a', 'team-b']],
    ['team notin (a)', ['plain', 'proxied', 'headless', 'team-b']],
    ['team,team!=b', ['team-a']],
  ])('labelSelector %j', async (selector, expected) => {
    api.create('Service', svc('plain'));
    api.create('Service', svc('proxied', { 'service.kubernetes.io/service-proxy-name': 'other' }));
    api.create('Service', svc('headless', { 'service.kubernetes.io/headless': '' }));
    api.create('Service', svc('team-a', { team: 'a' }));
    api.create('Service', svc('team-b', { team: 'b' }));
    const { body } = await getJson(`${api.url}/api/v1/services?labelSelector=${encodeURIComponent(selector)}`);
    expect(body.items?.map((i) => i.metadata.name).sort()).toEqual([...expected].sort());
  });

  it('applies field selectors and namespaced paths, and rejects unsupported fields', async () => {
    api.create('Node', { metadata: { name: 'node-1' } });
    api.create('Node', { metadata: { name: 'node-2' } });
    api.create('ConfigMap', { metadata: { name: 'kube-proxy', namespace: 'kube-system' } });
    api.create('ConfigMap', { metadata: { name: 'other', namespace: 'kube-system' } });
    api.create('ConfigMap', { metadata: { name: 'kube-proxy', namespace: 'default' } });
    const nodes = await getJson(`${api.url}/api/v1/nodes?fieldSelector=metadata.name%3Dnode-2`);
    expect(nodes.body.items?.map((i) => i.metadata.name)).toEqual(['node-2']);
    const cms = await getJson(`${api.url}/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dkube-proxy`);
    expect(cms.body.items?.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['kube-system/kube-proxy']);
    const bad = await getJson(`${api.url}/api/v1/nodes?fieldSelector=spec.unschedulable%3Dtrue`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
  });

  it('pages with limit/continue from one consistent snapshot, and 410s a token older than the compaction', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) api.create('Service', svc(name));
    const first = await getJson(`${api.url}/api/v1/services?limit=2`);
    expect(first.body.items?.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect(first.body.metadata).toMatchObject({ remainingItemCount: 3 });
    const rv = first.body.metadata?.resourceVersion;
    api.delete('Service', { name: 'c', namespace: 'default' });
    const second = await getJson(`${api.url}/api/v1/services?limit=2&continue=${String(first.body.metadata?.continue)}`);
    expect(second.body.items?.map((i) => i.metadata.name)).toEqual(['c', 'd']);
    expect(second.body.metadata?.resourceVersion).toBe(rv);

    api.create('Service', svc('f'));
    api.compactHistory();
    const expired = await getJson(`${api.url}/api/v1/services?limit=2&continue=${String(second.body.metadata?.continue)}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('gets one object, 404s a missing one with a Status, 405s other methods, and serves injected errors', async () => {
    api.create('Node', { metadata: { name: 'node-1' } });
    const node = await getJson(`${api.url}/api/v1/nodes/node-1`);
    expect(node.body).toMatchObject({ kind: 'Node', apiVersion: 'v1', metadata: { name: 'node-1' } });
    const missing = await getJson(`${api.url}/api/v1/namespaces/kube-system/configmaps/kube-proxy`);
    expect(missing).toMatchObject({ status: 404, body: { kind: 'Status', reason: 'NotFound' } });
    const post = await fetch(`${api.url}/api/v1/nodes`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('content-type')).toBe('application/json');
    api.injectErrors(1, { match: (r) => r.path === '/api/v1/nodes' });
    expect((await getJson(`${api.url}/api/v1/nodes`)).status).toBe(500);
    expect((await getJson(`${api.url}/api/v1/nodes`)).status).toBe(200);
  });
});

describe('watch', () => {
  it('replays events after resourceVersion, then streams live ones as newline-delimited JSON', async () => {
    const a = api.create('Service', svc('a'));
    api.update('Service', { ...svc('a'), spec: { clusterIP: '10.96.0.11' } });
    api.create('Service', svc('b'));
    const watch = await openWatch(`${api.url}/api/v1/services?watch=true&resourceVersion=${a.metadata.resourceVersion}`);
    expect(watch.status).toBe(200);
    expect(watch.contentType).toBe('application/json');
    await waitFor(() => watch.events.length >= 2);
    api.delete('Service', { name: 'a', namespace: 'default' });
    await waitFor(() => watch.events.length >= 3);
    expect(watch.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['MODIFIED', 'a'],
      ['ADDED', 'b'],
      ['DELETED', 'a'],
    ]);
    expect(watch.events[2]?.object.metadata.resourceVersion).toBe(api.resourceVersion);
    expect(watch.events[0]?.object.kind).toBe('Service');
    watch.close();
  });

  it('starts with synthetic ADDED events without a resourceVersion', async () => {
    api.create('Service', svc('a'));
    const watch = await openWatch(`${api.url}/api/v1/services?watch=true`);
    await waitFor(() => watch.events.length >= 1);
    expect(watch.events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    watch.close();
  });

  it('turns an object leaving or entering the selector into DELETED / ADDED', async () => {
    api.create('Service', svc('a'));
    const watch = await openWatch(`${api.url}/api/v1/services?watch=true&resourceVersion=${api.resourceVersion}&labelSelector=!service.kubernetes.io%2Fheadless`);
    api.update('Service', svc('a', { 'service.kubernetes.io/headless': '' }));
    api.update('Service', svc('a'));
    await waitFor(() => watch.events.length >= 2);
    expect(watch.events.map((e) => e.type)).toEqual(['DELETED', 'ADDED']);
    watch.close();
  });

  it('sends BOOKMARKs with only the current resourceVersion when allowed, and none otherwise', async () => {
    api.create('Service', svc('a'));
    const plain = await openWatch(`${api.url}/api/v1/services?watch=true&resourceVersion=${api.resourceVersion}`);
    const bookmarked = await openWatch(`${api.url}/api/v1/services?watch=true&resourceVersion=${api.resourceVersion}&allowWatchBookmarks=true`);
    api.create('ConfigMap', { metadata: { name: 'x' } });
    const bookmark = await waitFor(() => bookmarked.events.find((e) => e.type === 'BOOKMARK' && e.object.metadata.resourceVersion === api.resourceVersion));
    expect(bookmark.object).toEqual({ kind: 'Service', apiVersion: 'v1', metadata: { resourceVersion: api.resourceVersion } });
    expect(plain.events).toEqual([]);
    plain.close();
    bookmarked.close();
  });

  it('answers a resourceVersion older than the history with one ERROR 410 Expired event and ends the stream', async () => {
    const a = api.create('Service', svc('a'));
    api.create('Service', svc('b'));
    api.compactHistory();
    const watch = await openWatch(`${api.url}/api/v1/services?watch=true&resourceVersion=${a.metadata.resourceVersion}`);
    expect(watch.status).toBe(200);
    await waitFor(() => watch.ended());
    expect(watch.events).toHaveLength(1);
    expect(watch.events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', status: 'Failure' } });
    expect((watch.events[0]?.object as { message?: string }).message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('keeps only historyLimit events', async () => {
    const small = await KubeApiStandin.start({ historyLimit: 2 });
    try {
      const a = small.create('Service', svc('a'));
      small.create('Service', svc('b'));
      small.create('Service', svc('c'));
      small.create('Service', svc('d'));
      const watch = await openWatch(`${small.url}/api/v1/services?watch=true&resourceVersion=${a.metadata.resourceVersion}`);
      await waitFor(() => watch.ended());
      expect(watch.events[0]?.object).toMatchObject({ code: 410 });
    } finally {
      await small.stop();
    }
  });

  it('closes the stream after timeoutSeconds', async () => {
    const started = Date.now();
    const watch = await openWatch(`${api.url}/api/v1/nodes?watch=true&resourceVersion=${api.resourceVersion}&timeoutSeconds=1`);
    await waitFor(() => watch.ended(), { timeoutMs: 3000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(api.watchCount()).toBe(0);
  });

  it('stop() drops in-flight watches; start() listens again on the same port with the same state', async () => {
    api.create('Service', svc('a'));
    const port = api.port;
    const watch = await openWatch(`${api.url}/api/v1/services?watch=true&resourceVersion=${api.resourceVersion}`);
    await waitFor(() => api.watchCount('Service') === 1);
    await api.stop();
    await waitFor(() => watch.ended());
    await expect(fetch(`${api.url}/api/v1/services`)).rejects.toThrow();
    await api.start();
    expect(api.port).toBe(port);
    const { body } = await getJson(`${api.url}/api/v1/services`);
    expect(body.items?.map((i) => i.metadata.name)).toEqual(['a']);
  });
});
