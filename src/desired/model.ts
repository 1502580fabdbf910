/**
 * The incremental desired state for the agent: holds the cluster model keyed by object, keeps each
 * Service's result, and on change recomputes only the Services touched (an EndpointSlice touches
 * its Service; config, NodeFacts or this node's Node object touch all). current() always equals
 * computeDesiredState() over the same objects — the unit tests check that.
 */
import type { KubeProxyConfig } from '../cluster/kube-proxy-config.js';
import { namespacedKey } from '../cluster/model.js';
import type { ClusterSnapshot, EndpointSlice, Node, Service } from '../cluster/model.js';
import { buildFamilyContexts, proxyNodeName } from './compute.js';
import type { ClusterObjects, ComputeOptions } from './compute.js';
import { DesiredStateIndex } from './merge.js';
import { otherNodeAddresses, type NodeAddressOwner } from './node-addresses.js';
import type { DesiredState, NodeFacts } from './types.js';
import { EMPTY_RESULT, serviceResult } from './virtual-servers.js';
import type { FamilyContext, ServiceResult } from './virtual-servers.js';

function sameNode(a: Node | undefined, b: Node | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.zone !== b.zone || a.addresses.length !== b.addresses.length) return false;
  return a.addresses.every((x, i) => x.type === b.addresses[i]?.type && x.address === b.addresses[i]?.address);
}

export class DesiredStateModel {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();
  /** Service key → slice key → slice. */
  private readonly slicesByService = new Map<string, Map<string, EndpointSlice>>();
  private readonly nodes = new Map<string, Node>();
  private readonly results = new Map<string, ServiceResult>();
  private readonly dirty = new Set<string>();
  private index = new DesiredStateIndex();
  private contexts: FamilyContext[] | null = null;
  /** otherNodeAddresses() of the current Nodes; null after any Node or node-fact change. */
  private nodeAddresses: Map<string, NodeAddressOwner> | null = null;

  constructor(
    private config: KubeProxyConfig,
    private node: NodeFacts,
    private readonly options: ComputeOptions = {},
  ) {}

  /** Replace every object with those of a snapshot (a re-list). */
  load(cluster: ClusterObjects): void {
    this.services.clear();
    this.slices.clear();
    this.slicesByService.clear();
    this.nodes.clear();
    for (const svc of cluster.services) this.services.set(namespacedKey(svc.namespace, svc.name), svc);
    for (const slice of cluster.endpointSlices) this.upsertEndpointSlice(slice);
    for (const n of cluster.nodes) this.nodes.set(n.name, n);
    this.nodeAddresses = null;
    this.invalidateAll();
  }

  upsertService(svc: Service): void {
    const key = namespacedKey(svc.namespace, svc.name);
    this.services.set(key, svc);
    this.dirty.add(key);
  }

  deleteService(namespace: string, name: string): void {
    const key = namespacedKey(namespace, name);
    if (this.services.delete(key)) this.dirty.add(key);
  }

  upsertEndpointSlice(slice: EndpointSlice): void {
    const key = namespacedKey(slice.namespace, slice.name);
    this.detachSlice(key);
    this.slices.set(key, slice);
    const svcKey = namespacedKey(slice.namespace, slice.serviceName);
    let bySlice = this.slicesByService.get(svcKey);
    if (!bySlice) {
      bySlice = new Map();
      this.slicesByService.set(svcKey, bySlice);
    }
    bySlice.set(key, slice);
    this.dirty.add(svcKey);
  }

  deleteEndpointSlice(namespace: string, name: string): void {
    this.detachSlice(namespacedKey(namespace, name));
  }

  upsertNode(node: Node): void {
    const previous = this.nodes.get(node.name);
    this.nodes.set(node.name, node);
    if (sameNode(previous, node)) return;
    this.nodeAddresses = null;
    if (node.name === proxyNodeName(this.node)) this.invalidateAll();
  }

  deleteNode(name: string): void {
    if (!this.nodes.delete(name)) return;
    this.nodeAddresses = null;
    if (name === proxyNodeName(this.node)) this.invalidateAll();
  }

  setConfig(config: KubeProxyConfig): void {
    this.config = config;
    this.invalidateAll();
  }

  setNodeFacts(node: NodeFacts): void {
    this.node = node;
    this.nodeAddresses = null;
    this.invalidateAll();
  }

  /** The objects currently held, as a snapshot (no ConfigMap text: config is held parsed). */
  snapshot(): ClusterSnapshot {
    return {
      services: [...this.services.values()],
      endpointSlices: [...this.slices.values()],
      nodes: [...this.nodes.values()],
      kubeProxyConfigMap: null,
    };
  }

  current(): DesiredState {
    if (!this.contexts) {
      this.contexts = buildFamilyContexts(this.config, this.node, this.nodes.get(proxyNodeName(this.node)) ?? null, this.options);
      this.index = new DesiredStateIndex();
      this.results.clear();
      for (const key of this.services.keys()) this.dirty.add(key);
    }
    for (const key of this.dirty) this.recompute(key, this.contexts);
    this.dirty.clear();
    return this.index.build(this.config.excludeCIDRs, this.contexts.map((c) => c.family));
  }

  /** The addresses of every other Node, with their owner: see otherNodeAddresses(). */
  otherNodeAddresses(): ReadonlyMap<string, NodeAddressOwner> {
    this.nodeAddresses ??= otherNodeAddresses(this.nodes.values(), proxyNodeName(this.node));
    return this.nodeAddresses;
  }

  private recompute(key: string, contexts: FamilyContext[]): void {
    const previous = this.results.get(key);
    if (previous) this.index.remove(previous);
    const svc = this.services.get(key);
    const bySlice = this.slicesByService.get(key);
    const result = svc ? serviceResult(svc, bySlice ? [...bySlice.values()] : [], contexts) : EMPTY_RESULT;
    if (result === EMPTY_RESULT) {
      this.results.delete(key);
      return;
    }
    this.results.set(key, result);
    this.index.add(result);
  }

  private detachSlice(key: string): void {
    const old = this.slices.get(key);
    if (!old) return;
    this.slices.delete(key);
    const svcKey = namespacedKey(old.namespace, old.serviceName);
    const bySlice = this.slicesByService.get(svcKey);
    bySlice?.delete(key);
    if (bySlice?.size === 0) this.slicesByService.delete(svcKey);
    this.dirty.add(svcKey);
  }

  private invalidateAll(): void {
    this.contexts = null;
  }
}
