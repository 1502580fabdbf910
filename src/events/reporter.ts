/**
 * The agent's voice in Kubernetes: after every poll, the Events of what was confirmed and cleared
 * (--events) and the IPVSConsistent NodeCondition (--node-condition), handed to the write queue.
 * Never blocks and never throws into the poll: everything that talks to the API happens in the
 * queue's worker.
 */
import { EventCorrelator } from './correlator.js';
import { DriftAnnouncer, type PollChange } from './intents.js';
import type { KubeSink } from './kube-sink.js';
import { ConditionTracker } from './node-condition.js';
import type { WriteLogger, WriteQueue } from './write-queue.js';

export interface ClusterReporterOptions {
  node: string;
  events: boolean;
  nodeCondition: boolean;
  sink: Pick<KubeSink, 'writeEvent' | 'patchCondition'>;
  queue: WriteQueue;
  logger: WriteLogger;
  correlator?: EventCorrelator;
  now?: () => Date;
}

export class ClusterReporter {
  private readonly correlator: EventCorrelator;
  private readonly condition = new ConditionTracker();
  private readonly announcer: DriftAnnouncer;
  private readonly now: () => Date;
  /** Observations the rate limit dropped since start. */
  rateLimited = 0;

  constructor(private readonly options: ClusterReporterOptions) {
    this.correlator = options.correlator ?? new EventCorrelator();
    this.announcer = new DriftAnnouncer(options.node);
    this.now = options.now ?? (() => new Date());
  }

  afterPoll(change: PollChange): void {
    const { node, sink, queue } = this.options;
    const now = this.now();
    if (this.options.events) {
      for (const intent of this.announcer.intents(change.report)) {
        const correlated = this.correlator.observe(intent, now);
        const what = `Event ${intent.reason} on ${intent.regarding.kind} ${intent.regarding.namespace ? `${intent.regarding.namespace}/` : ''}${intent.regarding.name}`;
        if ('skipped' in correlated) {
          this.rateLimited++;
          this.options.logger.debug({ event: what }, 'Event dropped by the rate limit (25, then one per 5 minutes per object)');
          continue;
        }
        const { event } = correlated;
        queue.enqueue({ key: `event ${event.key}`, what, attempt: (signal) => sink.writeEvent(event, signal) });
      }
    }
    if (this.options.nodeCondition) {
      const condition = this.condition.next(change.report, now);
      if (condition) {
        queue.enqueue({
          key: 'node-condition',
          what: `NodeCondition ${condition.type}=${condition.status} on Node ${node}`,
          attempt: (signal) => sink.patchCondition(node, condition, signal),
          abandoned: () => this.condition.forget(),
        });
      }
    }
  }

  stop(): Promise<void> {
    return this.options.queue.stop();
  }
}
