// Runs inside the guest (and beside the host bench): kube-proxy's metrics endpoint as far as
// ipvs-sentinel reads it (/proxyMode, /configz); the mode comes from the file named in argv[2],
// re-read per request; the port is argv[3], 10249 by default. Its /configz carries the kubeadm fixture's
// pod network as the cluster CIDR (the internal config's DetectLocal.ClusterCIDRs since v1.31), as
// kubeadm's --pod-network-cidr sets it, so the migration report sees a local-traffic detector.
//
// With argv[4], a health file: its healthz server too (/healthz on argv[5], 10256 by default) and the
// two sync timestamps on /metrics, as pkg/proxy/healthcheck/proxier_health.go and
// pkg/proxy/metrics/metrics.go write them. The file says "stale" (a sync queued when the file was last
// written has not run: 503) or anything else (synced just now: 200); re-read per request.
import { createServer } from 'node:http';
import { readFileSync, statSync } from 'node:fs';

const started = performance.now();

/** A Go time.Time as %q prints it: "2006-01-02 15:04:05.999999999 +0000 UTC m=+1.000000001". */
function goTime(date) {
  const iso = date.toISOString(); // 2025-03-20T08:14:59.999Z
  const monotonic = ((performance.now() - started) / 1000).toFixed(9);
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000000 +0000 UTC m=+${monotonic}`;
}

/** Since when the health file says stale, or null while fresh. */
function staleSince(healthFile) {
  const state = readFileSync(healthFile, 'utf8').trim();
  return state === 'stale' ? statSync(healthFile).mtime : null;
}

const healthFile = process.argv[4];

createServer((req, res) => {
  const mode = readFileSync(process.argv[2], 'utf8').trim();
  if (req.url === '/proxyMode') return res.end(mode);
  if (req.url === '/configz') {
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify({ 'kubeproxy.config.k8s.io': { Mode: mode, IPVS: { Scheduler: '', SyncPeriod: '30s', StrictARP: true, ExcludeCIDRs: ['192.168.56.200/29'] }, NodePortAddresses: null, DetectLocalMode: 'ClusterCIDR', DetectLocal: { ClusterCIDRs: ['10.244.0.0/16'] } } }));
  }
  if (req.url === '/metrics' && healthFile) {
    const since = staleSince(healthFile);
    const now = Date.now() / 1000;
    const queued = since === null ? now - 0.5 : since.getTime() / 1000;
    const synced = since === null ? now : queued - 1;
    res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return res.end(
      [
        '# HELP kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds [ALPHA] The last time a sync of proxy rules was queued',
        '# TYPE kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds gauge',
        `kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds ${queued.toExponential()}`,
        '# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy rules were successfully synced',
        '# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge',
        `kubeproxy_sync_proxy_rules_last_timestamp_seconds ${synced.toExponential()}`,
        '',
      ].join('\n'),
    );
  }
  res.statusCode = 404;
  res.end();
}).listen(Number(process.argv[3] ?? 10249), '127.0.0.1');

if (healthFile) {
  createServer((req, res) => {
    if (req.url !== '/healthz') {
      res.statusCode = 404;
      return res.end();
    }
    const since = staleSince(healthFile);
    const now = new Date();
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-content-type-options', 'nosniff');
    res.statusCode = since === null ? 200 : 503;
    // The last sync ran just before the update that never got applied was queued.
    const lastUpdated = since === null ? now : new Date(since.getTime() - 1000);
    res.end(`{"lastUpdated": ${JSON.stringify(goTime(lastUpdated))},"currentTime": ${JSON.stringify(goTime(now))}, "nodeEligible": true}`);
  }).listen(Number(process.argv[5] ?? 10256), '127.0.0.1');
}
