/* global fetch, AbortSignal, setTimeout */
// Runs inside the guest: a kube-proxy stand-in for the churn soak. Every sync period (a random
// 1..--lag-s seconds, as kube-proxy's syncProxyRules runs at most every sync period after a change)
// it lists Services, EndpointSlices and Nodes from the API stand-in over plain HTTP, computes the
// node's IPVS table and kube-ipvs0 addresses, and reprograms both by a diff against `ipvsadm -Sn`
// and kube-ipvs0's addresses, as pkg/proxy/ipvs/proxier.go syncProxyRules does against the kernel.
//
// It computes what to program with the project's own model (dist/desired/compute.js) on purpose: the
// soak tests the agent's grace machinery, memory and stability under churn, not the model, which the
// golden files and the agent's guest test check against kube-proxy's rules. Netfilter (ipsets,
// iptables) is not programmed: the soak runs the agent with those checks skipped.
//
//   node kube-proxy-standin.mjs --api http://127.0.0.1:6443 --configz http://127.0.0.1:10249/configz \
//     --node worker-1 --lag-s 10 --seed 1 --log FILE
//
// Each sync appends {t, ms, services, virtualServers, commands, addresses, error?} to --log.
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { endpointSliceFromObject, nodeFromObject, serviceFromObject } from '../../../dist/cluster/convert.js';
import { computeDesiredState } from '../../../dist/desired/compute.js';
import { kubeIpvs0Addresses, readNodeInterfaces } from '../../../dist/node/kube-ipvs0.js';
import { resolveKubeProxyConfig } from '../../../dist/node/kube-proxy.js';

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://127.0.0.1:6443' },
    configz: { type: 'string', default: 'http://127.0.0.1:10249/configz' },
    node: { type: 'string', default: 'worker-1' },
    'lag-s': { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    log: { type: 'string' },
  },
});
const LAG_MS = Number(values['lag-s']) * 1000;
const PROTOCOL_FLAG = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };
const FLAG_PROTOCOL = { '-t': 'TCP', '-u': 'UDP', '--sctp-service': 'SCTP' };

let seed = Number(values.seed) >>> 0;
/** xorshift32: the sync periods are seeded like the churn. */
const random = () => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 4294967296;
};

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

async function list(path, kind) {
  const body = await getJson(`${values.api}${path}`);
  // List items carry no kind, as the apiserver's typed lists do.
  return body.items.map((item) => ({ kind, ...item }));
}

const hostPort = (address, port) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/** `ipvsadm -Sn` as virtual servers keyed like the model's ("TCP/10.96.0.1:443"), each with its scheduler, persistence and destinations. */
function readTable() {
  const table = new Map();
  for (const line of execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8' }).split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== '-A' && words[0] !== '-a') continue;
    const key = `${FLAG_PROTOCOL[words[1]]}/${words[2]}`;
    const option = (flag) => {
      const i = words.indexOf(flag);
      return i < 0 ? null : words[i + 1];
    };
    if (words[0] === '-A') table.set(key, { id: `${words[1]} ${words[2]}`, scheduler: option('-s'), persistence: option('-p'), destinations: new Set() });
    else table.get(key)?.destinations.add(option('-r'));
  }
  return table;
}

/** The ipvsadm commands that turn `have` into `want`: deletions first, then additions and edits. */
function tableCommands(want, have) {
  const commands = [];
  const wanted = new Map(want.map((vs) => [vs.key, vs]));
  for (const [key, vs] of have) if (!wanted.has(key)) commands.push(`-D ${vs.id}`);
  for (const vs of want) {
    const id = `${PROTOCOL_FLAG[vs.protocol]} ${hostPort(vs.address, vs.port)}`;
    const persistence = vs.flagBits & 1 ? String(vs.timeout) : null;
    const settings = `-s ${vs.scheduler}${persistence === null ? '' : ` -p ${persistence}`}`;
    const current = have.get(vs.key);
    if (!current) commands.push(`-A ${id} ${settings}`);
    else if (current.scheduler !== vs.scheduler || current.persistence !== persistence) commands.push(`-E ${id} ${settings}`);
    const destinations = new Set(vs.realServers.map((rs) => hostPort(rs.address, rs.port)));
    for (const rs of current?.destinations ?? []) if (!destinations.has(rs)) commands.push(`-d ${id} -r ${rs}`);
    for (const rs of destinations) if (!current?.destinations.has(rs)) commands.push(`-a ${id} -r ${rs} -m -w 1`);
  }
  return commands;
}

function addressCommands(want, have) {
  const prefix = (a) => (a.includes(':') ? 128 : 32);
  const wanted = new Set(want);
  const present = new Set(have);
  return [
    ...have.filter((a) => !wanted.has(a)).map((a) => `addr del ${a}/${prefix(a)} dev kube-ipvs0`),
    ...want.filter((a) => !present.has(a)).map((a) => `addr add ${a}/${prefix(a)} dev kube-ipvs0`),
  ];
}

const configz = await (async () => {
  for (;;) {
    try {
      return await getJson(values.configz);
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
})();
const { config } = resolveKubeProxyConfig({ configz, configMapText: null });

async function sync() {
  const started = Date.now();
  const [services, slices, nodes] = await Promise.all([
    list('/api/v1/services', 'Service'),
    list('/apis/discovery.k8s.io/v1/endpointslices', 'EndpointSlice'),
    list('/api/v1/nodes', 'Node'),
  ]);
  const cluster = {
    services: services.map(serviceFromObject).filter((s) => s !== null),
    endpointSlices: slices.map(endpointSliceFromObject).filter((s) => s !== null),
    nodes: nodes.map(nodeFromObject),
  };
  const interfaces = readNodeInterfaces();
  const desired = computeDesiredState(cluster, config, { name: values.node, zone: null, interfaces });
  const commands = tableCommands(desired.virtualServers, readTable());
  if (commands.length > 0) execFileSync('ipvsadm', ['-R'], { input: commands.join('\n') + '\n' });
  const addresses = addressCommands(desired.kubeIpvs0Addresses, kubeIpvs0Addresses(interfaces) ?? []);
  if (addresses.length > 0) execFileSync('ip', ['-batch', '-'], { input: addresses.join('\n') + '\n' });
  return { ms: Date.now() - started, services: cluster.services.length, virtualServers: desired.virtualServers.length, commands: commands.length, addresses: addresses.length };
}

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
while (!stopping) {
  await new Promise((r) => setTimeout(r, 1000 + random() * Math.max(0, LAG_MS - 1000)));
  if (stopping) break;
  let entry;
  try {
    entry = { t: Date.now(), ...(await sync()) };
  } catch (err) {
    // A failed sync is retried at the next period, as kube-proxy does; the soak's figures count them.
    entry = { t: Date.now(), error: String(err?.stack ?? err) };
  }
  if (values.log) appendFileSync(values.log, JSON.stringify(entry) + '\n');
}
