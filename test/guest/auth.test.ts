/**
 * `serve --auth=kube` in the real-kernel guest: the agent from dist/ over HTTPS with a certificate
 * pair from files, the API stand-in answering TokenReview and SubjectAccessReview
 * (test/guest/auth-standin.ts), and curl --cacert as the client — no token 401, a user the API
 * denies 403, an allowed one 200, the probes open, a certificate pair renamed in picked up without
 * a restart, and the API gone 503. The caches, the token bound and the self-signed certificate are
 * proven on the host (test/unit/agent/auth/, test/unit/agent/tls.test.ts): the guest adds nothing there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../src/agent/tls-self-signed.js';
import { guestProgram, REPO_ROOT, runInGuest, STANDIN_KUBECONFIG, requireOutput, type GuestResult } from './harness.js';

/** The API stand-in that answers TokenReviews and SubjectAccessReviews, built for the guest. */
const AUTH_STANDIN = guestProgram('test/guest/auth-standin.ts');

const READER = 'eyJhbGciOiJSUzI1NiJ9.reader-token.guest';
const STRANGER = 'eyJhbGciOiJSUzI1NiJ9.stranger-token.guest';
const first = selfSignedCertificate({ commonName: 'first', hosts: ['127.0.0.1'] });
const second = selfSignedCertificate({ commonName: 'second', hosts: ['127.0.0.1'] });

const SCRIPT = `
set -u
A=https://127.0.0.1:9742
now() { date +%s%3N; }
until_() { local end=$(( $(date +%s) + $1 )); shift; until "$@"; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done; }
# get NAME PATH CA [curl args]: over TLS trusting only $JOB/CA; the body to $OUT/NAME, the code to $OUT/NAME.code
get() { local name=$1 path=$2 ca=$3; shift 3; curl -s -m 20 --cacert "$JOB/$ca" -o "$OUT/$name" -w '%{http_code}' "$@" "$A$path" > "$OUT/$name.code" 2>/dev/null; }
reader=(-H "Authorization: Bearer ${READER}")
stranger=(-H "Authorization: Bearer ${STRANGER}")

ip link set lo up
mkdir -p /run/tls
cp "$JOB/first.crt" /run/tls/tls.crt; cp "$JOB/first.key" /run/tls/tls.key
"$NODE" ${AUTH_STANDIN.path} --port 6443 --ready /run/standin-ready \\
  --reader-token "${READER}" --stranger-token "${STRANGER}" > "$OUT/standin.log" 2>&1 &
STANDIN=$!
until_ 240 test -f /run/standin-ready || { echo "stand-in did not start" >&2; cat "$OUT/standin.log" >&2; exit 1; }

cp "$JOB/kubeconfig" /run/kubeconfig
"$NODE" bin/ipvs-sentinel.js serve --auth=kube --kubeconfig /run/kubeconfig --node-name worker-1 --listen 127.0.0.1:9742 \\
  --tls-cert-file /run/tls/tls.crt --tls-private-key-file /run/tls/tls.key --poll-interval 2s --kube-proxy-url http://127.0.0.1:1 \\
  --log-level debug > "$OUT/agent.log" 2> "$OUT/agent.stderr" &
AGENT=$!
until_ 120 curl -s -o /dev/null --cacert "$JOB/first.crt" "$A/livez" || { echo "agent never answered" >&2; cat "$OUT/agent.log" "$OUT/agent.stderr" >&2; exit 1; }

for p in livez readyz healthz; do get "$p" "/$p" first.crt; done
get metrics-none /metrics first.crt
get metrics-bad-scheme /metrics first.crt -H 'Authorization: Basic dXNlcjpwYXNz'
get metrics-stranger /metrics first.crt "\${stranger[@]}"
get ipvs-stranger /ipvs first.crt "\${stranger[@]}"
get metrics-reader /metrics first.crt "\${reader[@]}"
get drift-reader /drift first.crt "\${reader[@]}"
get metrics-reader-again /metrics first.crt "\${reader[@]}"

# A new pair, renamed over the old files as a Secret volume's update swaps them.
cp "$JOB/second.crt" /run/tls/tls.crt.new; cp "$JOB/second.key" /run/tls/tls.key.new
t=$(now)
mv /run/tls/tls.key.new /run/tls/tls.key; mv /run/tls/tls.crt.new /run/tls/tls.crt
until_ 60 curl -s -o /dev/null --cacert "$JOB/second.crt" "$A/livez" || { echo "the new certificate was never served" >&2; exit 1; }
echo $(( $(now) - t )) > "$OUT/rotation-ms"
get livez-old-ca /livez first.crt
get metrics-after-rotation /metrics second.crt "\${reader[@]}"
kill -0 $AGENT && echo "$AGENT" > "$OUT/same-pid"

# The API gone: a token not seen before cannot be reviewed.
kill $STANDIN; wait $STANDIN 2>/dev/null
get metrics-api-away /metrics second.crt -H 'Authorization: Bearer eyJ.never-seen.token'
get livez-api-away /livez second.crt
kill $AGENT; wait $AGENT
exit 0
`;

let guest: GuestResult;
const out = (name: string): string => requireOutput(guest, name);
const code = (name: string): number => Number(out(`${name}.code`).trim());
const body = (name: string): unknown => JSON.parse(out(name)) as unknown;
const logLines = (): { level: number; msg: string; [k: string]: unknown }[] =>
  out('agent.log')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { level: number; msg: string });

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'agent', 'auth', 'gate.js'))) throw new Error('run `npm run build` first: the guest runs dist/');
  await AUTH_STANDIN.build();
  guest = await runInGuest({
    timeoutMs: 240_000,
    memoryMb: 1024,
    files: { kubeconfig: STANDIN_KUBECONFIG, 'first.crt': first.cert, 'first.key': first.key, 'second.crt': second.cert, 'second.key': second.key },
    script: SCRIPT,
  });
  if (guest.exitCode !== 0) throw new Error(`guest failed (${guest.exitCode}):\n${guest.stderr}\n${guest.output('agent.log')?.slice(-4000) ?? ''}\n${guest.console.slice(-3000)}`);
  console.log(`guest ${Math.round(guest.durationMs / 1000)} s; new certificate served ${out('rotation-ms').trim()} ms after the rename`);
});

describe('serve --auth=kube over TLS on the real kernel', () => {
  it('the probes answer without a token (200, or 503 while not ready: never 401)', () => {
    expect(code('livez')).toBe(200);
    for (const probe of ['readyz', 'healthz']) expect([200, 503]).toContain(code(probe));
  });

  it.each([
    ['no token', 'metrics-none', 401, { error: 'Unauthorized', reason: 'no bearer token: send Authorization: Bearer <token>' }],
    ['another scheme', 'metrics-bad-scheme', 401, { error: 'Unauthorized', reason: 'the Authorization header is not a bearer token' }],
    ['a user the API denies /metrics', 'metrics-stranger', 403, { error: 'Forbidden', reason: 'user "system:serviceaccount:default:default" may not get path "/metrics"' }],
    ['a user the API denies /ipvs', 'ipvs-stranger', 403, { error: 'Forbidden', reason: 'user "system:serviceaccount:default:default" may not get path "/ipvs"' }],
    ['the API gone', 'metrics-api-away', 503, { error: 'Service Unavailable', reason: 'the Kubernetes API could not review the request; it is retried with the next request' }],
  ])('%s: %s answers %i with the JSON error body', (_name, file, status, expected) => {
    expect(code(file)).toBe(status);
    expect(body(file)).toEqual(expected);
  });

  it('an allowed user reads /metrics and /drift', () => {
    expect(code('metrics-reader')).toBe(200);
    expect(out('metrics-reader')).toContain('# TYPE ipvs_sentinel_');
    expect(code('drift-reader')).toBe(200);
    expect(body('drift-reader')).toHaveProperty('findings');
  });

  it('each review asked the API once, as a non-resource get of the path; the repeat came from the cache', () => {
    const reviews = out('standin.log')
      .split('\n')
      .filter((l) => l.startsWith('{"kind"'))
      .map((l) => JSON.parse(l) as { kind: string; user: string | null; nonResourceAttributes: { path: string; verb: string } | null });
    const metricsByReader = reviews.filter((r) => r.kind === 'SubjectAccessReview' && r.user === 'system:serviceaccount:monitoring:prometheus-k8s' && r.nonResourceAttributes?.path === '/metrics');
    expect(metricsByReader).toHaveLength(1);
    expect(metricsByReader[0]?.nonResourceAttributes).toEqual({ path: '/metrics', verb: 'get' });
  });

  it('a certificate pair renamed over the files is served without a restart, and the old one no longer verifies', () => {
    expect(out('same-pid').trim()).not.toBe('');
    expect(code('livez-old-ca')).toBe(0); // curl: the peer's certificate does not verify against the old CA
    expect(code('metrics-after-rotation')).toBe(200);
    expect(logLines().filter((l) => l.msg === 'TLS certificate reloaded').length).toBeGreaterThanOrEqual(1);
  });

  it('the probes stay open with the API gone; no log line holds a token; the outage is one warning', () => {
    expect(code('livez-api-away')).toBe(200);
    expect(out('agent.log')).not.toContain(READER);
    expect(out('agent.log')).not.toContain(STRANGER);
    expect(out('agent.log')).not.toContain('never-seen');
    const warnings = logLines().filter((l) => l.msg.startsWith('the Kubernetes API could not review a request'));
    expect(warnings).toHaveLength(1);
  });
});
