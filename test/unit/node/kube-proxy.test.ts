import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KUBE_PROXY_DEFAULTS } from '../../../src/cluster/kube-proxy-config.js';
import { isSentinelError } from '../../../src/errors/index.js';
import { checkProxyMode, parseConfigz, parseKubeProxyConfigMap, parseProxyMode, resolveKubeProxyConfig } from '../../../src/node/kube-proxy.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/kube-proxy');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

function expectInvalid(fn: () => unknown, text: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(isSentinelError(error, 'KUBE_PROXY_CONFIG_INVALID')).toBe(true);
  expect((error as Error).message).toContain(text);
}

describe('parseProxyMode', () => {
  it.each([
    ['ipvs', 'ipvs'],
    ['iptables', 'iptables'],
    ['nftables\n', 'nftables'],
    ['IPVS', 'ipvs'],
    ['', null],
    ['404 page not found\n', null],
    ['<html>', null],
  ])('%j → %s', (text, mode) => {
    expect(parseProxyMode(text)).toBe(mode);
  });
});

describe('parseConfigz', () => {
  it('reads the internal config of kube-proxy ≤ v1.28 (sync periods inside IPVS)', () => {
    expect(parseConfigz(fixture('configz-v1.28-ipvs.json'))).toEqual({
      ...KUBE_PROXY_DEFAULTS,
      mode: 'ipvs',
      syncPeriodSeconds: 30,
      minSyncPeriodSeconds: 0,
      metricsBindAddress: '127.0.0.1:10249',
      detectLocalMode: 'ClusterCIDR',
      clusterCIDRs: ['10.244.0.0/16'],
    });
  });

  it('reads the internal config of newer kube-proxy (sync periods at the top level)', () => {
    expect(parseConfigz(JSON.parse(fixture('configz-v1.31-ipvs.json')))).toEqual({
      mode: 'ipvs',
      scheduler: 'lc',
      syncPeriodSeconds: 60,
      minSyncPeriodSeconds: 1,
      excludeCIDRs: ['192.168.100.0/24'],
      nodePortAddresses: ['192.168.122.0/24'],
      strictARP: true,
      tcpTimeoutSeconds: 900,
      tcpFinTimeoutSeconds: 120,
      udpTimeoutSeconds: 300,
      metricsBindAddress: '0.0.0.0:10249',
      detectLocalMode: 'ClusterCIDR',
      clusterCIDRs: ['10.244.0.0/16'],
      detectLocalBridgeInterface: '',
      detectLocalInterfaceNamePrefix: '',
      iptablesMasqueradeBit: 14,
      nftablesMasqueradeBit: 14,
    });
  });

  it('also reads an external (camelCase) document', () => {
    const config = parseConfigz({ 'kubeproxy.config.k8s.io': { kind: 'KubeProxyConfiguration', mode: 'ipvs', ipvs: { scheduler: 'sh', syncPeriod: '45s' } } });
    expect(config).toMatchObject({ mode: 'ipvs', scheduler: 'sh', syncPeriodSeconds: 45 });
  });

  it.each([
    ['not JSON', '<html>', 'not JSON'],
    ['not an object', '[1]', 'not a JSON object'],
    ['no kube-proxy entry', '{"kubelet.config.k8s.io":{}}', 'no "kubeproxy.config.k8s.io"'],
    ['entry null (config not registered)', '{"kubeproxy.config.k8s.io":null}', 'no "kubeproxy.config.k8s.io"'],
    ['bad duration', '{"kubeproxy.config.k8s.io":{"IPVS":{"SyncPeriod":"soon"}}}', 'syncPeriod is not a duration'],
    ['duration as number', '{"kubeproxy.config.k8s.io":{"SyncPeriod":30000000000}}', 'syncPeriod is not a string'],
    ['mistyped list', '{"kubeproxy.config.k8s.io":{"NodePortAddresses":"10.0.0.0/8"}}', 'nodePortAddresses is not a list'],
  ])('rejects %s', (_why, body, text) => {
    expectInvalid(() => parseConfigz(body), text);
  });
});

describe('the local-traffic detector and the masquerade bits', () => {
  const configz = (c: object): unknown => ({ 'kubeproxy.config.k8s.io': c });
  it.each([
    { name: 'internal config before v1.31: one comma-separated ClusterCIDR', doc: configz({ ClusterCIDR: '10.244.0.0/16, fd00:10:244::/56' }), expected: { clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'] } },
    { name: 'internal config since v1.31: DetectLocal.ClusterCIDRs wins', doc: configz({ ClusterCIDR: '10.0.0.0/8', DetectLocal: { ClusterCIDRs: ['10.244.0.0/16'] } }), expected: { clusterCIDRs: ['10.244.0.0/16'] } },
    // fast-check counterexample: an empty entry is no CIDR.
    { name: 'regression: DetectLocal.ClusterCIDRs [""]', doc: configz({ DetectLocal: { ClusterCIDRs: [''] } }), expected: { clusterCIDRs: [] } },
    { name: 'NodeCIDR with a bridge', doc: configz({ DetectLocalMode: 'NodeCIDR', DetectLocal: { BridgeInterface: 'cbr0' } }), expected: { detectLocalMode: 'NodeCIDR', detectLocalBridgeInterface: 'cbr0' } },
    { name: 'both masquerade bits', doc: configz({ IPTables: { MasqueradeBit: 12 }, NFTables: { MasqueradeBit: 15 } }), expected: { iptablesMasqueradeBit: 12, nftablesMasqueradeBit: 15 } },
  ])('$name', ({ doc, expected }) => {
    expect(parseConfigz(doc)).toMatchObject(expected);
  });

  it('reads v1alpha2 detectLocal.clusterCIDRs and a null masqueradeBit as 14', () => {
    const config = parseKubeProxyConfigMap('apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\ndetectLocalMode: ClusterCIDR\ndetectLocal:\n  clusterCIDRs: [10.244.0.0/16]\nnftables:\n  masqueradeBit: null\n');
    expect(config).toMatchObject({ detectLocalMode: 'ClusterCIDR', clusterCIDRs: ['10.244.0.0/16'], nftablesMasqueradeBit: 14 });
  });

  it.each([
    ['a negative bit', { IPTables: { MasqueradeBit: -1 } }, 'masqueradeBit is not a non-negative integer'],
    ['a fractional bit', { NFTables: { MasqueradeBit: 1.5 } }, 'masqueradeBit is not a non-negative integer'],
    ['ClusterCIDRs not a list', { DetectLocal: { ClusterCIDRs: '10.0.0.0/8' } }, 'clusterCIDRs is not a list'],
    ['DetectLocal not an object', { DetectLocal: 'x' }, 'detectLocal is not an object'],
  ])('rejects %s', (_why, doc, text) => {
    expectInvalid(() => parseConfigz(configz(doc)), text);
  });
});

describe('parseKubeProxyConfigMap', () => {
  it('applies kube-proxy defaulting to the kubeadm config.conf', () => {
    expect(parseKubeProxyConfigMap(fixture('configmap-kubeadm-default.yaml'))).toEqual({ ...KUBE_PROXY_DEFAULTS, clusterCIDRs: ['10.244.0.0/16'] });
  });

  it('reads a tuned IPVS config', () => {
    expect(parseKubeProxyConfigMap(fixture('configmap-ipvs-tuned.yaml'))).toEqual({
      mode: 'ipvs',
      scheduler: 'wrr',
      syncPeriodSeconds: 60,
      minSyncPeriodSeconds: 0.5,
      excludeCIDRs: ['10.0.100.0/24', 'fd00:100::/64'],
      nodePortAddresses: ['192.168.122.0/24'],
      strictARP: true,
      tcpTimeoutSeconds: 900,
      tcpFinTimeoutSeconds: 0,
      udpTimeoutSeconds: 0,
      metricsBindAddress: '0.0.0.0:10249',
      detectLocalMode: '',
      clusterCIDRs: ['10.244.0.0/16'],
      detectLocalBridgeInterface: '',
      detectLocalInterfaceNamePrefix: '',
      iptablesMasqueradeBit: 14,
      nftablesMasqueradeBit: 14,
    });
  });

  it('reads v1alpha2 (top-level sync periods, minSyncPeriod default 1s)', () => {
    const config = parseKubeProxyConfigMap('apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\nmode: ipvs\nsyncPeriod: 10s\n');
    expect(config).toMatchObject({ mode: 'ipvs', syncPeriodSeconds: 10, minSyncPeriodSeconds: 1 });
  });

  it.each([
    ['::1', '[::1]:10249'],
    ['[::]:9999', '[::]:9999'],
    ['127.0.0.1:10249', '127.0.0.1:10249'],
    ['0.0.0.0', '0.0.0.0:10249'],
  ])('metricsBindAddress %s → %s', (value, expected) => {
    expect(parseKubeProxyConfigMap(`kind: KubeProxyConfiguration\nmetricsBindAddress: "${value}"\n`).metricsBindAddress).toBe(expected);
  });

  it('defaults metricsBindAddress to [::1]:10249 for an IPv6 bindAddress', () => {
    expect(parseKubeProxyConfigMap('kind: KubeProxyConfiguration\nbindAddress: "fd00::10"\n').metricsBindAddress).toBe('[::1]:10249');
  });

  it.each([
    ['not YAML', 'mode: [ipvs', 'not YAML'],
    ['not a mapping', '- ipvs\n', 'not a YAML mapping'],
    ['another kind', 'kind: KubeletConfiguration\n', 'kind is KubeletConfiguration'],
    ['bad duration', 'kind: KubeProxyConfiguration\nipvs:\n  syncPeriod: 30\n', 'syncPeriod is not a string'],
    ['garbage duration', 'kind: KubeProxyConfiguration\nipvs:\n  syncPeriod: 30 seconds\n', 'syncPeriod is not a duration'],
    ['strictARP not a boolean', 'kind: KubeProxyConfiguration\nipvs:\n  strictARP: "yes"\n', 'strictARP is not a boolean'],
  ])('rejects %s', (_why, text, message) => {
    expectInvalid(() => parseKubeProxyConfigMap(text), message);
  });
});

describe('resolveKubeProxyConfig', () => {
  const configz = JSON.parse(fixture('configz-v1.31-ipvs.json')) as unknown;
  const configMapText = fixture('configmap-ipvs-tuned.yaml');

  it.each([
    { name: 'configz wins', input: { configz, configMapText }, source: 'configz', scheduler: 'lc', problems: 0 },
    { name: 'ConfigMap when configz is unreachable', input: { configz: null, configMapText }, source: 'configmap', scheduler: 'wrr', problems: 1 },
    { name: 'ConfigMap when configz is empty', input: { configz: { 'kubeproxy.config.k8s.io': null }, configMapText }, source: 'configmap', scheduler: 'wrr', problems: 1 },
    { name: 'defaults when both are missing', input: { configz: null, configMapText: null }, source: 'defaults', scheduler: '', problems: 2 },
    { name: 'defaults when the ConfigMap is broken', input: { configz: null, configMapText: 'kind: Pod\n' }, source: 'defaults', scheduler: '', problems: 2 },
  ])('$name', ({ input, source, scheduler, problems }) => {
    const resolved = resolveKubeProxyConfig(input);
    expect(resolved.source).toBe(source);
    expect(resolved.config.scheduler).toBe(scheduler);
    expect(resolved.problems).toHaveLength(problems);
  });

  it('does not share the defaults object', () => {
    const resolved = resolveKubeProxyConfig({ configz: null, configMapText: null });
    resolved.config.excludeCIDRs.push('10.0.0.0/8');
    expect(KUBE_PROXY_DEFAULTS.excludeCIDRs).toEqual([]);
  });
});

describe('checkProxyMode', () => {
  it.each([
    [null, 'ipvs', null],
    ['ipvs', null, null],
    ['ipvs', 'ipvs', null],
    ['iptables', 'ipvs', 'ipvs'],
    ['nftables', 'ipvs', 'ipvs'],
    ['ipvs', '', 'iptables'],
    ['ipvs', 'nftables', 'nftables'],
    ['iptables', '', null],
    ['nftables', 'iptables', null],
    ['IPVS', 'ipvs', null],
  ])('running %s, configured %j → expected %s', (runningMode, configuredMode, expectedMode) => {
    const findings = checkProxyMode({ runningMode, configuredMode });
    if (expectedMode === null) {
      expect(findings).toEqual([]);
      return;
    }
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ kind: 'proxy-mode-mismatch', severity: 'critical', selfHealing: false, expected: { mode: expectedMode }, actual: { mode: runningMode?.toLowerCase() } });
    expect(findings[0]?.message).toContain('restart kube-proxy');
  });
});
