/* global fetch, AbortSignal, setTimeout */
// Runs inside the guest: the cluster's churn for the soak. Drives the API stand-in's control port
// (test/guest/standin-server.ts, POST /ops) with a seeded random sequence of changes, a few per
// second: Services (ClusterIP or NodePort, one or two ports) created with their EndpointSlice,
// scaled up, scaled down by turning endpoints terminating (ready false, serving true) and later
// deleting them, and deleted — bounded to --max-services at once.
//
//   node churn.mjs --control http://127.0.0.1:6444 --seed 1 --duration-s 60 --max-services 120 \
//     --interval-ms 400 --stats FILE
//
// Each change is one POST, applied atomically by the stand-in. When the time is up (or on SIGTERM)
// it writes {changes, byAction, services, failures} to --stats and exits 0.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    control: { type: 'string', default: 'http://127.0.0.1:6444' },
    seed: { type: 'string', default: '1' },
    'duration-s': { type: 'string', default: '60' },
    'max-services': { type: 'string', default: '120' },
    'interval-ms': { type: 'string', default: '400' },
    node: { type: 'string', default: 'worker-1' },
    stats: { type: 'string' },
  },
});
const MAX_SERVICES = Number(values['max-services']);
const INTERVAL_MS = Number(values['interval-ms']);
const END = Date.now() + Number(values['duration-s']) * 1000;
const NODES = [values.node, 'worker-2', 'worker-3'];
const NAMESPACES = ['shop', 'payments', 'search', 'batch'];

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = generator(Number(values.seed));
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (items) => items[Math.floor(random() * items.length)];

// Addresses are never reused within a run, so a late kube-proxy sync cannot be mistaken for a new one.
let serial = 0;
let podSerial = 0;
const clusterIp = (n) => `10.96.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
const podIp = (n) => `10.244.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;

/** name → { namespace, name, type, ports: [{name, port, protocol, targetPort, nodePort}], clusterIP, endpoints: [{ip, node, terminating}] } */
const services = new Map();

function serviceObject(s) {
  return {
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name } },
    spec: {
      type: s.type,
      clusterIP: s.clusterIP,
      clusterIPs: [s.clusterIP],
      ipFamilies: ['IPv4'],
      ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, targetPort: p.targetPort, ...(s.type === 'NodePort' ? { nodePort: p.nodePort } : {}) })),
      selector: { app: s.name },
      ...(s.type === 'NodePort' ? { externalTrafficPolicy: 'Cluster' } : {}),
    },
  };
}

function sliceObject(s) {
  return {
    kind: 'EndpointSlice',
    metadata: { name: `${s.name}-soak`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    endpoints: s.endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: e.terminating ? { ready: false, serving: true, terminating: true } : { ready: true, serving: true, terminating: false },
      nodeName: e.node,
    })),
    ports: s.ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: p.protocol })),
  };
}

const newEndpoint = () => ({ ip: podIp(podSerial++), node: pick(NODES), terminating: false });

function createService() {
  const n = serial++;
  const type = random() < 0.3 ? 'NodePort' : 'ClusterIP';
  const ports = [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30000 + ((n * 2) % 2700) }];
  if (random() < 0.3) ports.push({ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353, nodePort: 30001 + ((n * 2) % 2700) });
  const s = { namespace: pick(NAMESPACES), name: `svc-${n}`, type, ports, clusterIP: clusterIp(n), endpoints: Array.from({ length: int(0, 4) }, newEndpoint) };
  services.set(s.name, s);
  return [
    { op: 'create', object: serviceObject(s) },
    { op: 'create', object: sliceObject(s) },
  ];
}

function scaleUp(s) {
  for (let i = int(1, 3); i > 0; i--) s.endpoints.push(newEndpoint());
  return [{ op: 'update', object: sliceObject(s) }];
}

function startTerminating(s) {
  const ready = s.endpoints.filter((e) => !e.terminating);
  for (let i = Math.min(ready.length, int(1, 2)); i > 0; i--) ready.splice(Math.floor(random() * ready.length), 1)[0].terminating = true;
  return [{ op: 'update', object: sliceObject(s) }];
}

function removeTerminating(s) {
  s.endpoints = s.endpoints.filter((e) => !e.terminating);
  return [{ op: 'update', object: sliceObject(s) }];
}

function deleteService(s) {
  services.delete(s.name);
  return [
    { op: 'delete', kind: 'EndpointSlice', namespace: s.namespace, name: `${s.name}-soak` },
    { op: 'delete', kind: 'Service', namespace: s.namespace, name: s.name },
  ];
}

/** One change, weighted toward growth while small and toward deletion near the bound. */
function nextChange() {
  const all = [...services.values()];
  const fill = all.length / MAX_SERVICES;
  const roll = random();
  if (all.length === 0 || (roll < 0.35 * (1 - fill) && all.length < MAX_SERVICES)) return ['create', createService()];
  const s = pick(all);
  const terminating = s.endpoints.some((e) => e.terminating);
  if (roll < 0.35 + 0.1 * fill) return ['delete', deleteService(s)];
  if (terminating && roll < 0.6) return ['remove-terminating', removeTerminating(s)];
  if (s.endpoints.some((e) => !e.terminating) && roll < 0.8) return ['terminate', startTerminating(s)];
  if (s.endpoints.length < 12) return ['scale-up', scaleUp(s)];
  return ['terminate', startTerminating(s)];
}

const stats = { changes: 0, byAction: {}, failures: 0, services: 0 };
function finish() {
  stats.services = services.size;
  if (values.stats) writeFileSync(values.stats, JSON.stringify(stats));
  process.exit(0);
}
process.on('SIGTERM', finish);

while (Date.now() < END) {
  const [action, ops] = nextChange();
  try {
    const res = await fetch(`${values.control}/ops`, { method: 'POST', body: JSON.stringify(ops), signal: AbortSignal.timeout(20_000) });
    if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
    stats.changes++;
    stats.byAction[action] = (stats.byAction[action] ?? 0) + 1;
  } catch (err) {
    // A refused change leaves this process's view ahead of the API's: the run's figures say so.
    stats.failures++;
    console.error(JSON.stringify({ at: new Date().toISOString(), action, error: String(err) }));
  }
  await new Promise((r) => setTimeout(r, INTERVAL_MS * (0.5 + random())));
}
finish();
