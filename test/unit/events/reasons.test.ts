import { describe, expect, it } from 'vitest';
import { FINDING_KINDS } from '../../../src/checks/registry.js';
import { DRIFT_CLEARED_REASON, DRIFT_CONFIRMED_REASON, KIND_REASONS, reasonsOf } from '../../../src/events/reasons.js';

describe('Event reasons', () => {
  it('every finding kind of the registry has a confirmed and a cleared reason', () => {
    expect([...KIND_REASONS.keys()]).toEqual(FINDING_KINDS);
  });

  it('reasons are CamelCase words within the 128-character limit, and no two kinds share one', () => {
    const all = [...KIND_REASONS.values()].flatMap((r) => [r.confirmed, r.cleared]);
    all.push(DRIFT_CONFIRMED_REASON, DRIFT_CLEARED_REASON);
    for (const reason of all) {
      expect(reason).toMatch(/^[A-Z][A-Za-z0-9]*$/);
      expect(reason.length).toBeLessThanOrEqual(128);
    }
    expect(new Set(all).size).toBe(all.length);
  });

  it.each([
    ['module-missing', 'KernelModuleMissing', 'KernelModuleMissingCleared'],
    ['missing-real-server', 'MissingRealServer', 'MissingRealServerCleared'],
    ['kube-ipvs0-address-missing', 'KubeIPVS0AddressMissing', 'KubeIPVS0AddressMissingCleared'],
    ['ipset-entry-missing', 'IPSetEntryMissing', 'IPSetEntryMissingCleared'],
    ['stale-nftables-rules', 'StaleNFTablesRules', 'StaleNFTablesRulesCleared'],
    ['a-kind-added-later', 'AKindAddedLater', 'AKindAddedLaterCleared'],
  ])('%s → %s / %s', (kind, confirmed, cleared) => {
    expect(reasonsOf(kind)).toEqual({ confirmed, cleared });
  });
});
