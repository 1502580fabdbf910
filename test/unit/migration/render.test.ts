/** Golden files for the three formats, from a node that carries blockers, changes and an unread source. */
import { describe, expect, it } from 'vitest';
import { renderMigration, type MigrationOutput } from '../../../src/migration/render.js';
import { buildMigrationReport } from '../../../src/migration/report.js';
import type { MigrationReport } from '../../../src/migration/types.js';
import { rs, snapshot, vs } from '../../support/builders.js';
import { endpoint, port, service, slice } from '../../support/cluster-builders.js';
import { expectGolden } from '../../support/golden.js';
import { cleanCluster, ipvsSysctls, migrationInput, tableOf } from '../../support/migration-input.js';

function blockedNode(): MigrationReport {
  const cluster = cleanCluster();
  cluster.services.push(service('shop/cart', { type: 'NodePort', clusterIPs: ['10.96.0.60'], internalTrafficPolicy: 'Local', ports: [port('http', 80, { nodePort: 30080 })] }));
  cluster.endpointSlices.push(slice('shop/cart', [endpoint('10.244.1.7', { nodeName: 'node-b' })]));
  return buildMigrationReport(
    migrationInput(
      {
        cluster,
        config: { scheduler: 'lc', excludeCIDRs: ['192.168.50.0/24'], strictARP: true, tcpTimeoutSeconds: 7200 },
        table: (d) => snapshot([...tableOf(d).services, vs('TCP/192.168.50.5:443', [rs('192.168.50.11:443')], { scheduler: 'wlc' })]),
      },
      {
        sockets: [{ protocol: 'UDP', family: 'inet', address: '10.96.0.10', port: 53, inode: 33103, uid: 101 }],
        sysctls: ipvsSysctls({ 'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.all.arp_announce': 2 }),
        kubeProxyVersion: null,
        netfilter: null,
        unread: { netfilter: 'iptables-save failed' },
      },
    ),
  );
}

describe('migration renderers', () => {
  it.each([
    ['table', 'migration-blocked.txt'],
    ['json', 'migration-blocked.json'],
    ['markdown', 'migration-blocked.markdown'],
  ] as const)('%s matches its golden file', async (output: MigrationOutput, file) => {
    await expectGolden(`test/fixtures/golden/${file}`, renderMigration(blockedNode(), output));
  });

  it('the JSON is the report itself, and the first line of the table is the verdict', () => {
    const report = blockedNode();
    expect(JSON.parse(renderMigration(report, 'json'))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(renderMigration(report, 'table').split('\n')[0]).toBe(report.headline);
  });

  it('markdown escapes pipes in cells', () => {
    const report = blockedNode();
    const first = report.findings[0];
    if (!first) throw new Error('no finding');
    first.message = 'a | b';
    expect(renderMigration(report, 'markdown')).toContain('a \\| b');
  });
});
