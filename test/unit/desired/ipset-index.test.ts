import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpsetIndex } from '../../../src/desired/ipset-index.js';
import type { IpsetMembers } from '../../../src/desired/ipsets.js';

const SETS = ['KUBE-CLUSTER-IP', 'KUBE-LOOP-BACK', 'KUBE-6-CLUSTER-IP'];

/** A Service's members: pairs of a set name and one of a few entries, so Services share entries. */
const membersArb: fc.Arbitrary<IpsetMembers> = fc
  .array(fc.tuple(fc.constantFrom(...SETS), fc.integer({ min: 0, max: 150 })), { maxLength: 90 })
  .map((pairs) => pairs.flatMap(([set, n]) => [set, `10.96.${n >> 8}.${n & 255},tcp:80`]));

type Op = { op: 'put'; service: number; members: IpsetMembers } | { op: 'delete'; service: number } | { op: 'build' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), service: fc.integer({ min: 0, max: 5 }), members: membersArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), service: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 3, arbitrary: fc.constant({ op: 'build' as const }) },
);

/** What the sets must hold: every entry some Service wants, once, sorted by code unit. */
function expected(services: ReadonlyMap<number, IpsetMembers>): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const members of services.values()) {
    for (let i = 0; i < members.length; i += 2) (out[members[i] as string] ??= new Set()).add(members[i + 1] as string);
  }
  return Object.fromEntries(Object.entries(out).map(([set, entries]) => [set, [...entries].sort()]));
}

function actual(index: IpsetIndex): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const set of index.build(['inet', 'inet6'], [], false).values()) if (set.entries.length > 0 && SETS.includes(set.name)) out[set.name] = [...set.entries];
  return out;
}

describe('IpsetIndex', () => {
  it('patched or re-sorted, every build lists exactly the entries some Service wants (random puts and deletes)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const index = new IpsetIndex();
        const services = new Map<number, IpsetMembers>();
        for (const op of ops) {
          if (op.op === 'build') {
            expect(actual(index)).toEqual(expected(services));
            continue;
          }
          // As DesiredStateModel does: remove the Service's previous members, add its new ones.
          const previous = services.get(op.service);
          if (previous) index.remove(previous);
          services.delete(op.service);
          if (op.op === 'put') {
            index.add(op.members);
            services.set(op.service, op.members);
          }
        }
        expect(actual(index)).toEqual(expected(services));
      }),
      { numRuns: 500 },
    );
  });

  it.each([1, 64, 65, 300])('%i entries coming and going between two builds', (n) => {
    const index = new IpsetIndex();
    const kept: IpsetMembers = ['KUBE-LOOP-BACK', '10.244.0.1,tcp:80,10.244.0.1'];
    const many: IpsetMembers = Array.from({ length: n }, (_, i) => ['KUBE-LOOP-BACK', `10.244.${1 + (i >> 8)}.${i & 255},tcp:80,10.244.${1 + (i >> 8)}.${i & 255}`]).flat();
    index.add(kept);
    expect(index.build(['inet'], [], false).get('KUBE-LOOP-BACK')?.entries).toEqual(['10.244.0.1,tcp:80,10.244.0.1']);
    index.add(many);
    expect(index.build(['inet'], [], false).get('KUBE-LOOP-BACK')?.entries).toEqual(expected(new Map([[0, kept], [1, many]]))['KUBE-LOOP-BACK']);
    index.remove(many);
    expect(index.build(['inet'], [], false).get('KUBE-LOOP-BACK')?.entries).toEqual(['10.244.0.1,tcp:80,10.244.0.1']);
  });

  it('KUBE-IPVS-IPS of each family is the given kube-ipvs0 addresses of that family', () => {
    const index = new IpsetIndex();
    const sets = index.build(['inet', 'inet6'], ['10.96.0.10', '10.96.0.1', 'fd00::1'], true);
    expect(sets.get('KUBE-IPVS-IPS')?.entries).toEqual(['10.96.0.1', '10.96.0.10']);
    expect(sets.get('KUBE-6-IPVS-IPS')?.entries).toEqual(['fd00::1']);
    // Unchanged addresses: the same lists; changed: new ones.
    expect(index.build(['inet', 'inet6'], ['10.96.0.1'], false).get('KUBE-IPVS-IPS')).toBe(sets.get('KUBE-IPVS-IPS'));
    expect(index.build(['inet', 'inet6'], ['10.96.0.1'], true).get('KUBE-IPVS-IPS')?.entries).toEqual(['10.96.0.1']);
  });
});
