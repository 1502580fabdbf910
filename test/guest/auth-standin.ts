/**
 * Runs inside the guest for auth.test.ts, bundled by the harness (guestProgram in harness.ts): the
 * API stand-in with TokenReview and SubjectAccessReview (test/support/kube-api-reviews.ts), the Node
 * worker-1, and two tokens: one whose user may get /metrics, /ipvs, /drift and /modules, one whose
 * user may get nothing.
 *
 *   node .cache/guest/auth-standin.mjs --port 6443 --ready FILE --reader-token T --stranger-token T
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubeApiStandin } from '../support/kube-api-standin.js';
import { ReviewsStandin } from '../support/kube-api-reviews.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '6443' },
    ready: { type: 'string' },
    'reader-token': { type: 'string' },
    'stranger-token': { type: 'string' },
  },
});

const api = await KubeApiStandin.start({ port: Number(values.port) });
const reviews = new ReviewsStandin();
api.use(reviews.extension);
const reader = 'system:serviceaccount:monitoring:prometheus-k8s';
reviews.addToken(values['reader-token'] ?? '', { username: reader, uid: 'reader-uid', groups: ['system:serviceaccounts', 'system:authenticated'] });
reviews.addToken(values['stranger-token'] ?? '', { username: 'system:serviceaccount:default:default', groups: ['system:authenticated'] });
for (const path of ['/metrics', '/ipvs', '/drift', '/modules']) reviews.allow(reader, path);
api.create('Node', {
  kind: 'Node',
  metadata: { name: 'worker-1', labels: { 'kubernetes.io/hostname': 'worker-1' } },
  status: { addresses: [{ type: 'InternalIP', address: '10.0.0.10' }] },
});
// Each review, one JSON line: the test counts them (the token itself is not printed).
const print = (): void => {
  for (const review of reviews.seen.splice(0)) {
    const spec = review.body.spec as Record<string, unknown>;
    console.log(JSON.stringify({ kind: review.kind, user: spec.user ?? null, nonResourceAttributes: spec.nonResourceAttributes ?? null }));
  }
};
setInterval(print, 200);
if (values.ready) writeFileSync(values.ready, 'ready\n');
