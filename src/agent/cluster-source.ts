/**
 * The cluster side of the agent: Services, EndpointSlices, Nodes and the kube-proxy ConfigMap,
 * from a file (offline, --cluster-state) or from the API through informers, held in the
 * incremental desired-state model. Never hands out a desired state computed from a cache that is
 * not synced, or that has been cut off from the API for longer than a bound.
 */
import type { ClusterEvent, ClusterWatch, ClusterWatchStatus } from '../cluster/informers.js';
import type { KubeProxyConfig } from '../cluster/kube-proxy-config.js';
import type { ClusterSnapshot } from '../cluster/model.js';
import { DesiredStateModel } from '../desired/model.js';
import type { NodeAddressOwner } from '../desired/node-addresses.js';
import type { DesiredState, NodeFacts } from '../desired/types.js';

export interface ClusterState {
  /** null while the cluster cannot be trusted; then `unknownReason` says why. */
  desired: DesiredState | null;
  /** The addresses of the other Nodes (with `desired`, null with it). */
  nodeAddresses: ReadonlyMap<string, NodeAddressOwner> | null;
  unknownReason: string | null;
  synced: boolean;
  /** data["config.conf"] of kube-system/kube-proxy, or null when absent. */
  kubeProxyConfigMap: string | null;
}

export interface ClusterSource {
  /** The desired state for this node's current facts and kube-proxy's effective config. */
  current(node: NodeFacts, config: KubeProxyConfig): ClusterState;
  /** data["config.conf"] of the kube-proxy ConfigMap as last seen, before any desired state. */
  kubeProxyConfigMap(): string | null;
  /** Whether a Node of this name is known (false also while not synced). */
  hasNode(name: string): boolean;
  /** The Services, EndpointSlices and Nodes held now (for reports built on request), null before the first poll. */
  clusterObjects?(): ClusterSnapshot | null;
  stop(): Promise<void>;
}

/** Apply node facts and config only when they changed: both invalidate every Service. */
class ModelHolder {
  private model: DesiredStateModel | null = null;
  private factsKey = '';
  private configKey = '';

  get(node: NodeFacts, config: KubeProxyConfig, seed: (model: DesiredStateModel) => void): DesiredStateModel {
    const factsKey = JSON.stringify(node);
    const configKey = JSON.stringify(config);
    if (!this.model) {
      this.model = new DesiredStateModel(config, node);
      seed(this.model);
    } else {
      if (factsKey !== this.factsKey) this.model.setNodeFacts(node);
      if (configKey !== this.configKey) this.model.setConfig(config);
    }
    this.factsKey = factsKey;
    this.configKey = configKey;
    return this.model;
  }
}

export class FileClusterSource implements ClusterSource {
  private readonly holder = new ModelHolder();

  constructor(private readonly snapshot: ClusterSnapshot) {}

  current(node: NodeFacts, config: KubeProxyConfig): ClusterState {
    const model = this.holder.get(node, config, (m) => m.load(this.snapshot));
    return { desired: model.current(), nodeAddresses: model.otherNodeAddresses(), unknownReason: null, synced: true, kubeProxyConfigMap: this.snapshot.kubeProxyConfigMap };
  }

  kubeProxyConfigMap(): string | null {
    return this.snapshot.kubeProxyConfigMap;
  }

  hasNode(name: string): boolean {
    return this.snapshot.nodes.some((n) => n.name === name);
  }

  clusterObjects(): ClusterSnapshot {
    return this.snapshot;
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/** How long the API may be unreachable before the cached cluster is no longer trusted. */
export const API_UNREACHABLE_BOUND_MS = 30_000;

/** Starts the informers with the given event handler (startClusterWatch in production). */
export type WatchFactory = (onChange: (event: ClusterEvent) => void) => ClusterWatch;

export class WatchClusterSource implements ClusterSource {
  private readonly holder = new ModelHolder();
  private model: DesiredStateModel | null = null;
  /** Events that arrive before the first poll creates the model. */
  private readonly pending: ClusterEvent[] = [];
  private configMap: string | null = null;
  private readonly nodeNames = new Set<string>();
  private readonly watch: ClusterWatch;

  constructor(
    start: WatchFactory,
    private readonly now: () => Date,
  ) {
    this.watch = start((event) => this.apply(event));
  }

  private apply(event: ClusterEvent): void {
    if (event.resource === 'configmap') {
      this.configMap = event.type === 'delete' ? null : event.object.converted;
      return;
    }
    if (event.resource === 'node') {
      const { name } = event.object.metadata;
      if (name) {
        if (event.type === 'delete') this.nodeNames.delete(name);
        else this.nodeNames.add(name);
      }
    }
    if (!this.model) {
      this.pending.push(event);
      return;
    }
    applyEvent(this.model, event);
  }

  status(): ClusterWatchStatus {
    return this.watch.status();
  }

  current(node: NodeFacts, config: KubeProxyConfig): ClusterState {
    this.model = this.holder.get(node, config, (m) => {
      for (const event of this.pending.splice(0)) applyEvent(m, event);
    });
    const status = this.watch.status();
    let unknownReason: string | null = null;
    if (!status.synced) {
      const waiting = Object.entries(status.perResource)
        .filter(([, r]) => !r.synced)
        .map(([name]) => name);
      unknownReason = `the cluster cache is not synced yet (${waiting.join(', ')})${status.lastError ? `: ${status.lastError}` : ''}`;
    } else if (status.unreachableSince && this.now().getTime() - status.unreachableSince.getTime() > API_UNREACHABLE_BOUND_MS) {
      const seconds = Math.round((this.now().getTime() - status.unreachableSince.getTime()) / 1000);
      unknownReason = `the Kubernetes API has been unreachable for ${seconds} s${status.lastError ? ` (${status.lastError})` : ''}: the cached cluster may be stale`;
    }
    return {
      desired: unknownReason === null ? this.model.current() : null,
      nodeAddresses: unknownReason === null ? this.model.otherNodeAddresses() : null,
      unknownReason,
      synced: status.synced,
      kubeProxyConfigMap: this.configMap,
    };
  }

  kubeProxyConfigMap(): string | null {
    return this.configMap;
  }

  hasNode(name: string): boolean {
    return this.nodeNames.has(name);
  }

  clusterObjects(): ClusterSnapshot | null {
    return this.model?.snapshot() ?? null;
  }

  stop(): Promise<void> {
    return this.watch.stop();
  }
}

/** An object's converted form upserts it; a delete, or an object kube-proxy would not use (null), removes it. */
function applyEvent(model: DesiredStateModel, event: ClusterEvent): void {
  const { namespace = '', name } = event.object.metadata;
  switch (event.resource) {
    case 'service': {
      const svc = event.type === 'delete' ? null : event.object.converted;
      if (svc) model.upsertService(svc);
      else model.deleteService(namespace, name);
      return;
    }
    case 'endpointslice': {
      const slice = event.type === 'delete' ? null : event.object.converted;
      if (slice) model.upsertEndpointSlice(slice);
      else model.deleteEndpointSlice(namespace, name);
      return;
    }
    case 'node': {
      const node = event.type === 'delete' ? null : event.object.converted;
      if (node) model.upsertNode(node);
      else model.deleteNode(name);
      return;
    }
    case 'configmap':
      return;
  }
}
