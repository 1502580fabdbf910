/**
 * Builds the reporter for `serve` from the flags: the kubeconfig's API writer, the sink, the bounded
 * queue (its log lines under the `events` component) and the reporter. Loaded only when --events
 * or --node-condition is on and the cluster comes from the API.
 */
import { makeKubeConfig } from '../cluster/kubeconfig.js';
import { kubeApiWriter } from './api-write.js';
import { KubeSink, REPORTING_CONTROLLER } from './kube-sink.js';
import { ClusterReporter } from './reporter.js';
import { WriteQueue, type WriteLogger } from './write-queue.js';

export interface ClusterReporterFlags {
  kubeconfig: string | null;
  nodeName: string;
  events: boolean;
  nodeCondition: boolean;
  logger: WriteLogger;
}

export function createClusterReporter(flags: ClusterReporterFlags): ClusterReporter {
  const kubeConfig = makeKubeConfig(flags.kubeconfig ? { kubeconfigPath: flags.kubeconfig } : {});
  const sink = new KubeSink(kubeApiWriter(kubeConfig), `${REPORTING_CONTROLLER}-${flags.nodeName}`);
  const queue = new WriteQueue({ logger: flags.logger });
  return new ClusterReporter({ node: flags.nodeName, events: flags.events, nodeCondition: flags.nodeCondition, sink, queue, logger: flags.logger });
}
