/**
 * Reads manifests/ as kustomize would (resources, directories, configMapGenerator, `$patch: delete`),
 * and validates objects offline: the Kubernetes OpenAPI schemas compiled by kubernetes-models and the
 * Prometheus Operator CRD schemas compiled by @kubernetes-models/prometheus-operator, plus a strict
 * unknown-field check (what `kubectl apply --validate=strict` adds) from client-node's model tables.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MANIFESTS = join(REPO_ROOT, 'manifests');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export interface LoadedObject {
  /** Repository-relative file the object came from ("generated" for configMapGenerator output). */
  file: string;
  object: K8sObject;
}

interface Kustomization {
  /** Kustomization, or Component (manifests/components/: applied on top of a build with applyComponent). */
  kind?: string;
  resources?: string[];
  configMapGenerator?: { name: string; namespace?: string; files?: string[]; options?: { labels?: Record<string, string>; disableNameSuffixHash?: boolean } }[];
  patches?: { patch: string; target?: { kind: string; name: string } }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

export function readKustomization(dir: string): Kustomization {
  const docs = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
  return docs[0]?.toJS() as Kustomization;
}

export function readYamlFile(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as K8sObject;
  });
}

const key = (o: K8sObject): string => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The objects `kubectl apply -k dir` would apply (the subset of kustomize this repository uses). */
export function build(dir: string): LoadedObject[] {
  const k = readKustomization(dir);
  const out: LoadedObject[] = [];
  for (const res of k.resources ?? []) {
    const path = resolve(dir, res);
    if (!existsSync(path)) throw new Error(`${relative(REPO_ROOT, dir)}/kustomization.yaml: resource ${res} does not exist`);
    if (statSync(path).isDirectory()) out.push(...build(path));
    else out.push(...readYamlFile(path).map((object) => ({ file: relative(REPO_ROOT, path), object })));
  }
  for (const gen of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const spec of gen.files ?? []) {
      const [name, file] = spec.includes('=') ? spec.split('=', 2) : [spec.split('/').at(-1), spec];
      data[name ?? ''] = readFileSync(resolve(dir, file ?? ''), 'utf8');
    }
    const metadata = { name: gen.name, ...(gen.namespace ? { namespace: gen.namespace } : {}), ...(gen.options?.labels ? { labels: gen.options.labels } : {}) };
    out.push({ file: 'generated', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata, data } });
  }
  for (const { patch, target } of k.patches ?? []) {
    if (target) {
      applyJsonPatch(out, target, patch, k.kind === 'Component');
      continue;
    }
    const p = parseAllDocuments(patch)[0]?.toJS() as K8sObject & { $patch?: string };
    if (p.$patch !== 'delete') throw new Error(`only $patch: delete patches are modelled, not ${patch}`);
    const i = out.findIndex((o) => key(o.object) === key(p));
    if (i < 0) throw new Error(`patch deletes ${key(p)}, which the resources do not have`);
    out.splice(i, 1);
  }
  for (const img of k.images ?? []) {
    for (const { object } of out) {
      for (const c of podContainers(object)) {
        if (c.image === img.name) c.image = `${img.newName ?? img.name}${img.newTag ? `:${img.newTag}` : ''}`;
      }
    }
  }
  return out;
}

/**
 * A Component's objects and patches on top of `base` (what `components:` does in a kustomization);
 * `base` is changed in place.
 */
export function applyComponent(dir: string, base: LoadedObject[]): LoadedObject[] {
  const k = readKustomization(dir);
  for (const res of k.resources ?? []) base.push(...readYamlFile(resolve(dir, res)).map((object) => ({ file: relative(REPO_ROOT, resolve(dir, res)), object })));
  for (const { patch, target } of k.patches ?? []) {
    if (!target) throw new Error(`${relative(REPO_ROOT, dir)}: only JSON 6902 patches with a target are modelled in components`);
    applyJsonPatch(base, target, patch, false);
  }
  return base;
}

/** JSON 6902 `add` and `replace` ops (RFC 6902; `-` appends to an array) on the objects `target` names. */
function applyJsonPatch(objects: LoadedObject[], target: { kind: string; name: string }, patch: string, absentIsFine: boolean): void {
  const matching = objects.filter((o) => o.object.kind === target.kind && o.object.metadata.name === target.name);
  if (matching.length === 0 && !absentIsFine) throw new Error(`patch targets ${target.kind} ${target.name}, which the build does not have`);
  const ops = parseAllDocuments(patch)[0]?.toJS() as { op: string; path: string; value: unknown }[];
  for (const { object } of matching) {
    for (const { op, path, value } of ops) {
      if (op !== 'add' && op !== 'replace') throw new Error(`only add and replace JSON patch ops are modelled, not ${op}`);
      const parts = path.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
      const last = parts.pop() ?? '';
      let node: unknown = object;
      for (const part of parts) {
        node = (node as Record<string, unknown>)[part];
        if (node === undefined) throw new Error(`JSON patch path ${path} does not exist in ${target.kind} ${target.name}`);
      }
      if (Array.isArray(node) && last === '-') node.push(value);
      else (node as Record<string, unknown>)[last] = value;
    }
  }
}

function podContainers(o: K8sObject): { image?: string }[] {
  const spec = (o.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)?.template?.spec;
  return spec?.containers ?? [];
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/** The schema-validating model for each kind the manifests use; client-node type for the strict check. */
const MODELS: Record<string, { model: ModelClass; strictType?: string }> = {
  'v1/Namespace': { model: Namespace, strictType: 'V1Namespace' },
  'v1/ServiceAccount': { model: ServiceAccount, strictType: 'V1ServiceAccount' },
  'v1/Service': { model: Service, strictType: 'V1Service' },
  'v1/ConfigMap': { model: ConfigMap, strictType: 'V1ConfigMap' },
  'apps/v1/DaemonSet': { model: DaemonSet, strictType: 'V1DaemonSet' },
  'rbac.authorization.k8s.io/v1/ClusterRole': { model: ClusterRole, strictType: 'V1ClusterRole' },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { model: ClusterRoleBinding, strictType: 'V1ClusterRoleBinding' },
  'rbac.authorization.k8s.io/v1/Role': { model: Role, strictType: 'V1Role' },
  'rbac.authorization.k8s.io/v1/RoleBinding': { model: RoleBinding, strictType: 'V1RoleBinding' },
  'monitoring.coreos.com/v1/ServiceMonitor': { model: ServiceMonitor },
  'monitoring.coreos.com/v1/PodMonitor': { model: PodMonitor },
  'monitoring.coreos.com/v1/PrometheusRule': { model: PrometheusRule },
};

/** Schema errors of one object, as "path: message" lines; [] when valid. */
export function schemaErrors(o: K8sObject): string[] {
  const entry = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!entry) return [`no schema known for ${o.apiVersion} ${o.kind}`];
  try {
    new entry.model(structuredClone(o) as never).validate();
  } catch (err) {
    const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    return errors?.map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`) ?? [String(err)];
  }
  return [];
}

interface AttributeType {
  baseName: string;
  type: string;
}
type ModelTable = { getAttributeTypeMap?: () => AttributeType[] };

/** Fields the Kubernetes API does not know (the API server would drop or, strictly, reject them). */
export function unknownFields(o: K8sObject): string[] {
  const type = MODELS[`${o.apiVersion}/${o.kind}`]?.strictType;
  if (!type) return [];
  const found: string[] = [];
  walk(o, type, '', found);
  return found;
}

function walk(value: unknown, type: string, path: string, found: string[]): void {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, array[1] ?? '', `${path}[${i}]`, found));
    return;
  }
  const table = (k8s as unknown as Record<string, ModelTable | undefined>)[type];
  if (!table?.getAttributeTypeMap || typeof value !== 'object' || value === null) return;
  const attributes = table.getAttributeTypeMap();
  for (const [name, v] of Object.entries(value)) {
    const attr = attributes.find((a) => a.baseName === name);
    if (!attr) found.push(`${path}.${name}`);
    else walk(v, attr.type, `${path}.${name}`, found);
  }
}
