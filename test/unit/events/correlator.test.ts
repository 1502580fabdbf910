import { describe, expect, it } from 'vitest';
import { EventCorrelator, type Correlation } from '../../../src/events/correlator.js';
import type { EventIntent } from '../../../src/events/intents.js';

const T0 = Date.parse('2026-12-06T10:00:00Z');
const at = (seconds: number): Date => new Date(T0 + seconds * 1000);

function intent(over: Partial<EventIntent> = {}): EventIntent {
  return { regarding: { apiVersion: 'v1', kind: 'Node', name: 'worker-1' }, type: 'Warning', reason: 'MissingRealServer', action: 'Confirmed', note: 'n', subject: 'a', ...over };
}

function recorded(c: Correlation): { name: string; count: number | null; folded: boolean } {
  if ('skipped' in c) throw new Error('skipped');
  return { name: c.event.name, count: c.event.series?.count ?? null, folded: c.folded };
}

describe('EventCorrelator', () => {
  it('folds repeats within 6 minutes of the last observation into the first Event’s series, starting at 2', () => {
    const c = new EventCorrelator();
    const first = recorded(c.observe(intent(), at(0)));
    expect(first).toMatchObject({ count: null, folded: false });
    expect(first.name).toMatch(/^worker-1\.[0-9a-f]+$/);
    expect(recorded(c.observe(intent({ note: 'another note' }), at(60)))).toEqual({ name: first.name, count: 2, folded: true });
    expect(recorded(c.observe(intent(), at(60 + 359)))).toEqual({ name: first.name, count: 3, folded: true });
    const later = recorded(c.observe(intent(), at(60 + 359 + 360)));
    expect(later.folded).toBe(false);
    expect(later.name).not.toBe(first.name);
  });

  it.each([
    ['another finding', { subject: 'b' }],
    ['another reason', { reason: 'WeightMismatch' }],
    ['another action', { action: 'Cleared' as const, type: 'Normal' as const }],
    ['another object', { regarding: { apiVersion: 'v1' as const, kind: 'Service' as const, name: 'web', namespace: 'default' } }],
  ])('%s is another Event', (_, over) => {
    const c = new EventCorrelator();
    const first = recorded(c.observe(intent(), at(0)));
    const second = recorded(c.observe(intent(over), at(1)));
    expect(second.folded).toBe(false);
    expect(second.name).not.toBe(first.name);
  });

  it('rate limits per object: 25 at once, then one per 5 minutes; other objects keep their own tokens', () => {
    const c = new EventCorrelator();
    const outcomes = Array.from({ length: 30 }, (_, i) => c.observe(intent({ subject: `s${i}` }), at(0)));
    expect(outcomes.filter((o) => 'skipped' in o)).toHaveLength(5);
    expect(outcomes.slice(0, 25).every((o) => !('skipped' in o))).toBe(true);
    expect('skipped' in c.observe(intent({ subject: 'x' }), at(299))).toBe(true);
    expect('skipped' in c.observe(intent({ subject: 'x' }), at(301))).toBe(false);
    expect('skipped' in c.observe(intent({ subject: 'y' }), at(302))).toBe(true);
    const service = intent({ regarding: { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: 'default' } });
    expect('skipped' in c.observe(service, at(302))).toBe(false);
  });

  it('a flapping finding folds into one Event until the tokens run out', () => {
    const c = new EventCorrelator({ burst: 3 });
    const names = new Set<string>();
    const counts: (number | null | 'skipped')[] = [];
    for (let i = 0; i < 5; i++) {
      const o = c.observe(intent(), at(i * 10));
      if ('skipped' in o) counts.push('skipped');
      else {
        names.add(o.event.name);
        counts.push(o.event.series?.count ?? null);
      }
    }
    expect(names.size).toBe(1);
    expect(counts).toEqual([null, 2, 3, 'skipped', 'skipped']);
  });
});
