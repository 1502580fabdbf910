/**
 * What the agent serves TLS with when --auth=kube is on: the --tls-cert-file / --tls-private-key-file
 * pair, read again when either file changes (a Secret volume's update swaps a symlink, which a
 * stat through it sees as a new inode), or a self-signed pair made at start
 * (./tls-self-signed.ts). A pair is checked before use — PEM, and the key matching the certificate
 * (tls.createSecureContext refuses a mismatch) — and a bad new pair keeps the old one in use, with
 * one log line per bad version of the files.
 */
import { statSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Https from 'node:https';
import type * as Tls from 'node:tls';
import { SentinelError } from '../errors/index.js';
import type { ServingPair } from './tls-self-signed.js';

type LogFn = (obj: object, msg?: string) => void;

/** The certificate the server presents now, and word when it changes. */
export interface ServingTls {
  current(): ServingPair;
  /** Called with every new pair; returns the unsubscribe. */
  subscribe(listener: (pair: ServingPair) => void): () => void;
  stop(): void;
}

// node:https and node:tls through require(), on first use, as src/util/node-http.ts loads node:http
// (it says why): an agent that serves plain HTTP never loads them.
const require = createRequire(import.meta.url);

export function createHttpsServer(options: Https.ServerOptions): Https.Server {
  return (require('node:https') as typeof Https).createServer(options);
}

/** A pair that never changes (the self-signed one). */
export function fixedTls(pair: ServingPair): ServingTls {
  return { current: () => pair, subscribe: () => () => undefined, stop: () => undefined };
}

/** Reads and checks the pair; throws TLS_CERT_INVALID saying what is wrong. */
export function readServingPair(certFile: string, keyFile: string): ServingPair {
  const operation = `load ${certFile} and ${keyFile}`;
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certFile, 'utf8');
    key = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new SentinelError('TLS_CERT_INVALID', operation, `cannot read it: ${(err as Error).message}`, { cause: err });
  }
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new SentinelError('TLS_CERT_INVALID', operation, `${certFile} holds no PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new SentinelError('TLS_CERT_INVALID', operation, `${keyFile} holds no PEM private key`);
  try {
    (require('node:tls') as typeof Tls).createSecureContext({ cert, key });
  } catch (err) {
    throw new SentinelError('TLS_CERT_INVALID', operation, `the pair cannot serve TLS: ${(err as Error).message}`, { cause: err });
  }
  return { cert, key };
}

export interface FileTlsOptions {
  certFile: string;
  keyFile: string;
  logger: { info: LogFn; warn: LogFn };
  /** How often the files' identity (inode, size, mtime) is looked at. */
  checkIntervalMs?: number;
}

export const DEFAULT_TLS_CHECK_INTERVAL_MS = 10_000;

/** A stat through both paths (symlinks followed): what changes when either file is replaced or rewritten. */
function versionOf(certFile: string, keyFile: string): string | null {
  try {
    return [certFile, keyFile]
      .map((f) => {
        const s = statSync(f, { bigint: true });
        return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
      })
      .join('|');
  } catch {
    return null;
  }
}

/** The pair from files: read now (throws TLS_CERT_INVALID), then looked at every `checkIntervalMs`. */
export function fileTls(options: FileTlsOptions): ServingTls {
  const { certFile, keyFile, logger } = options;
  let loadedVersion = versionOf(certFile, keyFile);
  let pair = readServingPair(certFile, keyFile);
  let refusedVersion: string | null = null;
  const listeners = new Set<(pair: ServingPair) => void>();
  const check = (): void => {
    const version = versionOf(certFile, keyFile);
    if (version === loadedVersion) return;
    try {
      pair = readServingPair(certFile, keyFile);
    } catch (err) {
      // Half-written (the certificate replaced, the key not yet) looks the same: tried again next time, logged once.
      if (version !== refusedVersion) logger.warn({ err: err instanceof SentinelError ? err.toLine() : String(err) }, 'new TLS certificate not used: the old one stays');
      refusedVersion = version;
      return;
    }
    loadedVersion = version;
    refusedVersion = null;
    logger.info({ certFile }, 'TLS certificate reloaded');
    for (const listener of listeners) listener(pair);
  };
  const timer = setInterval(check, options.checkIntervalMs ?? DEFAULT_TLS_CHECK_INTERVAL_MS);
  timer.unref();
  return {
    current: () => pair,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => clearInterval(timer),
  };
}
