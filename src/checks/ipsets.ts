/**
 * kube-proxy's ipsets against what it should have put in them (docs/kube-proxy-rules.md §3.1): each
 * set the desired state lists must exist with exactly its entries. kube-proxy reconciles every set
 * at every sync, so every kind here is self-healing and waits the grace; a dump is not atomic, and
 * kube-proxy changes a set one entry at a time, which the grace also covers.
 */
import { findIpset } from '../desired/ipsets.js';
import type { DesiredIpset } from '../desired/types.js';
import type { Finding, Severity } from '../drift/types.js';
import { ipsetEntryText } from '../ipset/entry.js';
import type { IpSet, IpsetEntry } from '../ipset/types.js';
import type { ComparisonCheck } from './types.js';

export const IPSET_KINDS = ['ipset-missing', 'ipset-entry-missing', 'ipset-entry-unexpected'] as const;

/**
 * Sets whose missing entry breaks traffic, not only masquerading: KUBE-IPVS-FILTER rejects new
 * connections to a kube-ipvs0 address unless its ip:port is in one of these (writeIptablesRules in
 * pkg/proxy/ipvs/proxier.go), and KUBE-LOOP-BACK is what lets a pod reach itself through its Service.
 */
const TRAFFIC_SETS = new Set(['loopBack', 'clusterIP', 'externalIP', 'externalIPLocal', 'loadBalancer', 'healthCheckNodePort']);

function entrySeverity(set: DesiredIpset): Severity {
  const key = findIpset(set.name)?.key;
  return key !== undefined && TRAFFIC_SETS.has(key) ? 'critical' : 'warning';
}

const RESYNC = "kube-proxy reconciles its sets on every sync (ipvs.syncPeriod); if it persists, check kube-proxy's logs (ipset errors) or restart kube-proxy on this node";

function missingSet(set: DesiredIpset): Finding {
  return {
    kind: 'ipset-missing',
    severity: 'critical',
    virtualServer: null,
    realServer: null,
    subject: set.name,
    service: null,
    expected: { set: set.name, type: set.type, entries: set.entries.length },
    actual: null,
    message: `ipset ${set.name} (${set.type}) does not exist, so kube-proxy's iptables rules that match it cannot be restored and its ${set.entries.length} entr${set.entries.length === 1 ? 'y is' : 'ies are'} not in force; ${RESYNC}.`,
    selfHealing: true,
  };
}

/** A set of kube-proxy's name but another type: `ipset create -exist` fails on it, so it is as good as missing. */
function wrongType(set: DesiredIpset, observed: IpSet): Finding {
  return {
    ...missingSet(set),
    actual: { set: observed.name, type: observed.type, entries: observed.entries.length },
    message: `ipset ${set.name} exists as ${observed.type} instead of ${set.type}, so kube-proxy cannot create its own (\`ipset create -exist\` fails on another type) and its ${set.entries.length} entr${set.entries.length === 1 ? 'y is' : 'ies are'} not in force; delete the set (\`ipset destroy ${set.name}\`, after whatever uses it) so kube-proxy re-creates it, and find what created it.`,
  };
}

function missingEntry(set: DesiredIpset, entry: string): Finding {
  return {
    kind: 'ipset-entry-missing',
    severity: entrySeverity(set),
    virtualServer: null,
    realServer: null,
    subject: `${set.name} ${entry}`,
    service: null,
    expected: { set: set.name, entry },
    actual: null,
    message: `ipset ${set.name} lacks ${entry}, which kube-proxy puts there (${findIpset(set.name)?.comment ?? set.type}); ${RESYNC}.`,
    selfHealing: true,
  };
}

function unexpectedEntry(set: DesiredIpset, entry: string): Finding {
  return {
    kind: 'ipset-entry-unexpected',
    severity: 'warning',
    virtualServer: null,
    realServer: null,
    subject: `${set.name} ${entry}`,
    service: null,
    expected: null,
    actual: { set: set.name, entry },
    message: `ipset ${set.name} holds ${entry}, which no Service puts there (a deleted Service or endpoint, or another tool's entry); kube-proxy removes it on its next sync (ipvs.syncPeriod); if it persists, check kube-proxy's logs or restart kube-proxy on this node.`,
    selfHealing: true,
  };
}

/**
 * The desired entries as a set, built once per desired set: the desired state hands the same frozen
 * set object from poll to poll while nothing in it changes.
 */
const wantedEntries = new WeakMap<DesiredIpset, ReadonlySet<string>>();
function wanted(desired: DesiredIpset): ReadonlySet<string> {
  let set = wantedEntries.get(desired);
  if (set === undefined) {
    set = new Set(desired.entries);
    wantedEntries.set(desired, set);
  }
  return set;
}

/**
 * The last verdict on an entry list: a set the kernel listed byte for byte as before comes back as
 * the same list (src/ipset/reuse.ts), and while its desired set is the same object too, the verdict
 * is the same.
 */
const judged = new WeakMap<readonly IpsetEntry[], { desired: DesiredIpset; findings: readonly Finding[] }>();

/** Compare one set; both entry lists in kube-proxy's text form. */
export function diffIpset(desired: DesiredIpset, observed: IpSet | undefined): Finding[] {
  if (observed === undefined) return [missingSet(desired)];
  if (observed.type !== desired.type) return [wrongType(desired, observed)];
  const last = judged.get(observed.entries);
  if (last?.desired === desired) return last.findings.map((f) => ({ ...f }));
  const findings = compareEntries(desired, observed);
  judged.set(observed.entries, { desired, findings: findings.map((f) => ({ ...f })) });
  return findings;
}

function compareEntries(desired: DesiredIpset, observed: IpSet): Finding[] {
  const findings: Finding[] = [];
  const want = wanted(desired);
  // A set holds each entry once, so when every observed entry is wanted and as many as are wanted,
  // nothing is missing either: the usual poll builds no second set.
  let matched = 0;
  const texts: string[] = new Array<string>(observed.entries.length);
  const unexpected: string[] = [];
  observed.entries.forEach((e, i) => {
    const text = ipsetEntryText(e);
    texts[i] = text;
    if (want.has(text)) matched++;
    else unexpected.push(text);
  });
  if (matched < want.size) {
    const have = new Set(texts);
    for (const entry of desired.entries) if (!have.has(entry)) findings.push(missingEntry(desired, entry));
  }
  for (const entry of unexpected) findings.push(unexpectedEntry(desired, entry));
  return findings;
}

export const ipsetsCheck: ComparisonCheck<(typeof IPSET_KINDS)[number]> = {
  name: 'ipsets',
  ownSource: 'ipsets',
  kinds: IPSET_KINDS,
  prerequisite: false,
  health: {
    name: 'ipsets',
    order: 35,
    evaluate: ({ node }) => {
      const reading = node?.readings.ipsets;
      if (!reading?.value) return { ok: false, reason: reading?.error ?? 'not read yet' };
      return reading.value.readable ? { ok: true, reason: null } : { ok: false, reason: reading.value.reason };
    },
  },
  evaluate: ({ node, desired }) => {
    const observed = node.readings.ipsets.value;
    if (!observed?.readable || !desired.ipsets) return [];
    const findings: Finding[] = [];
    for (const set of desired.ipsets.values()) findings.push(...diffIpset(set, observed.sets.get(set.name)));
    return findings;
  },
};
