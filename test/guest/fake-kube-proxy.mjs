// Runs inside the guest (and beside the host bench): kube-proxy's metrics endpoint as far as
// ipvs-sentinel reads it (/proxyMode, /configz); the mode comes from the file named in argv[2],
// re-read per request; the port is argv[3], 10249 by default.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

createServer((req, res) => {
  const mode = readFileSync(process.argv[2], 'utf8').trim();
  if (req.url === '/proxyMode') return res.end(mode);
  if (req.url === '/configz') {
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify({ 'kubeproxy.config.k8s.io': { Mode: mode, IPVS: { Scheduler: '', SyncPeriod: '30s', StrictARP: true, ExcludeCIDRs: ['192.168.56.200/29'] }, NodePortAddresses: null } }));
  }
  res.statusCode = 404;
  res.end();
}).listen(Number(process.argv[3] ?? 10249), '127.0.0.1');
