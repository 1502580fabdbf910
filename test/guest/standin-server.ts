/**
 * Runs inside the guest, bundled by the harness (STANDIN_SERVER in harness.ts) or under tsx
 * (bench/agent-scale.ts): the Kubernetes API stand-in (test/support/kube-api-standin.ts) as a
 * process, so the agent talks to it over real HTTP, plus a control endpoint on another loopback port
 * through which the guest script changes the cluster and the API server's fate.
 *
 *   tsx test/guest/standin-server.ts --port 6443 --control 6444 --ready FILE
 *       (--fixture kubectl-list.yaml | --synthetic SERVICES --table IPVSADM_FILE --addresses FILE)
 *
 * Control (POST a JSON array of ops to /ops, applied in order, atomically for the agent):
 *   {"op":"create"|"update","object":{...kind, metadata...}}   {"op":"delete","kind","name","namespace"}
 *   {"op":"stop"}  {"op":"start"}  {"op":"compact"}  {"op":"inject","status":403,"methods":["POST","PATCH"]}  {"op":"heal"}
 * Events (events.k8s.io/v1) and nodes/status are served too (test/support/kube-api-events.ts).
 * GET /requests: the API requests seen so far, each {at, method, path, query}; GET /state: rv, running, watches.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { KubeApiStandin, type StandinKind, type WireObject } from '../support/kube-api-standin.js';
import { installEventsApi } from '../support/kube-api-events.js';

const KINDS: readonly StandinKind[] = ['Service', 'EndpointSlice', 'Node', 'ConfigMap'];

type Op =
  | { op: 'create' | 'update'; object: WireObject }
  | { op: 'delete'; kind: StandinKind; name: string; namespace?: string }
  | { op: 'stop' | 'start' | 'compact' | 'heal' }
  /** Answer every request whose method is among `methods` (default all) with this error Status until healed. */
  | { op: 'inject'; status: number; methods?: string[] };

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '6443' },
    control: { type: 'string', default: '6444' },
    ready: { type: 'string' },
    fixture: { type: 'string' },
    synthetic: { type: 'string' },
    table: { type: 'string' },
    addresses: { type: 'string' },
  },
});

function isKind(kind: unknown): kind is StandinKind {
  return typeof kind === 'string' && (KINDS as readonly string[]).includes(kind);
}

/** Every object of a `kubectl get -o yaml` List (or several documents) the stand-in serves. */
async function fixtureObjects(file: string): Promise<WireObject[]> {
  const objects: WireObject[] = [];
  for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
    const value = doc.toJS() as { kind?: string; items?: WireObject[] } | null;
    if (!value) continue;
    for (const obj of value.kind === 'List' ? (value.items ?? []) : [value as WireObject]) if (isKind(obj.kind)) objects.push(obj);
  }
  return objects;
}

const ENDPOINTS_PER_SERVICE = 10;

/** 10.96.0.0/12 ClusterIPs and 10.128.0.0/9 pod addresses, one per index. */
const clusterIp = (i: number): string => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const podIp = (k: number): string => `10.${128 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;

/**
 * A synthetic cluster: `services` ClusterIP Services with one TCP port and ten ready endpoints each,
 * the worker-1 Node, and the IPVS table (ipvsadm -R input) and kube-ipvs0 addresses kube-proxy
 * would program for it.
 */
function syntheticCluster(services: number): { objects: WireObject[]; table: string; addresses: string } {
  const objects: WireObject[] = [
    {
      kind: 'Node',
      metadata: { name: 'worker-1', labels: { 'kubernetes.io/hostname': 'worker-1' } },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.10' }, { type: 'Hostname', address: 'worker-1' }] },
      spec: { podCIDR: '10.244.0.0/24' },
    },
  ];
  const table: string[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < services; i++) {
    const namespace = `team-${i % 50}`;
    const name = `svc-${i}`;
    const ip = clusterIp(i);
    objects.push({
      kind: 'Service',
      metadata: { name, namespace, labels: { app: name } },
      spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: name } },
    });
    const endpoints = Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, j) => ({
      addresses: [podIp(i * ENDPOINTS_PER_SERVICE + j)],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `worker-${j % 3}`,
    }));
    objects.push({
      kind: 'EndpointSlice',
      metadata: { name: `${name}-abcde`, namespace, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      addressType: 'IPv4',
      endpoints,
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    table.push(`-A -t ${ip}:80 -s rr`);
    for (const e of endpoints) table.push(`-a -t ${ip}:80 -r ${e.addresses[0]}:8080 -m -w 1`);
    addresses.push(`addr add ${ip}/32 dev kube-ipvs0`);
  }
  return { objects, table: table.join('\n') + '\n', addresses: addresses.join('\n') + '\n' };
}

const started = performance.now();
const api = await KubeApiStandin.start({ historyLimit: 10_000, port: Number(values.port) });
installEventsApi(api);

let objects: WireObject[] = [];
if (values.fixture) objects = await fixtureObjects(values.fixture);
if (values.synthetic) {
  const cluster = syntheticCluster(Number(values.synthetic));
  objects = cluster.objects;
  if (values.table) writeFileSync(values.table, cluster.table);
  if (values.addresses) writeFileSync(values.addresses, cluster.addresses);
}
for (const obj of objects) api.create(obj.kind as StandinKind, obj);

const requestTimes: number[] = [];
let seen = 0;
/** Stamp requests with the time they were noticed (the stand-in's log has no times). */
const stampRequests = (): void => {
  const now = Date.now();
  while (seen < api.requests.length) {
    requestTimes.push(now);
    seen++;
  }
};
setInterval(stampRequests, 100).unref();

function apply(op: Op): unknown {
  switch (op.op) {
    case 'create':
    case 'update': {
      const kind = op.object.kind;
      if (!isKind(kind)) throw new Error(`unknown kind ${String(kind)}`);
      return op.op === 'create' ? api.create(kind, op.object) : api.update(kind, op.object);
    }
    case 'delete':
      return api.delete(op.kind, { name: op.name, ...(op.namespace !== undefined ? { namespace: op.namespace } : {}) });
    case 'stop':
      return api.stop();
    case 'start':
      return api.start();
    case 'compact':
      return api.compactHistory();
    case 'inject':
      return api.injectFaults(Infinity, { status: op.status }, (r) => op.methods === undefined || op.methods.includes(r.method));
    case 'heal':
      return api.healFaults();
  }
}

const control = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      stampRequests();
      try {
        if (req.method === 'POST' && req.url === '/ops') {
          const ops = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Op[];
          for (const op of ops) await apply(op);
          console.log(JSON.stringify({ at: new Date().toISOString(), ops: ops.map((o) => o.op), rv: api.resourceVersion }));
          res.end(JSON.stringify({ ok: true, resourceVersion: api.resourceVersion }));
        } else if (req.url === '/requests') {
          res.end(JSON.stringify(api.requests.map((r, i) => ({ at: requestTimes[i] ?? Date.now(), ...r }))));
        } else if (req.url === '/state') {
          res.end(JSON.stringify({ resourceVersion: api.resourceVersion, running: api.running, watches: api.watchCount() }));
        } else {
          res.statusCode = 404;
          res.end('not found\n');
        }
      } catch (err) {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: String(err) }));
      }
    })();
  });
});
control.listen(Number(values.control), '127.0.0.1', () => {
  const ready = { objects: objects.length, startupMs: Math.round(performance.now() - started), resourceVersion: api.resourceVersion };
  console.log(JSON.stringify(ready));
  if (values.ready) writeFileSync(values.ready, JSON.stringify(ready));
});

const shutdown = (): void => {
  void api.stop().then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
