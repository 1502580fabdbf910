/**
 * Large cluster-state files as `kubectl get services,endpointslices,nodes -A -o yaml|json` writes
 * them (a `v1 List`: apiVersion, items, kind, metadata; YAML sequences not indented under their key,
 * JSON indented by four), generated at test or bench time instead of committing megabytes.
 */

export interface StateDumpSize {
  /** Services; each has one EndpointSlice, so the List holds 2 × services + nodes objects. */
  services: number;
  /** Endpoints per EndpointSlice. */
  endpointsPerSlice: number;
  nodes: number;
}

function ip4(base: number, n: number): string {
  const v = base + n;
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function uid(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `6f0b0e5c-3a0b-4f63-9d2e-${hex}`;
}

function service(s: number): Record<string, unknown> {
  const clusterIP = ip4(0x0a600000, s + 1);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      creationTimestamp: '2025-03-05T12:01:10Z',
      labels: { app: `app-${s}` },
      name: `svc-${s}`,
      namespace: `ns-${s % 100}`,
      resourceVersion: String(1000 + s),
      uid: uid(s),
    },
    spec: {
      clusterIP,
      clusterIPs: [clusterIP],
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      selector: { app: `app-${s}` },
      sessionAffinity: 'None',
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  };
}

function endpointSlice(s: number, size: StateDumpSize): Record<string, unknown> {
  const endpoints = [];
  for (let e = 0; e < size.endpointsPerSlice; e++) {
    const n = s * size.endpointsPerSlice + e;
    endpoints.push({
      addresses: [ip4(0x0af40000, n)],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${n % size.nodes}`,
      targetRef: { kind: 'Pod', name: `app-${s}-${e}`, namespace: `ns-${s % 100}`, uid: uid(1_000_000 + n) },
    });
  }
  return {
    addressType: 'IPv4',
    apiVersion: 'discovery.k8s.io/v1',
    endpoints,
    kind: 'EndpointSlice',
    metadata: {
      creationTimestamp: '2025-03-05T12:01:10Z',
      generation: 1,
      labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': `svc-${s}` },
      name: `svc-${s}-abcde`,
      namespace: `ns-${s % 100}`,
      resourceVersion: String(2000 + s),
      uid: uid(500_000 + s),
    },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function node(n: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { labels: { 'kubernetes.io/hostname': `node-${n}`, 'topology.kubernetes.io/zone': `zone-${'abc'[n % 3]}` }, name: `node-${n}` },
    status: { addresses: [{ address: ip4(0x0a000000, 10 + n), type: 'InternalIP' }, { address: `node-${n}`, type: 'Hostname' }] },
  };
}

function* items(size: StateDumpSize): Generator<Record<string, unknown>> {
  for (let s = 0; s < size.services; s++) {
    yield service(s);
    yield endpointSlice(s, size);
  }
  for (let n = 0; n < size.nodes; n++) yield node(n);
}

/** A YAML scalar as kubectl (go-yaml) writes it: plain when unambiguous, else double-quoted. */
function yamlScalar(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  const plain = /^[A-Za-z0-9][\w./-]*$/.test(value) && !/^[-+]?(\.\d+|\d+(\.\d*)?)([eE][-+]?\d+)?$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

/** `map` as block-mapping lines at `indent`; its first line starts with `first` (a sequence entry's "- "). */
function yamlMap(map: Record<string, unknown>, indent: string, out: string[], first = indent): void {
  Object.entries(map).forEach(([key, value], i) => {
    const lead = `${i === 0 ? first : indent}${yamlScalar(key)}:`;
    if (Array.isArray(value) && value.length > 0) {
      out.push(lead);
      // A sequence under a key sits at the key's indentation, as kubectl writes it.
      for (const item of value) {
        if (item !== null && typeof item === 'object') yamlMap(item as Record<string, unknown>, `${indent}  `, out, `${indent}- `);
        else out.push(`${indent}- ${yamlScalar(item)}`);
      }
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      out.push(lead);
      yamlMap(value as Record<string, unknown>, `${indent}  `, out);
    } else if (value !== null && typeof value === 'object') {
      out.push(`${lead} ${Array.isArray(value) ? '[]' : '{}'}`);
    } else {
      out.push(`${lead} ${yamlScalar(value)}`);
    }
  });
}

/** The List as `kubectl get … -o yaml` writes it. */
export function stateDumpYaml(size: StateDumpSize): string {
  const out: string[] = ['apiVersion: v1', 'items:'];
  for (const item of items(size)) yamlMap(item, '  ', out, '- ');
  out.push('kind: List', 'metadata:', '  resourceVersion: ""', '');
  return out.join('\n');
}

/** The List as `kubectl get … -o json` writes it. */
export function stateDumpJson(size: StateDumpSize): string {
  const parts: string[] = [];
  for (const item of items(size)) parts.push(`        ${JSON.stringify(item, null, 4).replaceAll('\n', '\n        ')}`);
  return `{\n    "apiVersion": "v1",\n    "items": [\n${parts.join(',\n')}\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n`;
}

/** How many objects of each kind a dump of `size` holds. */
export function stateDumpCounts(size: StateDumpSize): { services: number; endpointSlices: number; nodes: number } {
  return { services: size.services, endpointSlices: size.services, nodes: size.nodes };
}
