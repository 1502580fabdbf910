/** Every evaluator of the node report, in one list; the finding ids each may emit are declared with it. */
import type { Evaluator } from './evaluator.js';
import { foreignVirtualServerEvaluator, nodePortAddressesEvaluator, vipArpEvaluator, vipSocketEvaluator } from './evaluate-addresses.js';
import { ipvsConfigEvaluator, masqueradeBitEvaluator } from './evaluate-config.js';
import { leftoversEvaluator } from './evaluate-leftovers.js';
import { clusterIpIcmpEvaluator, firewallEvaluator } from './evaluate-netfilter.js';
import { deprecationEvaluator, drainingEvaluator, kernelEvaluator, kubeProxyVersionEvaluator, monitoringEvaluator, sysctlsEvaluator, timeoutsEvaluator } from './evaluate-node.js';
import { pluginsEvaluator } from './evaluate-plugins.js';
import { schedulerEvaluator } from './evaluate-scheduling.js';
import { affinityEvaluator, localDetectorEvaluator, localFallbackEvaluator, noEndpointEvaluator } from './evaluate-traffic.js';

export const EVALUATORS: readonly Evaluator[] = [
  localFallbackEvaluator,
  localDetectorEvaluator,
  vipSocketEvaluator,
  foreignVirtualServerEvaluator,
  kernelEvaluator,
  kubeProxyVersionEvaluator,
  nodePortAddressesEvaluator,
  vipArpEvaluator,
  firewallEvaluator,
  schedulerEvaluator,
  timeoutsEvaluator,
  sysctlsEvaluator,
  pluginsEvaluator,
  affinityEvaluator,
  noEndpointEvaluator,
  clusterIpIcmpEvaluator,
  masqueradeBitEvaluator,
  ipvsConfigEvaluator,
  drainingEvaluator,
  monitoringEvaluator,
  deprecationEvaluator,
  leftoversEvaluator,
];
