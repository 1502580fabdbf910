// Runs inside the guest: builds tables of N×10 with ipvsadm -R and times our read (median of
// several, in one process as the agent does) against whole `ipvsadm -Sn` runs.
import { execFileSync, execSync } from 'node:child_process';

const { IpvsReader } = await import(`${process.env.REPO}/dist/ipvs/reader.js`);
const { openGenericNetlink } = await import(`${process.env.REPO}/dist/netlink/libnl.js`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = [];
for (const [services, runs] of [[1000, 5], [10000, 3]]) {
  execSync('ipvsadm -C');
  const lines = [];
  for (let i = 0; i < services; i++) {
    const vip = `10.${100 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
    lines.push(`-A -t ${vip}:80 -s rr`);
    for (let j = 1; j <= 10; j++) lines.push(`-a -t ${vip}:80 -r 10.244.${j}.${(i % 250) + 1}:8080 -m -w 1`);
  }
  const t0 = performance.now();
  execFileSync('ipvsadm', ['-R'], { input: lines.join('\n') + '\n' });
  const loadMs = performance.now() - t0;

  const reader = new IpvsReader({ open: openGenericNetlink });
  await reader.read(); // warm-up: socket, family, JIT
  // Alternate the two so a change in the machine's load affects both alike.
  const ours = [];
  const theirs = [];
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    const snap = await reader.read();
    ours.push(performance.now() - t);
    if (snap.services.length !== services) throw new Error(`read ${snap.services.length} services, want ${services}`);
    t = performance.now();
    execFileSync('ipvsadm', ['-Sn'], { maxBuffer: 1 << 30 });
    theirs.push(performance.now() - t);
  }
  reader.close();
  const rss = process.memoryUsage().rss;
  results.push({ services, realServers: services * 10, loadMs, oursMs: median(ours), ipvsadmMs: median(theirs), runs, rssMb: rss / 2 ** 20 });
}
console.log(JSON.stringify(results));
