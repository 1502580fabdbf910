/**
 * manifests/components/auth: the auth-on variant on top of the default build (and its monitoring
 * part on top of manifests/monitoring), valid against the schemas, with exactly the RBAC --auth=kube
 * needs and a DaemonSet whose flags the agent accepts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/flags.js';
import { applyComponent, build, MANIFESTS, schemaErrors, unknownFields, type K8sObject } from './load.js';

const AUTH = join(MANIFESTS, 'components', 'auth');
const withAuth = applyComponent(AUTH, build(MANIFESTS)).map((o) => o.object);
const monitoring = applyComponent(join(AUTH, 'monitoring'), build(join(MANIFESTS, 'monitoring'))).map((o) => o.object);

const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

describe('manifests/components/auth', () => {
  it.each([...withAuth, ...monitoring].map((o) => [`${o.kind} ${o.metadata.name}`, o] as const))('%s is valid, with no unknown field', (_name, object) => {
    expect(schemaErrors(object)).toEqual([]);
    expect(unknownFields(object)).toEqual([]);
  });

  it('the agent may create TokenReviews and SubjectAccessReviews, nothing more, bound to its ServiceAccount', () => {
    expect(named(withAuth, 'ClusterRole', 'ipvs-sentinel-auth').rules).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    expect(named(withAuth, 'ClusterRoleBinding', 'ipvs-sentinel-auth').subjects).toEqual([{ kind: 'ServiceAccount', name: 'ipvs-sentinel', namespace: 'ipvs-sentinel' }]);
  });

  it('readers: /metrics alone for Prometheus, the table and findings for people; get only', () => {
    expect(named(withAuth, 'ClusterRole', 'ipvs-sentinel-metrics-reader').rules as Rule[]).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    expect(named(withAuth, 'ClusterRole', 'ipvs-sentinel-reader').rules as Rule[]).toEqual([{ nonResourceURLs: ['/metrics', '/ipvs', '/drift', '/modules'], verbs: ['get'] }]);
    expect((named(withAuth, 'ClusterRoleBinding', 'ipvs-sentinel-metrics-reader').roleRef as { name: string }).name).toBe('ipvs-sentinel-metrics-reader');
  });

  it('the DaemonSet runs --auth=kube on the node IP and probes over HTTPS', () => {
    const container = (named(withAuth, 'DaemonSet', 'ipvs-sentinel').spec as { template: { spec: { containers: { args: string[]; livenessProbe: { httpGet: { scheme?: string; path: string } }; readinessProbe: { httpGet: { scheme?: string; path: string } } }[] } } }).template.spec.containers[0];
    const args = (container?.args ?? []).map((a) => a.replace('$(NODE_IP)', '10.0.0.10').replace('$(NODE_NAME)', 'node-a'));
    const options = parseCommandLine(args, {}).options;
    expect(options.auth).toBe('kube');
    expect(options.listen.host).toBe('10.0.0.10');
    expect(container?.livenessProbe.httpGet).toMatchObject({ scheme: 'HTTPS', path: '/livez' });
    expect(container?.readinessProbe.httpGet).toMatchObject({ scheme: 'HTTPS', path: '/readyz' });
  });

  it('the ServiceMonitor scrapes over HTTPS with Prometheus’s ServiceAccount token', () => {
    const endpoint = (named(monitoring, 'ServiceMonitor', 'ipvs-sentinel').spec as { endpoints: Record<string, unknown>[] }).endpoints[0];
    expect(endpoint).toMatchObject({ scheme: 'https', path: '/metrics', bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token', tlsConfig: { insecureSkipVerify: true } });
  });
});
