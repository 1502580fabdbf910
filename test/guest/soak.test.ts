/**
 * The churn soak on the real kernel, 60 seconds of it (`npm run soak` runs it for 10 minutes and
 * prints the same figures): Services and EndpointSlices created, scaled, turned terminating and
 * deleted a few times a second while a kube-proxy stand-in reprograms IPVS and kube-ipvs0 with
 * kube-proxy's lag (test/guest/soak/). Everything the agent saw must be pending and then gone:
 * lag is not drift. Wall time and the RSS slope are printed, not asserted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseSoak, formatFigures, type SoakFigures } from './soak/analyse.js';
import { runSoak, SOAK_DEFAULTS, type SoakOptions } from './soak/run.js';

const OPTIONS: SoakOptions = { ...SOAK_DEFAULTS, durationS: 60 };
let figures: SoakFigures;

beforeAll(async () => {
  const guest = await runSoak(OPTIONS);
  figures = analyseSoak((name) => guest.output(name));
  console.log(`${formatFigures(figures, OPTIONS)}\n  guest run: ${Math.round(guest.durationMs / 1000)} s`);
});

describe('churn soak on the real kernel (60 s)', () => {
  it('applied the churn and kube-proxy followed it (the run did what it claims)', () => {
    expect(figures.changes).toBeGreaterThan(0);
    expect(figures.changeFailures).toBe(0);
    expect(figures.syncs).toBeGreaterThan(0);
    expect(figures.syncErrors).toEqual([]);
    // The agent did see kube-proxy lag behind the API: without pending findings the grace was never exercised.
    expect(figures.pendingSeen).toBeGreaterThan(0);
  });

  it('confirms no finding: every difference kube-proxy repairs within its sync period stays pending', () => {
    expect(figures.confirmedSeen).toEqual([]);
    expect(figures.confirmedTotal).toBe(0);
  });

  it('sees every pending finding resolved, and the table clean once the churn stops', () => {
    expect(figures.unresolved).toEqual([]);
    expect(figures.pendingResolved).toBe(figures.pendingSeen);
    expect(figures.settled).toBe(true);
  });

  it('logs no error and exits 0 on SIGTERM', () => {
    expect(figures.errorLines).toEqual([]);
    expect(figures.agentExitCode).toBe('0');
  });
});
