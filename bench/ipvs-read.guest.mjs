// Runs inside the guest: `node bench/ipvs-read.guest.mjs SERVICES ROUNDS POLL_SECONDS`. Builds a
// SERVICES × 10 table with `ipvsadm -R` (and the matching kube-ipvs0 addresses and cluster-state
// file), then times `ipvsadm -Sn` as a person runs it — a whole process writing to /dev/null, never
// piped into this one (a pipe into Node makes ipvsadm about three times slower, issue 17) —
// interleaved with three of ours:
//   bare   IpvsReader.read() warm, in this process (after one warm-up read);
//   agent  the read inside `serve` (durationMs of /ipvs after polls 2–4), NODE_OPTIONS as the image,
//          stopped (SIGSTOP) while the other two run, so that its polls never overlap them;
//   cli    `ipvs-sentinel ipvs --output json > /dev/null` and `ipvs-sentinel check > /dev/null`, whole processes.
// Prints one JSON line: every time taken, in the order taken.
// COMPARE_TREE=DIR (bench/ipvs-compare.ts): no agent or bare reader; each round runs the CLI of this
// checkout and of the tree in DIR (each with its own image's NODE_OPTIONS, COMPARE_NODE_OPTIONS for
// DIR's), alternating which goes first, every sample tagged with its tree.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { loadavg } from 'node:os';

const REPO = process.env.REPO ?? process.cwd();
const [services, rounds, pollSeconds] = process.argv.slice(2).map(Number);
if (!(services > 0 && rounds > 0 && pollSeconds > 0)) throw new Error('usage: ipvs-read.guest.mjs SERVICES ROUNDS POLL_SECONDS');
const IMAGE_NODE_OPTIONS = process.env.IMAGE_NODE_OPTIONS ?? '';
const ENDPOINTS = 10;
const NODE_NAME = 'worker-1';
const PORT = 9742;

const { IpvsReader } = await import(`${REPO}/dist/ipvs/reader.js`);
const { openGenericNetlink } = await import(`${REPO}/dist/netlink/libnl.js`);

// The synthetic cluster of test/guest/standin-server.ts: Services with one TCP port and ten ready
// endpoints each, the table kube-proxy programs for them, their ClusterIPs on kube-ipvs0.
const clusterIp = (i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const podIp = (k) => `10.${128 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
const items = [
  {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE_NAME, labels: { 'kubernetes.io/hostname': NODE_NAME } },
    spec: { podCIDR: '10.244.0.0/24' },
    status: { addresses: [{ type: 'InternalIP', address: '10.0.0.10' }, { type: 'Hostname', address: NODE_NAME }] },
  },
];
const table = [];
const addresses = [];
for (let i = 0; i < services; i++) {
  const namespace = `team-${i % 50}`;
  const name = `svc-${i}`;
  const ip = clusterIp(i);
  items.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, uid: `svc-uid-${i}`, labels: { app: name } },
    spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: name } },
  });
  const endpoints = Array.from({ length: ENDPOINTS }, (_, j) => ({
    addresses: [podIp(i * ENDPOINTS + j)],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: `worker-${j % 3}`,
  }));
  items.push({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-abcde`, namespace, uid: `eps-uid-${i}`, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    endpoints,
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  table.push(`-A -t ${ip}:80 -s rr`);
  for (const e of endpoints) table.push(`-a -t ${ip}:80 -r ${e.addresses[0]}:8080 -m -w 1`);
  addresses.push(`addr add ${ip}/32 dev kube-ipvs0`);
}
writeFileSync('/run/cluster.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items }));
writeFileSync('/run/addresses', addresses.join('\n') + '\n');
items.length = 0;

// A node as kube-proxy leaves it (the setup of bench/agent-scale.ts): nothing for `check` to re-read
// for its grace period, and the agent's poll does all of its work.
execFileSync('bash', [
  '-c',
  `set -e
  ipvsadm -C
  ip link add kube-ipvs0 type dummy 2>/dev/null || true
  ip addr flush dev kube-ipvs0; ip -batch /run/addresses; ip link set kube-ipvs0 up
  ip route add 10.128.0.0/9 dev eth0 2>/dev/null || true
  sysctl -qw net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1 net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  echo ipvs > /run/kube-proxy-mode`,
]);
const kubeProxy = spawn(process.execPath, ['test/guest/fake-kube-proxy.mjs', '/run/kube-proxy-mode'], { cwd: REPO, stdio: 'ignore' });
let t = performance.now();
execFileSync('ipvsadm', ['-R'], { input: table.join('\n') + '\n' });
const loadMs = performance.now() - t;
table.length = 0;

const devNull = openSync('/dev/null', 'w');
/** A whole process, its stdout on /dev/null as `> /dev/null` gives it; its wall time in ms. */
function timeProcess(file, args, env = process.env) {
  const start = performance.now();
  const r = spawnSync(file, args, { stdio: ['ignore', devNull, 'pipe'], env, maxBuffer: 1 << 24 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
  return ms;
}
const ipvsadm = () => timeProcess('ipvsadm', ['-Sn']);

const samples = []; // { what, ms } in the order taken
const take = (what, ms) => samples.push({ what, ms: Math.round(ms) });

// 1. The agent: serve polls on its own; between its polls, one ipvsadm and one bare read.
function getJson(path) {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: PORT, path, timeout: 120_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err);
        }
      });
    }).on('error', reject);
  });
}
const sleep = (ms) => new Promise((r) => globalThis.setTimeout(r, ms));
async function untilPoll(after) {
  for (;;) {
    try {
      const drift = await getJson('/drift');
      if (drift.checkedAt && drift.checkedAt !== after) return drift.checkedAt;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
}
const agentEnv = { ...process.env, NODE_OPTIONS: IMAGE_NODE_OPTIONS };
// PROFILE=1: V8 CPU profiles of serve and of the first `ipvs` and `check` commands in $OUT (slower; not for figures).
const profile = process.env.PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.OUT ?? '/run'}`] : [];
const COMPARE_TREE = process.env.COMPARE_TREE ?? '';
if (COMPARE_TREE === '') {
  const reader = new IpvsReader({ open: openGenericNetlink });
  const bareRead = async () => {
    const start = performance.now();
    const snap = await reader.read();
    const ms = performance.now() - start;
    if (snap.services.length !== services) throw new Error(`read ${snap.services.length} services, want ${services}`);
    return ms;
  };
  await bareRead(); // warm-up: socket, family, JIT (the bare reader runs only beside the agent)
  const agentLog = openSync(`${process.env.OUT ?? '/run'}/agent-${services}.log`, 'w');
  const agent = spawn(
    process.execPath,
    [...profile, 'bin/ipvs-sentinel.js', 'serve', '--cluster-state', '/run/cluster.json', '--node-name', NODE_NAME, '--poll-interval', `${pollSeconds}s`, '--listen', `127.0.0.1:${PORT}`, '--log-level', 'warn'],
    { cwd: REPO, env: agentEnv, stdio: ['ignore', agentLog, agentLog] },
  );
  let checkedAt = await untilPoll(null); // poll 1
  if (process.env.PHASES === 'cli') checkedAt = null; // PHASES=cli: the one-shot commands only (profiling them)
  for (let poll = 2; poll <= (process.env.PHASES === 'cli' ? 1 : 4); poll++) {
    checkedAt = await untilPoll(checkedAt);
    const doc = await getJson('/ipvs?service=team-0/svc-0');
    take('agent', doc.durationMs);
    // The agent is stopped while the others run, so a busy machine cannot make its next poll overlap them.
    agent.kill('SIGSTOP');
    take('ipvsadm', ipvsadm());
    take('bare', await bareRead());
    agent.kill('SIGCONT');
  }
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  closeSync(agentLog);
  reader.close();
}

// 2. The one-shot CLI, as a person on the node runs it; NODE_OPTIONS as the image. Compared with
// another tree, both trees' commands in each round, the first of them alternating.
const trees = [{ tree: 'head', cli: ['bin/ipvs-sentinel.js'], env: agentEnv }];
if (COMPARE_TREE !== '') trees.unshift({ tree: 'base', cli: [`${COMPARE_TREE}/bin/ipvs-sentinel.js`], env: { ...process.env, NODE_OPTIONS: process.env.COMPARE_NODE_OPTIONS ?? '' } });
const inTurn = (r) => (r % 2 === 0 ? trees : [...trees].reverse());
const checkExit = [];
for (let r = 0; r < rounds; r++) {
  // Samples are tagged with their tree only when there are two.
  const sample = (what, tree, ms) => samples.push(COMPARE_TREE === '' ? { what, ms: Math.round(ms) } : { what, tree, ms: Math.round(ms) });
  // PROFILE=1 profiles the first round's commands of this checkout.
  const profiled = (tree) => (r === 0 && tree === 'head' ? profile : []);
  take('ipvsadm', ipvsadm());
  for (const { tree, cli, env } of inTurn(r)) sample('cli-ipvs', tree, timeProcess(process.execPath, [...profiled(tree), ...cli, 'ipvs', '--output', 'json'], env));
  take('ipvsadm', ipvsadm());
  for (const { tree, cli, env } of inTurn(r)) {
    // --grace 0s: one poll, the command's own cost; on a node that differs from its cluster in any
    // way, check re-reads for the grace period by design. Its verdict is kept in $OUT.
    // Written to the guest's tmpfs while timed, and copied to $OUT after: a write over the 9p share to
    // the host is no part of what the command costs a person on a node (ipvsadm writes to /dev/null).
    const name = `check-${services}-${r}${COMPARE_TREE === '' ? '' : `-${tree}`}.txt`;
    const checkOut = openSync(`/run/${name}`, 'w');
    const start = performance.now();
    const checked = spawnSync(process.execPath, [...profiled(tree), ...cli, 'check', '--cluster-state', '/run/cluster.json', '--node-name', NODE_NAME, '--grace', '0s'], { stdio: ['ignore', checkOut, checkOut], env });
    sample('cli-check', tree, performance.now() - start);
    closeSync(checkOut);
    if (process.env.OUT) copyFileSync(`/run/${name}`, `${process.env.OUT}/${name}`);
    checkExit.push(checked.status);
  }
}
kubeProxy.kill();

console.log(JSON.stringify({ services, realServers: services * ENDPOINTS, node: process.version, nodeOptions: IMAGE_NODE_OPTIONS, pollSeconds, loadMs: Math.round(loadMs), checkExit, loadavg: loadavg(), samples }));
