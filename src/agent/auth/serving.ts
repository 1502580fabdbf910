/**
 * --auth and the --tls-* flags → what the HTTP server is given: the request gate and the serving
 * certificate. TLS is served under --auth=kube (a bearer token must not cross the network in the
 * clear), with the given pair or a self-signed one, and whenever a pair is given.
 */
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { fileTls, fixedTls, type ServingTls } from '../tls.js';
import { selfSignedCertificate } from '../tls-self-signed.js';
import { AuthGate, type RequestGate } from './gate.js';
import { apiReviewClient } from './reviews.js';

type LogFn = (obj: object, msg?: string) => void;

export interface ServingSecurityOptions {
  auth: 'none' | 'kube';
  tlsCertFile: string | null;
  tlsPrivateKeyFile: string | null;
  listen: { host: string };
  nodeName: string;
  /** The API the reviews go to (--kubeconfig, in-cluster); asked for only under --auth=kube. */
  kubeConfig: () => Promise<KubeConfig>;
  logger: { info: LogFn; warn: LogFn; debug: LogFn };
}

export interface ServingSecurity {
  gate?: RequestGate;
  tls?: ServingTls;
}

/** The names a self-signed certificate is made for: the listen address, the node, this host, loopback. */
export function selfSignedHosts(listenHost: string, nodeName: string): string[] {
  const hosts = [nodeName, hostname(), 'localhost', '127.0.0.1', '::1'];
  if (listenHost !== '0.0.0.0' && listenHost !== '::') hosts.unshift(listenHost);
  return [...new Set(hosts.filter((h) => h !== '' && (isIP(h) !== 0 || /^[A-Za-z0-9.-]{1,253}$/.test(h))))];
}

/** Throws TLS_CERT_INVALID (a given pair that cannot serve) or KUBE_API_ERROR (no kubeconfig under --auth=kube). */
export async function servingSecurity(options: ServingSecurityOptions): Promise<ServingSecurity> {
  const { logger } = options;
  let tls: ServingTls | undefined;
  if (options.tlsCertFile !== null && options.tlsPrivateKeyFile !== null) {
    tls = fileTls({ certFile: options.tlsCertFile, keyFile: options.tlsPrivateKeyFile, logger });
  } else if (options.auth === 'kube') {
    const hosts = selfSignedHosts(options.listen.host, options.nodeName);
    tls = fixedTls(selfSignedCertificate({ commonName: options.nodeName, hosts }));
    logger.info({ hosts }, 'serving TLS with a self-signed certificate made at start (no --tls-cert-file)');
  }
  if (options.auth === 'none') return tls ? { tls } : {};
  const gate = new AuthGate({ reviews: apiReviewClient(await options.kubeConfig()), logger });
  return tls ? { gate, tls } : { gate };
}
