/** --auth and --tls-* → what the HTTP server gets: no gate and plain HTTP by default, HTTPS whenever a pair is given or auth is on. */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthGate } from '../../../../src/agent/auth/gate.js';
import { servingSecurity, type ServingSecurityOptions } from '../../../../src/agent/auth/serving.js';
import { selfSignedCertificate } from '../../../../src/agent/tls-self-signed.js';
import { SentinelError } from '../../../../src/errors/index.js';
import { expectSentinelRejection } from '../../../support/errors.js';
import { standinKubeConfig } from '../../../support/standin-kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-serving-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pair = selfSignedCertificate({ commonName: 'from-files', hosts: ['127.0.0.1'] });
writeFileSync(join(dir, 'tls.crt'), pair.cert);
writeFileSync(join(dir, 'tls.key'), pair.key);

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };
let kubeConfigAsked = 0;
function options(overrides: Partial<ServingSecurityOptions>): ServingSecurityOptions {
  return {
    auth: 'none',
    tlsCertFile: null,
    tlsPrivateKeyFile: null,
    listen: { host: '10.0.0.10' },
    nodeName: 'worker-1',
    kubeConfig: () => {
      kubeConfigAsked++;
      return Promise.resolve(standinKubeConfig('http://127.0.0.1:1'));
    },
    logger: silent,
    ...overrides,
  };
}

describe('servingSecurity', () => {
  it('--auth=none without a pair: plain HTTP, every route open, no API asked', async () => {
    kubeConfigAsked = 0;
    expect(await servingSecurity(options({}))).toEqual({});
    expect(kubeConfigAsked).toBe(0);
  });

  it('--auth=kube without a pair: the gate, and a self-signed certificate for the node IP and name', async () => {
    const security = await servingSecurity(options({ auth: 'kube' }));
    expect(security.gate).toBeInstanceOf(AuthGate);
    const cert = new X509Certificate(security.tls?.current().cert ?? '');
    expect(cert.subject).toBe('CN=worker-1');
    expect(cert.subjectAltName).toMatch(/^IP Address:10\.0\.0\.10, DNS:worker-1, /);
  });

  it('a pair without auth: HTTPS with it, no gate', async () => {
    const security = await servingSecurity(options({ tlsCertFile: join(dir, 'tls.crt'), tlsPrivateKeyFile: join(dir, 'tls.key') }));
    expect(security.gate).toBeUndefined();
    expect(security.tls?.current().cert).toBe(pair.cert);
    security.tls?.stop();
  });

  it('a pair that cannot serve: TLS_CERT_INVALID at start (serve exits 2)', async () => {
    await expectSentinelRejection(servingSecurity(options({ auth: 'kube', tlsCertFile: join(dir, 'tls.crt'), tlsPrivateKeyFile: join(dir, 'missing.key') })), 'TLS_CERT_INVALID', /cannot read it: ENOENT/);
  });

  it('--auth=kube with no API configuration: its error, at start', async () => {
    const noApi = new SentinelError('KUBE_API_ERROR', 'load kubeconfig', 'no Kubernetes API configuration');
    await expectSentinelRejection(servingSecurity(options({ auth: 'kube', kubeConfig: () => Promise.reject(noApi) })), 'KUBE_API_ERROR', /no Kubernetes API configuration/);
  });
});
