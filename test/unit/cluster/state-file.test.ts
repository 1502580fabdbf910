import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseClusterState } from '../../../src/cluster/state-file.js';
import { SentinelError } from '../../../src/errors/index.js';

async function fixture(name: string): Promise<string> {
  return readFile(new URL(`../../fixtures/cluster/${name}`, import.meta.url), 'utf8');
}

function parseError(text: string): SentinelError {
  try {
    parseClusterState(text, 'state.yaml');
  } catch (e) {
    if (e instanceof SentinelError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('parseClusterState', () => {
  it.each([
    { file: 'kubeadm-ipv4.yaml', services: 10, slices: 9, nodes: 3, configMap: true },
    { file: 'kubeadm-dualstack.yaml', services: 6, slices: 10, nodes: 3, configMap: false },
    { file: 'multi-document.yaml', services: 1, slices: 1, nodes: 1, configMap: false },
    { file: 'list.json', services: 1, slices: 1, nodes: 1, configMap: false },
  ])('$file: Services, EndpointSlices, Nodes and the kube-proxy ConfigMap', async ({ file, services, slices, nodes, configMap }) => {
    const state = parseClusterState(await fixture(file), file);
    expect(state.services).toHaveLength(services);
    expect(state.endpointSlices).toHaveLength(slices);
    expect(state.nodes).toHaveLength(nodes);
    expect(state.kubeProxyConfigMap !== null).toBe(configMap);
  });

  it('keeps the kube-proxy config.conf text verbatim and drops ignored objects', async () => {
    const state = parseClusterState(await fixture('kubeadm-ipv4.yaml'));
    expect(state.kubeProxyConfigMap).toContain('mode: ipvs');
    expect(state.kubeProxyConfigMap?.startsWith('apiVersion: kubeproxy.config.k8s.io/v1alpha1\n')).toBe(true);
    expect(state.services.map((s) => s.name)).not.toContain('mesh-gateway');
    expect(state.endpointSlices.map((s) => s.name)).not.toContain('db-7tq4w');
  });

  it('flattens nested Lists, accepts typed API lists whose items have no kind, skips empty documents', () => {
    const text = JSON.stringify({
      kind: 'List',
      items: [
        { kind: 'List', items: [{ kind: 'Node', metadata: { name: 'n1' } }] },
        { kind: 'ServiceList', apiVersion: 'v1', items: [{ metadata: { name: 'a', namespace: 'ns' }, spec: { clusterIP: '10.96.0.1' } }] },
        { kind: 'ConfigMapList', items: [{ metadata: { name: 'other', namespace: 'kube-system' }, data: { 'config.conf': 'x' } }] },
      ],
    });
    const state = parseClusterState(text);
    expect(state.nodes.map((n) => n.name)).toEqual(['n1']);
    expect(state.services.map((s) => s.name)).toEqual(['a']);
    expect(state.kubeProxyConfigMap).toBeNull();
    expect(parseClusterState('---\n---\n')).toEqual({ services: [], endpointSlices: [], nodes: [], kubeProxyConfigMap: null });
  });

  it('later duplicates replace earlier ones', () => {
    const doc = (ip: string): string => `kind: Service\nmetadata: {name: a, namespace: ns}\nspec: {clusterIP: ${ip}}\n`;
    const state = parseClusterState(`${doc('10.96.0.1')}---\n${doc('10.96.0.2')}`);
    expect(state.services.map((s) => s.clusterIP)).toEqual(['10.96.0.2']);
  });

  it.each([
    {
      name: 'unknown kind, with its position',
      text: 'apiVersion: v1\nkind: List\nitems:\n- kind: Service\n  metadata: {name: a, namespace: ns}\n- kind: Pod\n  metadata: {name: p, namespace: ns}\n',
      message: /document 1 items\[1\] has kind Pod/,
    },
    { name: 'item without kind', text: 'kind: List\nitems:\n- metadata: {name: a}\n', message: /document 1 items\[0\] has kind \(none\)/ },
    { name: 'kind in a later document', text: 'kind: Node\nmetadata: {name: n}\n---\nkind: Secret\n', message: /document 2 has kind Secret/ },
    { name: 'malformed YAML, with line', text: 'kind: List\nitems:\n  - kind: Service\n   metadata: [\n', message: /malformed YAML at line \d+, column \d+/ },
    { name: 'malformed JSON, with line', text: '{\n  "kind": "List",\n  "items": [,]\n}\n', message: /malformed JSON at line 3, column \d+/ },
    { name: 'malformed JSON with a position', text: '{\n  "kind": "List",\n}\n', message: /malformed JSON at line 3, column 1/ },
    { name: 'a scalar document', text: 'just text\n', message: /document 1 is not a Kubernetes object/ },
    { name: 'items that is not a list', text: 'kind: List\nitems: {}\n', message: /items is not a list/ },
    { name: 'a Service without a namespace', text: 'kind: Service\nmetadata: {name: a}\n', message: /document 1 \(Service\): Service a has no metadata.namespace/ },
  ])('$name → CLUSTER_STATE_INVALID', ({ text, message }) => {
    const error = parseError(text);
    expect(error.code).toBe('CLUSTER_STATE_INVALID');
    expect(error.message).toMatch(message);
    expect(error.message.startsWith('state.yaml: ') || error.message.includes('document')).toBe(true);
  });
});
