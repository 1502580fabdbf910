/**
 * manifests/: every object valid against the Kubernetes OpenAPI schemas (and no field the API does
 * not know), RBAC exactly what the agent reads, the DaemonSet's security and the CLI flags it uses.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FLAGS, parseCommandLine } from '../../../src/cli/flags.js';
import { build, MANIFESTS, readKustomization, REPO_ROOT, schemaErrors, unknownFields, type K8sObject, type LoadedObject } from './load.js';

interface Container {
  name: string;
  image: string;
  args: string[];
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string | number } };
  readinessProbe: { httpGet: { path: string; port: string | number } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown> & { capabilities: { drop: string[]; add: string[] } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface DaemonSetSpec {
  updateStrategy: { type: string; rollingUpdate: { maxUnavailable: string | number } };
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      serviceAccountName: string;
      hostNetwork: boolean;
      hostPID?: boolean;
      hostIPC?: boolean;
      dnsPolicy: string;
      tolerations: Record<string, string>[];
      priorityClassName: string;
      securityContext: { seccompProfile: { type: string } };
      containers: Container[];
      volumes: { name: string; hostPath: { path: string; type: string } }[];
    };
  };
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const core = build(MANIFESTS);
const find = (objects: LoadedObject[], kind: string, namespace?: string): K8sObject[] =>
  objects.map((o) => o.object).filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
const one = (kind: string): K8sObject => {
  const all = find(core, kind);
  expect(all, kind).toHaveLength(1);
  return all[0] as K8sObject;
};
const daemonSet = one('DaemonSet').spec as DaemonSetSpec;
const pod = daemonSet.template.spec;
const container = pod.containers[0] as Container;

/** Every kustomization under manifests/, and every object each one builds. */
function kustomizations(dir: string): string[] {
  const subdirs = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory());
  // Components (manifests/components/) build only on top of a kustomization: components.test.ts builds them so.
  const own = existsSync(join(dir, 'kustomization.yaml')) && readKustomization(dir).kind !== 'Component' ? [dir] : [];
  return [...own, ...subdirs.flatMap((d) => kustomizations(join(dir, d.name)))];
}
const ALL_DIRS = kustomizations(MANIFESTS);

describe('kustomize layout', () => {
  it.each(ALL_DIRS.map((d) => [relative(REPO_ROOT, d), d]))('%s lists every manifest beside it and builds', (_name, dir) => {
    const listed = new Set((readKustomization(dir).resources ?? []).filter((r) => r.endsWith('.yaml')));
    const present = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...listed].sort()).toEqual(present.sort());
    expect(build(dir).length).toBeGreaterThan(0);
  });

  it('the default build has no CRD-backed objects, so it applies on a cluster without the Prometheus Operator', () => {
    expect(core.map((o) => o.object.apiVersion).filter((v) => v.startsWith('monitoring.coreos.com'))).toEqual([]);
    expect(core.map((o) => o.object.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'Namespace', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'].sort(),
    );
  });

  it('every namespaced object names its namespace (the kustomization sets none, so the kube-system Role stays there)', () => {
    expect(readKustomization(MANIFESTS)).not.toHaveProperty('namespace');
    for (const { object } of core) {
      if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind)) continue;
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(object.kind.startsWith('Role') ? 'kube-system' : 'ipvs-sentinel');
    }
  });
});

describe('Kubernetes schemas', () => {
  const everything = ALL_DIRS.flatMap((d) => build(d));
  const cases = everything.map((o) => [`${o.file}: ${o.object.kind} ${o.object.metadata.name}`, o.object] as const);

  it.each(cases)('%s is valid against its schema', (_name, object) => {
    expect(schemaErrors(object)).toEqual([]);
  });

  it.each(cases)('%s has no field the API does not know', (_name, object) => {
    expect(unknownFields(object)).toEqual([]);
  });

  it('the checks catch a wrong type and a misspelt field', () => {
    const broken = structuredClone(one('DaemonSet')) as K8sObject & { spec: DaemonSetSpec };
    (broken.spec.template.spec.containers[0] as unknown as Record<string, unknown>).securityContext = {
      capabilities: { add: 'NET_ADMIN' },
      readOnlyRootFileSystem: true,
    };
    expect(schemaErrors(broken).join('\n')).toMatch(/capabilities\/add: must be array/);
    expect(unknownFields(broken)).toEqual(['.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem']);
  });
});

describe('RBAC: exactly what the agent reads', () => {
  const rules = (kind: string): PolicyRule[] => (one(kind).rules as PolicyRule[]).map((r) => ({ ...r, verbs: [...r.verbs].sort() }));

  it('cluster-wide: get/list/watch Services, Nodes and EndpointSlices, create/patch Events, nothing else', () => {
    const granted = rules('ClusterRole').flatMap((r) => r.resources.map((res) => `${r.apiGroups.join(',')}/${res}: ${r.verbs.join(',')}`));
    expect(granted.sort()).toEqual(['/nodes: get,list,watch', '/services: get,list,watch', 'discovery.k8s.io/endpointslices: get,list,watch', 'events.k8s.io/events: create,patch']);
  });

  it('kube-system: only the kube-proxy ConfigMap, by name', () => {
    expect(rules('Role')).toEqual([{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['kube-proxy'], verbs: ['get', 'list', 'watch'] }]);
  });

  it('no wildcards, no secrets, no write verbs anywhere but on Events', () => {
    for (const kind of ['ClusterRole', 'Role']) {
      const text = JSON.stringify((one(kind).rules as PolicyRule[]).filter((r) => !r.apiGroups.includes('events.k8s.io')));
      expect(text).not.toContain('*');
      expect(text).not.toContain('secrets');
      expect(text).not.toMatch(/"(create|update|patch|delete|deletecollection|escalate|bind|impersonate)"/);
    }
  });

  it('both bindings grant their role to the agent ServiceAccount only', () => {
    const sa = one('ServiceAccount').metadata;
    for (const [binding, role] of [
      ['ClusterRoleBinding', 'ClusterRole'],
      ['RoleBinding', 'Role'],
    ] as const) {
      const b = one(binding) as K8sObject & { roleRef: { kind: string; name: string }; subjects: unknown[] };
      expect(b.roleRef).toMatchObject({ kind: role, name: one(role).metadata.name });
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace }]);
    }
    expect(pod.serviceAccountName).toBe(sa.name);
  });
});

describe('DaemonSet', () => {
  it('runs on every node in the host network namespace, first to be scheduled', () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(pod.hostPID ?? false).toBe(false);
    expect(pod.hostIPC ?? false).toBe(false);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.priorityClassName).toBe('system-node-critical');
    expect(daemonSet.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } });
  });

  it('is least-privilege: uid 0 with CAP_NET_ADMIN and CAP_NET_RAW only, read-only root, no escalation, RuntimeDefault seccomp', () => {
    expect(pod.containers).toHaveLength(1);
    expect(container.securityContext).toEqual({
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
  });

  it("is what the README's Security section shows", () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const security = readme.slice(readme.indexOf('\n## Security\n'), readme.indexOf('\n## ', readme.indexOf('\n## Security\n') + 1));
    const block = /```yaml\n(securityContext:\n[\s\S]*?)```/.exec(security)?.[1];
    expect(block, 'README Security has no securityContext block').toBeDefined();
    const shown = (parse(block ?? '') as { securityContext: Record<string, unknown> }).securityContext;
    expect({ ...container.securityContext, runAsGroup: undefined }).toEqual({ ...shown, runAsGroup: undefined });
  });

  it('mounts only /lib/modules from the host, read-only', () => {
    expect(pod.volumes).toEqual([{ name: 'lib-modules', hostPath: { path: '/lib/modules', type: 'Directory' } }]);
    expect(container.volumeMounts).toEqual([{ name: 'lib-modules', mountPath: '/lib/modules', readOnly: true }]);
  });

  it('passes only flags the CLI documents, and they parse', () => {
    expect(container.args[0]).toBe('serve');
    const known = new Set(FLAGS.map((f) => f.name));
    for (const arg of container.args.slice(1)) {
      const name = /^--([a-z-]+)=/.exec(arg)?.[1];
      expect(name && known.has(name), arg).toBe(true);
    }
    const env = new Map(container.env.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    expect(env).toEqual(
      new Map([
        ['NODE_NAME', 'spec.nodeName'],
        ['NODE_IP', 'status.hostIP'],
      ]),
    );
    // Kubernetes expands $(VAR) from the container's env; every reference must be defined.
    const refs = container.args.flatMap((a) => [...a.matchAll(/\$\(([A-Z_]+)\)/g)].map((m) => m[1]));
    for (const ref of refs) expect(env.has(ref ?? ''), ref).toBe(true);
    const expanded = container.args.map((a) => a.replace('$(NODE_IP)', '10.0.0.10').replace('$(NODE_NAME)', 'node-a'));
    const parsed = parseCommandLine(expanded, {});
    expect(parsed.command).toBe('serve');
    expect(parsed.options.listen).toEqual({ host: '10.0.0.10', port: 9742 });
    expect(parsed.options.nodeName).toBe('node-a');
  });

  it('probes /livez and /readyz on the port it listens on', () => {
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 9742, protocol: 'TCP' }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
  });

  it('requests resources and caps memory, without a CPU limit (throttling would delay reads)', () => {
    expect(container.resources.requests).toEqual({ cpu: '20m', memory: '96Mi' });
    expect(container.resources.limits).toEqual({ memory: '512Mi' });
    expect(Object.keys(container.resources.limits)).toEqual(['memory']);
  });

  it('uses the image the kustomization pins', () => {
    expect(container.image).toBe('ipvs-sentinel:0.1.0');
  });

  it('is selected by the headless metrics Service', () => {
    const svc = one('Service').spec as { clusterIP: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
    expect(svc.clusterIP).toBe('None');
    expect(svc.ports).toEqual([{ name: 'metrics', port: 9742, targetPort: 'metrics', protocol: 'TCP' }]);
    for (const [k, v] of Object.entries(svc.selector)) expect(daemonSet.template.metadata.labels[k]).toBe(v);
  });

  it('lives in a namespace whose Pod Security level admits hostNetwork, NET_ADMIN and NET_RAW', () => {
    expect(one('Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });
});
