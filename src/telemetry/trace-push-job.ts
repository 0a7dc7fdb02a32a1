/**
 * The trace push job: each round, once across the nodes (the `trace-push` job lock), it reads the
 * due rows of the trace push queue, builds each conversation's trace as `format=opentelemetry`
 * serves it, sends them in batches, and deletes the rows the collector acknowledged. A failed
 * batch stays queued with its attempt counted and its next attempt pushed back (doubling, capped),
 * so retries survive restarts; a conversation deleted meanwhile is dropped from the queue. It logs
 * counts and HTTP statuses only, never a conversation's content.
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "pino";
import type { OtlpConfig } from "../config/otlp-config.js";
import type { ConversationDoc } from "../domain/conversation.js";
import { buildConversationSpans } from "../domain/trace/conversation-trace.js";
import type { JobLocks } from "../store/job-locks.js";
import type { ConversationStore } from "../store/store.js";
import type { QueuedTracePush, TracePushRetry, TracePushStore } from "../store/trace-push-store.js";
import type { TraceSender } from "./trace-push-sender.js";

/** The job lock's name: one node pushes at a time. */
export const TRACE_PUSH_JOB = "trace-push";

/** Batches a round reads at most before it gives the lock back. */
const BATCHES_PER_CLAIM = 10;
/** Each retry's delay is moved by up to this share of it, either way, so retries spread out. */
const RETRY_JITTER = 0.1;

/** What the job is built from. */
export interface TracePushJobOptions {
  store: TracePushStore;
  conversations: Pick<ConversationStore, "getConversation">;
  jobLocks: JobLocks;
  sender: TraceSender;
  config: Pick<OtlpConfig, "batchSize" | "intervalMs" | "firstRetryMs" | "maxRetryMs">;
  logger: Pick<Logger, "info" | "warn" | "error">;
  /** The clock, Unix milliseconds (tests move it). */
  now?: () => number;
}

/** What one round did, in counts. */
export interface TracePushCounts {
  pushed: number;
  spans: number;
  failed: number;
  /** Rows dropped: the conversation was deleted, or its document yields no trace. */
  dropped: number;
}

/** One conversation ready to send. */
interface Prepared {
  push: QueuedTracePush;
  spans: ReadableSpan[];
}

/** The delay before attempt `attempts + 2`, after `attempts + 1` failures: doubling from the first, capped, jittered. */
export function retryDelayMs(
  attempts: number,
  config: Pick<OtlpConfig, "firstRetryMs" | "maxRetryMs">,
  random: () => number = Math.random,
): number {
  const base = Math.min(config.maxRetryMs, config.firstRetryMs * 2 ** Math.min(attempts, 30));
  return Math.max(0, Math.round(base * (1 + (random() * 2 - 1) * RETRY_JITTER)));
}

/** Pushes finished conversations' traces to the collector, a round every `intervalMs`. */
export class TracePushJob {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly options: TracePushJobOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.stopping = false;
    this.schedule(0);
  }

  /**
   * Stops the rounds: a send in flight is given up (its rows stay queued for the next start), the
   * round in flight records that and ends, and the exporter closes.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const closing = this.options.sender.shutdown();
    await this.round;
    await closing;
  }

  /** Runs one round now under the job lock; undefined when another node (or round) holds it. */
  async runRound(): Promise<TracePushCounts | undefined> {
    const run = await this.options.jobLocks.runExclusive(TRACE_PUSH_JOB, () => this.pushDue());
    return run.ran ? run.value : undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.round = this.runLoggedRound().finally(() => {
        this.round = undefined;
        this.schedule(this.options.config.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async runLoggedRound(): Promise<void> {
    try {
      const counts = await this.runRound();
      if (counts && (counts.pushed > 0 || counts.failed > 0 || counts.dropped > 0)) {
        this.options.logger.info(counts, "trace push: round done");
      }
    } catch (error) {
      // A database error: the rows stay queued, and the next round tries again.
      this.options.logger.error({ err: error }, "trace push: the round failed; the queue is kept");
    }
  }

  /** Reads due rows and sends them, batch by batch, until none is due, a batch fails, or the job stops. */
  private async pushDue(): Promise<TracePushCounts> {
    const counts: TracePushCounts = { pushed: 0, spans: 0, failed: 0, dropped: 0 };
    const { batchSize } = this.options.config;
    const limit = batchSize * BATCHES_PER_CLAIM;
    for (;;) {
      const due = await this.options.store.claimDue(this.now(), limit);
      let healthy = true;
      for (let i = 0; i < due.length && healthy && !this.stopping; i += batchSize) {
        healthy = await this.pushBatch(due.slice(i, i + batchSize), counts);
      }
      // Unsent rows of this claim stay due and are read again.
      if (due.length < limit || !healthy || this.stopping) return counts;
    }
  }

  /** Sends one batch; false when the collector could not take it (the round stops there). */
  private async pushBatch(batch: readonly QueuedTracePush[], counts: TracePushCounts): Promise<boolean> {
    const prepared: Prepared[] = [];
    const gone: QueuedTracePush[] = [];
    for (const push of batch) {
      const spans = await this.buildSpans(push);
      if (spans === undefined) gone.push(push);
      else prepared.push({ push, spans });
    }
    if (gone.length > 0) {
      await this.options.store.deletePushed(gone);
      counts.dropped += gone.length;
    }
    if (prepared.length === 0) return true;
    // Stopping: the rows stay due for the next start.
    if (this.stopping) return false;
    const result = await this.options.sender.send(prepared.flatMap((p) => p.spans));
    if (result.ok) {
      await this.acknowledge(prepared, counts);
      return true;
    }
    if (!result.refused || prepared.length === 1) {
      await this.retryLater(prepared, counts, result.status);
      // A refused single conversation says nothing about the others: go on.
      return result.refused;
    }
    // The collector refused the request as such (too large, malformed): one at a time, so one
    // conversation it cannot take does not hold the others back.
    for (const one of prepared) {
      const single = await this.options.sender.send(one.spans);
      if (single.ok) await this.acknowledge([one], counts);
      else {
        await this.retryLater([one], counts, single.status);
        if (!single.refused) return false;
      }
    }
    return true;
  }

  /** The conversation's spans; undefined when it is gone or its document yields no trace. */
  private async buildSpans(push: QueuedTracePush): Promise<ReadableSpan[] | undefined> {
    const stored = await this.options.conversations.getConversation(push.conversationId);
    if (stored === undefined) return undefined;
    try {
      const spans = buildConversationSpans(JSON.parse(stored.json) as ConversationDoc);
      return spans.length > 0 ? spans : undefined;
    } catch {
      // The stored document was validated on the way in; one that still yields no trace never will.
      return undefined;
    }
  }

  private async acknowledge(sent: readonly Prepared[], counts: TracePushCounts): Promise<void> {
    await this.options.store.deletePushed(sent.map((p) => p.push));
    counts.pushed += sent.length;
    counts.spans += sent.reduce((n, p) => n + p.spans.length, 0);
  }

  private async retryLater(
    failed: readonly Prepared[],
    counts: TracePushCounts,
    status: number | undefined,
  ): Promise<void> {
    const now = this.now();
    const retries: TracePushRetry[] = failed.map(({ push }) => ({
      push,
      nextAttemptAtMs: now + retryDelayMs(push.attempts, this.options.config),
    }));
    await this.options.store.reschedule(retries);
    counts.failed += failed.length;
    this.options.logger.warn(
      { conversations: failed.length, status: status ?? null },
      "trace push: the collector did not take a batch; it stays queued and is retried later",
    );
  }
}
