/**
 * The agent's migration report, built on request from the last poll's readings and cached until the
 * next poll: the poll loop never computes it, and many requests between two polls cost one build.
 * The host's sockets are read at the first request after a poll (they are no part of the poll).
 */
import type { HostSockets } from '../node/sockets.js';
import { migrationInputFromPoll, type PollReadings } from './from-poll.js';
import { buildMigrationReport } from './report.js';
import type { MigrationReport } from './types.js';

export interface PollSource {
  pollReadings(): PollReadings | null;
  pollCount(): number;
}

export interface ReporterDeps {
  readSockets: () => Promise<HostSockets>;
  /** --kube-proxy-version; when null, readKubeProxyVersion asks kube-proxy. */
  kubeProxyVersion?: string | null;
  /** kube-proxy's version from its /metrics (src/node/kube-proxy-version.ts), null when unknown. */
  readKubeProxyVersion?: () => Promise<string | null>;
  targetVersion?: string | null;
}

export class MigrationReporter {
  private cached: { poll: number; report: Promise<MigrationReport> } | null = null;

  constructor(
    private readonly source: PollSource,
    private readonly deps: ReporterDeps,
  ) {}

  /** The report of the last poll, or null before the first poll. */
  report(): Promise<MigrationReport> | null {
    const poll = this.source.pollCount();
    if (this.cached?.poll === poll) return this.cached.report;
    const readings = this.source.pollReadings();
    if (readings === null) return null;
    const report = this.build(readings);
    this.cached = { poll, report };
    return report;
  }

  /** The report already built for the last poll, without building one (for /metrics, which must stay cheap). */
  current(): Promise<MigrationReport> | null {
    return this.cached?.poll === this.source.pollCount() ? this.cached.report : null;
  }

  private async build(readings: PollReadings): Promise<MigrationReport> {
    let sockets: HostSockets | null;
    try {
      sockets = await this.deps.readSockets();
    } catch {
      sockets = null;
    }
    const kubeProxyVersion = this.deps.kubeProxyVersion ?? (await this.deps.readKubeProxyVersion?.().catch(() => null)) ?? null;
    return buildMigrationReport(migrationInputFromPoll(readings, { sockets, kubeProxyVersion, targetVersion: this.deps.targetVersion ?? null }));
  }
}
