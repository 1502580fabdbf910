import { describe, expect, it } from 'vitest';
import { advance, advanceWithTransitions, type GracePolicy } from '../../../src/drift/grace.js';
import type { Finding, TrackedFinding } from '../../../src/drift/types.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const at = (seconds: number): Date => new Date(T0 + seconds * 1000);
const GRACE: GracePolicy = { grace: 30_000 };

function missingVs(overrides: Partial<Finding> = {}): Finding {
  return {
    kind: 'missing-virtual-server',
    severity: 'critical',
    virtualServer: 'TCP/10.96.0.1:443',
    realServer: null,
    subject: 'TCP/10.96.0.1:443',
    service: { namespace: 'default', name: 'kubernetes', port: 'https' },
    expected: { scheduler: 'rr' },
    actual: null,
    message: 'Virtual server TCP/10.96.0.1:443 is missing.',
    selfHealing: true,
    ...overrides,
  };
}

function weightZero(overrides: Partial<Finding> = {}): Finding {
  return {
    kind: 'weight-mismatch',
    severity: 'critical',
    virtualServer: 'TCP/10.96.0.1:443',
    realServer: '172.18.0.2:6443',
    subject: 'TCP/10.96.0.1:443 -> 172.18.0.2:6443',
    service: { namespace: 'default', name: 'kubernetes', port: 'https' },
    expected: 1,
    actual: 0,
    message: 'Weight 0.',
    selfHealing: false,
    ...overrides,
  };
}

/** Run a sequence of polls; returns the tracked findings after each. */
function polls(seq: [seconds: number, findings: Finding[]][], policy: GracePolicy = GRACE): TrackedFinding[][] {
  let state: TrackedFinding[] = [];
  return seq.map(([s, current]) => (state = advance(state, current, at(s), policy)));
}

describe('advance — self-healing findings wait the grace', () => {
  it('is pending until it has persisted for the grace, then confirmed; firstSeen survives', () => {
    const states = polls([
      [0, [missingVs()]],
      [10, [missingVs()]],
      [29.999, [missingVs()]],
      [30, [missingVs()]],
      [40, [missingVs()]],
    ]);
    expect(states.map((s) => s[0]?.confirmed)).toEqual([false, false, false, true, true]);
    expect(states.every((s) => s[0]?.firstSeen.getTime() === T0)).toBe(true);
    expect(states[0]?.[0]?.id).toBe('missing-virtual-server|TCP/10.96.0.1:443||');
  });

  it('grace 0 confirms at once', () => {
    const [first] = polls([[0, [missingVs()]]], { grace: 0 });
    expect(first?.[0]).toMatchObject({ confirmed: true, firstSeen: at(0) });
  });

  it('drops a vanished finding, and a returning one starts over', () => {
    const states = polls([
      [0, [missingVs()]],
      [20, []],
      [30, [missingVs()]],
      [50, [missingVs()]],
      [60, [missingVs()]],
    ]);
    expect(states[1]).toEqual([]);
    expect(states[2]?.[0]).toMatchObject({ firstSeen: at(30), confirmed: false });
    expect(states[3]?.[0]?.confirmed).toBe(false);
    expect(states[4]?.[0]?.confirmed).toBe(true);
  });

  it('keeps firstSeen when the content changes but the id does not', () => {
    const states = polls([
      [0, [missingVs()]],
      [20, [missingVs({ severity: 'warning', message: 'other words.', expected: { scheduler: 'wrr' } })]],
      [30, [missingVs({ severity: 'warning', message: 'other words.', expected: { scheduler: 'wrr' } })]],
    ]);
    expect(states[1]?.[0]).toMatchObject({ firstSeen: at(0), severity: 'warning', message: 'other words.', expected: { scheduler: 'wrr' }, confirmed: false });
    expect(states[2]?.[0]?.confirmed).toBe(true);
  });

  it('tracks findings with different ids separately', () => {
    const other = missingVs({ virtualServer: 'UDP/10.96.0.10:53' });
    const states = polls([
      [0, [missingVs()]],
      [20, [missingVs(), other]],
      [30, [missingVs(), other]],
    ]);
    expect(states[2]?.map((t) => [t.virtualServer, t.firstSeen.toISOString(), t.confirmed])).toEqual([
      ['TCP/10.96.0.1:443', at(0).toISOString(), true],
      ['UDP/10.96.0.10:53', at(20).toISOString(), false],
    ]);
  });

  it('confirmation is sticky if the clock steps back', () => {
    const states = polls([
      [0, [missingVs()]],
      [40, [missingVs()]],
      [5, [missingVs()]],
    ]);
    expect(states[2]?.[0]?.confirmed).toBe(true);
  });
});

describe('advance — non-self-healing findings', () => {
  it('are confirmed on the second consecutive poll by default, well before the grace', () => {
    const states = polls([
      [0, [weightZero()]],
      [10, [weightZero()]],
    ]);
    expect(states.map((s) => s[0]?.confirmed)).toEqual([false, true]);
  });

  it('a single sighting is not confirmed before the grace', () => {
    const states = polls([
      [0, [weightZero()]],
      [10, []],
      [20, [weightZero()]],
    ]);
    expect(states[2]?.[0]).toMatchObject({ firstSeen: at(20), confirmed: false });
  });

  it('are confirmed at once with grace 0', () => {
    expect(polls([[0, [weightZero()]]], { grace: 0 })[0]?.[0]?.confirmed).toBe(true);
  });

  it.each<[string, GracePolicy, boolean[]]>([
    ['nonSelfHealingDelay replaces the two-poll rule', { grace: 30_000, nonSelfHealingDelay: 15_000 }, [false, false, true, true]],
    ['the grace still wins when it is shorter', { grace: 10_000, nonSelfHealingDelay: 60_000 }, [false, true, true, true]],
    ['nonSelfHealingDelay 0 confirms at once', { grace: 30_000, nonSelfHealingDelay: 0 }, [true, true, true, true]],
  ])('%s', (_name, policy, confirmed) => {
    const states = polls(
      [
        [0, [weightZero()]],
        [10, [weightZero()]],
        [20, [weightZero()]],
        [30, [weightZero()]],
      ],
      policy,
    );
    expect(states.map((s) => s[0]?.confirmed)).toEqual(confirmed);
  });
});

describe('advance — inputs', () => {
  it('accepts the previous state as a Map keyed by id or as an array', () => {
    const prev = advance([], [missingVs(), weightZero()], at(0), GRACE);
    const asMap = new Map(prev.map((t) => [t.id, t]));
    expect(advance(asMap, [missingVs(), weightZero()], at(30), GRACE)).toEqual(advance(prev, [missingVs(), weightZero()], at(30), GRACE));
  });

  it('keeps the first of duplicate ids', () => {
    const tracked = advance([], [missingVs({ message: 'first.' }), missingVs({ message: 'second.' })], at(0), GRACE);
    expect(tracked.map((t) => t.message)).toEqual(['first.']);
  });

  it('does not mutate the previous state', () => {
    const prev = advance([], [missingVs()], at(0), GRACE);
    const snapshot = structuredClone(prev);
    advance(prev, [missingVs({ message: 'changed.' })], at(40), GRACE);
    expect(prev).toEqual(snapshot);
  });
});

describe('advanceWithTransitions', () => {
  it('reports newly confirmed findings once and cleared findings when they vanish', () => {
    const p0 = advanceWithTransitions([], [missingVs(), weightZero()], at(0), GRACE);
    expect(p0.confirmed).toEqual([]);
    expect(p0.cleared).toEqual([]);

    const p1 = advanceWithTransitions(p0.findings, [missingVs(), weightZero()], at(10), GRACE);
    expect(p1.confirmed.map((t) => t.kind)).toEqual(['weight-mismatch']);

    const p2 = advanceWithTransitions(p1.findings, [missingVs(), weightZero()], at(30), GRACE);
    expect(p2.confirmed.map((t) => t.kind)).toEqual(['missing-virtual-server']);

    const p3 = advanceWithTransitions(p2.findings, [missingVs()], at(40), GRACE);
    expect(p3.confirmed).toEqual([]);
    expect(p3.cleared.map((t) => [t.kind, t.confirmed])).toEqual([['weight-mismatch', true]]);
    expect(p3.findings.map((t) => t.kind)).toEqual(['missing-virtual-server']);
  });

  it('with grace 0 every new finding is newly confirmed', () => {
    const t = advanceWithTransitions([], [missingVs(), weightZero()], at(0), { grace: 0 });
    expect(t.confirmed).toHaveLength(2);
    expect(t.findings).toEqual(t.confirmed);
  });
});
