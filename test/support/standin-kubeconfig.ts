/** A KubeConfig pointing at the API stand-in (client-node only allows plain http with skipTLSVerify). */
import { KubeConfig } from '@kubernetes/client-node';

export function standinKubeConfig(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'standin', server: url, skipTLSVerify: true }],
    users: [{ name: 'standin' }],
    contexts: [{ name: 'standin', cluster: 'standin', user: 'standin' }],
    currentContext: 'standin',
  });
  return kc;
}
