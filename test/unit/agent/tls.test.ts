/** The serving certificate: self-signed generation, the file pair's checks, and its reload while serving. */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedHosts } from '../../../src/agent/auth/serving.js';
import { startHttpServer } from '../../../src/agent/http.js';
import { createMetrics } from '../../../src/agent/metrics.js';
import { fileTls, fixedTls, readServingPair } from '../../../src/agent/tls.js';
import { selfSignedCertificate } from '../../../src/agent/tls-self-signed.js';
import { isSentinelError } from '../../../src/errors/index.js';
import { fakeAgentView } from '../../support/agent-view.js';
import { waitFor } from '../../support/wait.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sentinel-tls-'));
  dirs.push(d);
  return d;
}

describe('selfSignedCertificate', () => {
  it.each([
    ['IPv4 node IP', ['10.0.0.10', 'worker-1', 'localhost', '127.0.0.1', '::1'], 'IP Address:10.0.0.10, DNS:worker-1, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1'],
    ['IPv6 node IP', ['fd00:1::a', 'worker-2'], 'IP Address:FD00:1:0:0:0:0:0:A, DNS:worker-2'],
  ])('%s: an X.509 v3 certificate that verifies with its own key, for the given names, for a year', (_name, hosts, altNames) => {
    const now = new Date('2026-06-01T00:00:00Z');
    const pair = selfSignedCertificate({ commonName: 'worker-1', hosts, now });
    const cert = new X509Certificate(pair.cert);
    expect(cert.subject).toBe('CN=worker-1');
    expect(cert.issuer).toBe('CN=worker-1');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    expect(cert.subjectAltName?.toUpperCase()).toBe(altNames.toUpperCase());
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-05-31T23:00:00.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2027-06-01T00:00:00.000Z');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(createPublicKey(pair.key).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('writes GeneralizedTime past 2049 (RFC 5280, section 4.1.2.5)', () => {
    const cert = new X509Certificate(selfSignedCertificate({ commonName: 'n', hosts: [], now: new Date('2049-12-01T00:00:00Z'), validDays: 60 }).cert);
    expect(new Date(cert.validTo).toISOString()).toBe('2050-01-30T00:00:00.000Z');
  });

  it('openssl verifies it as its own trust anchor for the node IP', () => {
    const dir = tempDir();
    const file = join(dir, 'c.pem');
    writeFileSync(file, selfSignedCertificate({ commonName: 'worker-1', hosts: ['10.0.0.10'] }).cert);
    expect(execFileSync('openssl', ['verify', '-CAfile', file, '-verify_ip', '10.0.0.10', file], { encoding: 'utf8' })).toBe(`${file}: OK\n`);
  });

  it('the names: the listen address when it is one, the node, loopback; never a wildcard address', () => {
    expect(selfSignedHosts('10.0.0.10', 'worker-1').slice(0, 2)).toEqual(['10.0.0.10', 'worker-1']);
    expect(selfSignedHosts('0.0.0.0', 'worker-1')).not.toContain('0.0.0.0');
    expect(selfSignedHosts('::', 'worker-1')).toEqual(expect.arrayContaining(['worker-1', 'localhost', '127.0.0.1', '::1']));
  });
});

function writePair(dir: string, name: string, commonName: string): { cert: string; key: string } {
  const pair = selfSignedCertificate({ commonName, hosts: ['127.0.0.1'] });
  writeFileSync(join(dir, `${name}.crt`), pair.cert);
  writeFileSync(join(dir, `${name}.key`), pair.key);
  return pair;
}

describe('readServingPair', () => {
  it.each([
    ['a missing file', (d: string) => [join(d, 'none.crt'), join(d, 'a.key')], /cannot read it: ENOENT/],
    ['a certificate that is not PEM', (d: string) => (writeFileSync(join(d, 'x.crt'), 'hello'), [join(d, 'x.crt'), join(d, 'a.key')]), /holds no PEM certificate/],
    ['a key that is not PEM', (d: string) => (writeFileSync(join(d, 'x.key'), 'hello'), [join(d, 'a.crt'), join(d, 'x.key')]), /holds no PEM private key/],
    ['a key of another certificate', (d: string) => [join(d, 'a.crt'), join(d, 'b.key')], /the pair cannot serve TLS: .*key values mismatch/],
  ])('%s: TLS_CERT_INVALID saying what is wrong', (_name, files, message) => {
    const dir = tempDir();
    writePair(dir, 'a', 'a');
    writePair(dir, 'b', 'b');
    const [cert = '', key = ''] = files(dir);
    let caught: unknown;
    try {
      readServingPair(cert, key);
    } catch (err) {
      caught = err;
    }
    expect(isSentinelError(caught, 'TLS_CERT_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});

/** The subject CN of the certificate the server presents now. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(Array.isArray(cn) ? cn.join(',') : (cn ?? ''));
    });
    socket.on('error', reject);
  });
}

/** Asks `condition` until it holds (5 s at most). */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

describe('fileTls while serving', () => {
  it('a new pair is served without a restart; a bad one keeps the old pair, with one log line', async () => {
    const dir = tempDir();
    writePair(dir, 'serving', 'first');
    const lines: Record<string, unknown>[] = [];
    const logger = pino(new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString('utf8')) as Record<string, unknown>), cb()) }));
    const tls = fileTls({ certFile: join(dir, 'serving.crt'), keyFile: join(dir, 'serving.key'), logger, checkIntervalMs: 20 });
    const { view } = fakeAgentView();
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, view, metrics: createMetrics({ backendMetrics: false, view }), logger, tls });
    try {
      expect(await presented(server.address.port)).toBe('first');
      // Replaced as a Secret volume replaces it: new files renamed over the old ones.
      const next = writePair(dir, 'next', 'second');
      renameSync(join(dir, 'next.key'), join(dir, 'serving.key'));
      renameSync(join(dir, 'next.crt'), join(dir, 'serving.crt'));
      await until(async () => (await presented(server.address.port)) === 'second', 'the new certificate');
      expect(tls.current().cert).toBe(next.cert);
      // A key of another certificate: refused, the second pair stays, logged once however often it is looked at.
      writePair(dir, 'other', 'third');
      renameSync(join(dir, 'other.key'), join(dir, 'serving.key'));
      await waitFor(() => lines.some((l) => l.msg === 'new TLS certificate not used: the old one stays'), { what: 'the refusal' });
      await new Promise((resolve) => setTimeout(resolve, 200)); // ten more looks
      expect(lines.filter((l) => l.msg === 'new TLS certificate not used: the old one stays')).toHaveLength(1);
      expect(lines.find((l) => l.msg === 'new TLS certificate not used: the old one stays')?.err).toMatch(/^TLS_CERT_INVALID .*key values mismatch/);
      expect(await presented(server.address.port)).toBe('second');
      expect(lines.filter((l) => l.msg === 'TLS certificate reloaded')).toHaveLength(1);
    } finally {
      tls.stop();
      await server.close();
    }
  });
});

describe('curl --cacert against the self-signed certificate', () => {
  it.skipIf(!existsSync('/usr/bin/curl'))('verifies it by the IP it was made for', async () => {
    const pair = selfSignedCertificate({ commonName: 'worker-1', hosts: ['127.0.0.1'] });
    const dir = tempDir();
    writeFileSync(join(dir, 'ca.pem'), pair.cert);
    const { view } = fakeAgentView();
    const silent = pino(new Writable({ write: (_c, _e, cb) => cb() }));
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, view, metrics: createMetrics({ backendMetrics: false, view }), logger: silent, tls: fixedTls(pair) });
    try {
      const { stdout } = await promisify(execFile)('curl', ['-sS', '--cacert', join(dir, 'ca.pem'), `https://127.0.0.1:${server.address.port}/livez`], { encoding: 'utf8' });
      expect(stdout).toBe('ok');
    } finally {
      await server.close();
    }
  });
});

describe('HTTPS and the connection book', () => {
  it('a request in progress over TLS is the book’s (not cut at the idle deadline), an idle TLS socket is', async () => {
    const pair = selfSignedCertificate({ commonName: 'n', hosts: ['127.0.0.1'] });
    const { view } = fakeAgentView();
    const silent = pino(new Writable({ write: (_c, _e, cb) => cb() }));
    // A scrape that takes 4 × the idle deadline to render.
    const metrics = {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      exposition: () => new Promise<Iterable<Uint8Array>>((resolve) => setTimeout(() => resolve([Buffer.from('slow_metric 1\n')]), 800)),
    };
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, view, metrics, logger: silent, tls: fixedTls(pair), limits: { headersTimeoutMs: 200, keepAliveTimeoutMs: 200 } });
    try {
      const { request } = await import('node:https');
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: server.address.port, path: '/metrics', ca: pair.cert, agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(answer).toEqual({ status: 200, body: 'slow_metric 1\n' });
      // A TLS connection that never sends a request is cut at the deadline.
      const closed = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: server.address.port, ca: pair.cert }, () => undefined);
        socket.on('close', () => resolve(true));
        socket.on('error', () => undefined);
        setTimeout(() => resolve(false), 3000).unref();
      });
      expect(closed).toBe(true);
    } finally {
      await server.close();
    }
  });
});
