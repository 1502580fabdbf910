/**
 * The reporter with its real edges — the HTTP writer with client-node's KubeConfig, the sink, the
 * queue — against the API stand-in's events.k8s.io/v1 and nodes/status (test/support/kube-api-events.ts),
 * read back through client-node's own generated EventsV1Api and CoreV1Api.
 */
import { CoreV1Api, EventsV1Api, type EventsV1Event } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetryPacer } from '../../../src/cluster/backoff.js';
import type { DriftReport, TrackedFinding } from '../../../src/drift/types.js';
import { kubeApiWriter } from '../../../src/events/api-write.js';
import type { PollChange } from '../../../src/events/intents.js';
import { KubeSink } from '../../../src/events/kube-sink.js';
import { ClusterReporter } from '../../../src/events/reporter.js';
import { WriteQueue } from '../../../src/events/write-queue.js';
import { installEventsApi, type EventsStandin } from '../../support/kube-api-events.js';
import { KubeApiStandin } from '../../support/kube-api-standin.js';
import { standinKubeConfig } from '../../support/standin-kubeconfig.js';

const NODE = 'worker-1';
const T0 = Date.parse('2026-12-06T10:00:00Z');

interface Line {
  level: string;
  msg: string;
}

const drifting: TrackedFinding = {
  kind: 'missing-real-server',
  severity: 'critical',
  virtualServer: 'TCP/10.96.0.10:53',
  realServer: '10.244.1.5:53',
  subject: 'TCP/10.96.0.10:53 -> 10.244.1.5:53',
  service: { namespace: 'kube-system', name: 'kube-dns', port: 'dns-tcp' },
  expected: null,
  actual: null,
  message: 'real server 10.244.1.5:53 of TCP/10.96.0.10:53 (kube-system/kube-dns:dns-tcp) is missing',
  selfHealing: true,
  id: 'missing-real-server|TCP/10.96.0.10:53 -> 10.244.1.5:53',
  firstSeen: new Date(T0),
  confirmed: true,
};

function report(status: DriftReport['status'], findings: TrackedFinding[] = []): DriftReport {
  return { node: NODE, checkedAt: new Date(T0), status, reason: status === 'unknown' ? 'not polled yet' : null, findings };
}
const confirm: PollChange = { report: report('drift', [drifting]), previousStatus: 'ok', confirmed: [drifting], cleared: [] };
const clear: PollChange = { report: report('ok'), previousStatus: 'drift', confirmed: [], cleared: [drifting] };

let api: KubeApiStandin;
let events: EventsStandin;
let lines: Line[];
let clock: number;
let reporter: ClusterReporter;
let queue: WriteQueue;

beforeEach(async () => {
  api = await KubeApiStandin.start();
  events = installEventsApi(api);
  api.create('Node', { metadata: { name: NODE }, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] } });
  api.create('Service', { metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.10' } });
  lines = [];
  clock = T0;
  const log = (level: string) => (_: Record<string, unknown>, msg: string) => void lines.push({ level, msg });
  const logger = { info: log('info'), warn: log('warn'), debug: log('debug') };
  queue = new WriteQueue({ logger, pacer: new RetryPacer({ initialMs: 5, maxMs: 20 }), timeoutMs: 2000 });
  const sink = new KubeSink(kubeApiWriter(standinKubeConfig(api.url)), `ipvs-sentinel-${NODE}`);
  reporter = new ClusterReporter({ node: NODE, events: true, nodeCondition: true, sink, queue, logger, now: () => new Date(clock) });
});

afterEach(async () => {
  await reporter.stop();
  await api.stop();
});

async function eventsByClient(): Promise<EventsV1Event[]> {
  const client = standinKubeConfig(api.url).makeApiClient(EventsV1Api);
  return (await client.listEventForAllNamespaces()).items;
}

async function condition(): Promise<{ type: string; status: string; reason?: string }[]> {
  const node = await standinKubeConfig(api.url).makeApiClient(CoreV1Api).readNode({ name: NODE });
  return (node.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason }));
}

describe('ClusterReporter against the API stand-in', () => {
  it('confirmed drift: Events on the Node and the Service with reason, note, reporting controller and instance, and uid; the condition False beside Ready', async () => {
    reporter.afterPoll(confirm);
    await queue.idle();
    const seen = await eventsByClient();
    const summary = seen.map((e) => [e.regarding?.kind, e.metadata?.namespace, e.reason, e.type, e.action]).sort();
    expect(summary).toEqual([
      ['Node', 'default', 'IPVSDriftConfirmed', 'Warning', 'Confirmed'],
      ['Node', 'default', 'MissingRealServer', 'Warning', 'Confirmed'],
      ['Service', 'kube-system', 'MissingRealServer', 'Warning', 'Confirmed'],
    ]);
    const onService = seen.find((e) => e.regarding?.kind === 'Service');
    expect(onService).toMatchObject({ reportingController: 'ipvs-sentinel', reportingInstance: 'ipvs-sentinel-worker-1', note: drifting.message });
    expect(onService?.regarding?.uid).toBe(api.get('Service', 'kube-dns', 'kube-system')?.metadata.uid);
    expect(String(onService?.eventTime)).toMatch(/^2026-12-06T10:00:00\.000000Z$/);
    expect(await condition()).toEqual([
      { type: 'Ready', status: 'True', reason: 'KubeletReady' },
      { type: 'IPVSConsistent', status: 'False', reason: 'IPVSDriftConfirmed' },
    ]);
  });

  it('the same drift confirmed again within 6 minutes is folded into the first Event’s series; clearing makes its own Events; the condition goes True', async () => {
    reporter.afterPoll(confirm);
    await queue.idle();
    clock += 30_000;
    reporter.afterPoll(clear);
    await queue.idle();
    expect(await condition()).toContainEqual({ type: 'IPVSConsistent', status: 'True', reason: 'IPVSMatchesKubeProxy' });
    clock += 30_000;
    reporter.afterPoll(confirm);
    await queue.idle();
    const seen = await eventsByClient();
    const onNode = seen.filter((e) => e.regarding?.kind === 'Node' && e.reason === 'MissingRealServer');
    expect(onNode).toHaveLength(1);
    expect(onNode[0]?.series?.count).toBe(2);
    expect(new Date(onNode[0]?.series?.lastObservedTime ?? 0).toISOString()).toBe(new Date(T0 + 60_000).toISOString());
    expect(seen.filter((e) => e.reason === 'MissingRealServerCleared').map((e) => e.regarding?.kind).sort()).toEqual(['Node', 'Service']);
    expect(seen.filter((e) => e.reason === 'IPVSDriftCleared')).toHaveLength(1);
    // Writes: one create per Event, then one series patch each, never a patch before its create.
    const writes = api.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path.replace(/\/[^/]+\.[0-9a-f]+$/, '/<name>')}`);
    expect(writes.filter((w) => w.startsWith('PATCH /apis'))).toHaveLength(3);
  });

  it('an API refusing (403) costs one warning; the poll is never held up; writes recover when it allows them', async () => {
    api.injectFaults(Infinity, { status: 403 }, (r) => r.method !== 'GET');
    reporter.afterPoll(confirm);
    await queue.idle();
    expect(events.events()).toEqual([]);
    expect(lines.filter((l) => l.level !== 'debug')).toEqual([{ level: 'warn', msg: 'Kubernetes writes (Events, NodeCondition) failing: HTTP 403: injected error from the test' }]);
    api.healFaults();
    clock += 10_000;
    reporter.afterPoll(clear);
    await queue.idle();
    // The refused condition is posted again with the next verdict; the refused Events are gone, as client-go gives them up.
    expect(await condition()).toContainEqual({ type: 'IPVSConsistent', status: 'True', reason: 'IPVSMatchesKubeProxy' });
    expect(lines.filter((l) => l.level !== 'debug').map((l) => l.level)).toEqual(['warn', 'info']);
  });

  it('an API away: the writes wait with backoff and are delivered when it is back', async () => {
    await api.stop();
    reporter.afterPoll(confirm);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    await api.start();
    await queue.idle();
    expect(events.events().map((e) => e.reason).sort()).toEqual(['IPVSDriftConfirmed', 'MissingRealServer', 'MissingRealServer']);
    expect(lines.filter((l) => l.level !== 'debug').map((l) => l.level)).toEqual(['warn', 'info']);
  });
});

describe('the events stand-in speaks the API’s shapes', () => {
  const body = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'worker-1.1', namespace: 'default' },
    eventTime: '2026-12-06T10:00:00.000000Z',
    reportingController: 'ipvs-sentinel',
    reportingInstance: 'ipvs-sentinel-worker-1',
    action: 'Confirmed',
    reason: 'MissingRealServer',
    type: 'Warning',
    regarding: { kind: 'Node', name: NODE, apiVersion: 'v1' },
  };
  const post = async (text: unknown, namespace = 'default'): Promise<{ status: number; reason: string | undefined }> => {
    const answer = await kubeApiWriter(standinKubeConfig(api.url))('POST', `/apis/events.k8s.io/v1/namespaces/${namespace}/events`, { contentType: 'application/json', text: JSON.stringify(text) }, AbortSignal.timeout(2000));
    const parsed = JSON.parse(answer.body) as { kind?: string; reason?: string };
    return { status: answer.status, reason: parsed.kind === 'Status' ? parsed.reason : undefined };
  };

  it.each([
    ['created', body, 'default', { status: 201, reason: undefined }],
    ['eventTime with three fractional digits', { ...body, eventTime: '2026-12-06T10:00:00.000Z' }, 'default', { status: 400, reason: 'BadRequest' }],
    ['no reason', { ...body, reason: '' }, 'default', { status: 422, reason: 'Invalid' }],
    ['a note over 1 kB', { ...body, note: 'x'.repeat(1025) }, 'default', { status: 422, reason: 'Invalid' }],
    ['another namespace in the body', body, 'kube-system', { status: 400, reason: 'BadRequest' }],
  ])('%s', async (_, event, namespace, expected) => {
    expect(await post(event, namespace)).toEqual(expected);
  });

  it('409 AlreadyExists for a taken name; 404 NotFound read by client-node’s EventsV1Api', async () => {
    expect(await post(body)).toEqual({ status: 201, reason: undefined });
    expect(await post(body)).toEqual({ status: 409, reason: 'AlreadyExists' });
    const client = standinKubeConfig(api.url).makeApiClient(EventsV1Api);
    const read = await client.readNamespacedEvent({ namespace: 'default', name: 'worker-1.1' });
    expect(read.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    await expect(client.readNamespacedEvent({ namespace: 'default', name: 'nope' })).rejects.toMatchObject({ code: 404 });
  });

  it('client-node’s generated EventsV1Api writes eventTime with three fractional digits, which the API refuses: why the agent writes its own', async () => {
    const client = standinKubeConfig(api.url).makeApiClient(EventsV1Api);
    const event: EventsV1Event = { ...body, eventTime: new Date(T0) };
    await expect(client.createNamespacedEvent({ namespace: 'default', body: event })).rejects.toMatchObject({ code: 400 });
  });
});

describe('KubeSink uids', () => {
  it('a Service deleted and created again gets its new uid on Events once the cached one is 10 minutes old', async () => {
    let clock = 0;
    const sink = new KubeSink(kubeApiWriter(standinKubeConfig(api.url)), 'ipvs-sentinel-worker-1', () => clock);
    const uidOnEvent = async (name: string): Promise<string | undefined> => {
      const event = {
        key: name,
        namespace: 'kube-system',
        name,
        eventTime: new Date(T0),
        series: null,
        intent: { regarding: { apiVersion: 'v1' as const, kind: 'Service' as const, name: 'kube-dns', namespace: 'kube-system' }, type: 'Warning' as const, reason: 'MissingRealServer', action: 'Confirmed' as const, note: 'n', subject: 's' },
      };
      expect(await sink.writeEvent(event, AbortSignal.timeout(2000))).toEqual({ ok: true });
      const stored = events.events().find((e) => e.metadata.name === name);
      return (stored?.regarding as { uid?: string } | undefined)?.uid;
    };
    const first = api.get('Service', 'kube-dns', 'kube-system')?.metadata.uid;
    expect(await uidOnEvent('a.1')).toBe(first);
    api.delete('Service', { name: 'kube-dns', namespace: 'kube-system' });
    const recreated = api.create('Service', { metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.10' } }).metadata.uid;
    clock += 60_000;
    expect(await uidOnEvent('a.2')).toBe(first);
    clock += 10 * 60_000;
    expect(await uidOnEvent('a.3')).toBe(recreated);
    expect(recreated).not.toBe(first);
  });
});
