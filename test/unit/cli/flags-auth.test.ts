/** --auth, --tls-cert-file / --tls-private-key-file, and the default --listen from the downward API's NODE_IP. */
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/flags.js';
import { expectSentinelError } from '../../support/errors.js';

type Env = Record<string, string | undefined>;

describe('--auth and --tls-*', () => {
  it.each([
    ['default', [], {}, { auth: 'none', tlsCertFile: null, tlsPrivateKeyFile: null }],
    ['--auth=kube', ['--auth=kube'], {}, { auth: 'kube' }],
    ['from the environment', [], { IPVS_SENTINEL_AUTH: 'kube' }, { auth: 'kube' }],
    ['a pair', ['--tls-cert-file', '/etc/tls/tls.crt', '--tls-private-key-file=/etc/tls/tls.key'], {}, { tlsCertFile: '/etc/tls/tls.crt', tlsPrivateKeyFile: '/etc/tls/tls.key' }],
  ] as [string, string[], Env, object][])('%s', (_name, argv, env, expected) => {
    expect(parseCommandLine(['serve', ...argv], env).options).toMatchObject(expected);
  });

  it.each([
    ['another mode', ['--auth=rbac'], {}, /--auth takes none or kube, not "rbac"/],
    ['a certificate without its key', ['--tls-cert-file=/c'], {}, /--tls-cert-file and --tls-private-key-file go together/],
    ['a key without its certificate', [], { IPVS_SENTINEL_TLS_PRIVATE_KEY_FILE: '/k' }, /--tls-cert-file and --tls-private-key-file go together/],
  ] as [string, string[], Env, RegExp][])('%s: BAD_FLAG', (_name, argv, env, message) => {
    expectSentinelError(() => parseCommandLine(['serve', ...argv], env), 'BAD_FLAG', message);
  });
});

describe('the default --listen', () => {
  it.each([
    ['the node IP from NODE_IP (status.hostIP)', [], { NODE_IP: '10.0.0.10' }, { host: '10.0.0.10', port: 9742 }],
    ['an IPv6 node IP, no brackets needed', [], { NODE_IP: 'fd00::10' }, { host: 'fd00::10', port: 9742 }],
    ['loopback when there is no NODE_IP: nothing open until told', [], {}, { host: '127.0.0.1', port: 9742 }],
    ['--listen wins', ['--listen', '0.0.0.0:9742'], { NODE_IP: '10.0.0.10' }, { host: '0.0.0.0', port: 9742 }],
    ['IPVS_SENTINEL_LISTEN wins', [], { NODE_IP: '10.0.0.10', IPVS_SENTINEL_LISTEN: '[::]:9000' }, { host: '::', port: 9000 }],
  ] as [string, string[], Env, object][])('%s', (_name, argv, env, expected) => {
    expect(parseCommandLine(['serve', ...argv], env).options.listen).toEqual(expected);
  });

  it('a NODE_IP that is not an address: BAD_FLAG naming it', () => {
    expectSentinelError(() => parseCommandLine(['serve'], { NODE_IP: 'worker-1' }), 'BAD_FLAG', /NODE_IP \(the default --listen address\) takes an IP address, not "worker-1"/);
  });
});
