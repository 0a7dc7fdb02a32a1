import type { BlobStore } from "../blobs/blob-store.js";
import type { WebhooksOutConfig } from "../config/webhooks-out-config.js";
import type {
  AttemptOutcome,
  AutoDisableRule,
  OutgoingDelivery,
  OutgoingWebhookStore,
  WorkspaceWebhook,
} from "../store/outgoing-webhook-store.js";
import type { ConversationStore } from "../store/store.js";
import { buildDeliveryBody, type RequestBody } from "./delivery-body.js";
import { type SendResult, sendWebhook } from "./http-sender.js";
import { nextOutcome } from "./retry-policy.js";
import { signatureHeader, signatureHeaderOfStream } from "./signature.js";

/** A pino-like logger: `(fields, message)`. */
export interface DispatcherLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the dispatcher works with. */
export interface WebhookDispatcherDeps {
  store: OutgoingWebhookStore;
  conversations: ConversationStore;
  blobs: BlobStore;
  config: WebhooksOutConfig;
  /** This node's id: its holds on deliveries are in its name. */
  nodeId: string;
  logger: DispatcherLogger;
  /** The clock, in Unix ms (tests move it). */
  now?: () => number;
  /** The jitter's random source, in [0, 1) (tests fix it). */
  random?: () => number;
  /** Told of every attempt made (the server's metrics). */
  attempts?: AttemptObserver;
}

/**
 * Told of each attempt, with what it left the delivery as (`delivered`, `pending`: to be retried,
 * `failed`) and, when a request was sent, how long it took in seconds (undefined when none was).
 */
export interface AttemptObserver {
  attempted(outcome: AttemptOutcome["status"], seconds: number | undefined): void;
}

/** The auto-disable rule: 10 consecutive failures with no success for 7 days (or ever). */
export const AUTO_DISABLE_RULE: AutoDisableRule = { failures: 10, quietMs: 7 * 86_400_000 };

/** How long an audio delivery waits for its recording between looks, without counting an attempt. */
export const AUDIO_NOT_READY_DEFER_MS = 2000;

/** How long after it was queued an audio delivery stops waiting for its recording and fails. */
export const AUDIO_WAIT_LIMIT_MS = 10 * 60_000;

/** The most deliveries one node holds at once (claimed, waiting for a slot or in flight). */
const MAX_HELD = 64;

/** Holds of deliveries whose turn came too late to finish inside the hold are handed back. */
const LEASE_MARGIN_MS = 15_000;

/** How long `flush` goes on sending what is due at shutdown. */
const SHUTDOWN_FLUSH_MS = 5_000;

/** How long a delivery whose attempt broke unexpectedly waits before it is tried again. */
const BROKEN_ATTEMPT_DEFER_MS = 30_000;

/** A per-webhook limit on attempts in flight: a waiting line and a count. */
interface Lane {
  active: number;
  /** Deliveries waiting for a slot: woken with true when one is handed to them, false when stopping. */
  waiting: ((handed: boolean) => void)[];
}

/**
 * Sends the outbox: claims due deliveries (a hold in this node's name, so several nodes on one
 * database never send the same one at once), builds and signs each body afresh, sends it with at
 * most `concurrencyPerEndpoint` attempts in flight per webhook, and records each attempt with
 * what it leaves the delivery as (delivered, due again, failed). A local write wakes it with
 * `notify`; otherwise it looks every `pollMs`.
 */
export class WebhookDispatcher {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly leaseMs: number;
  private readonly lanes = new Map<string, Lane>();
  private readonly tasks = new Set<Promise<void>>();
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pollAgain = false;

  constructor(private readonly deps: WebhookDispatcherDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.leaseMs = deps.config.timeoutMs * 2 + 30_000;
  }

  /** Releases what this node held before (a crash mid-attempt), then looks for due deliveries every `pollMs`. */
  async start(): Promise<void> {
    if (this.running) return;
    const released = await this.deps.store.releaseNode(this.deps.nodeId);
    if (released > 0) {
      this.deps.logger.info(
        { released },
        "webhook deliveries this node held before it started are due again",
      );
    }
    this.running = true;
    this.stopped = false;
    this.notify();
  }

  /** Looks for due deliveries now (a write has just queued some). */
  notify(): void {
    if (!this.running || this.stopped) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.polling = this.poll().finally(() => {
      this.polling = undefined;
      if (!this.running || this.stopped) return;
      if (this.pollAgain) {
        this.pollAgain = false;
        this.notify();
      } else {
        this.timer = setTimeout(() => this.notify(), this.deps.config.pollMs);
        this.timer.unref();
      }
    });
  }

  /**
   * Before a stop: sends what is due now (what the sessions ended at shutdown queued), looking
   * again after each round, until nothing is due or `timeoutMs` passed. Attempts still in flight
   * then are waited for by `stop`; a delivery due later (a retry, audio not ready) stays queued.
   */
  async flush(timeoutMs = SHUTDOWN_FLUSH_MS): Promise<void> {
    if (!this.running || this.stopped) return;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<"time_up">((resolve) => {
      timer = setTimeout(() => resolve("time_up"), timeoutMs);
    });
    try {
      while (!this.stopped && Date.now() < deadline) {
        await Promise.race([this.polling, timeUp]);
        const round = this.runOnce().catch((error: unknown) => {
          this.deps.logger.error({ err: error }, "could not claim due webhook deliveries");
          return 0;
        });
        const sent = await Promise.race([round, timeUp]);
        if (sent === "time_up" || (sent === 0 && this.tasks.size === 0)) return;
        if (sent === 0) await Promise.race([Promise.allSettled([...this.tasks]), timeUp]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops claiming, waits for the attempts in flight (bounded by the timeout), and hands back what is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    clearTimeout(this.timer);
    // Deliveries waiting for a slot see `stopped` and are not sent.
    for (const lane of this.lanes.values()) for (const wake of lane.waiting.splice(0)) wake(false);
    await this.polling;
    await Promise.allSettled([...this.tasks]);
    try {
      await this.deps.store.releaseNode(this.deps.nodeId);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "could not hand back the webhook deliveries this node held");
    }
  }

  /** Claims what is due and runs it; resolves once those attempts are recorded. */
  async runOnce(): Promise<number> {
    const started = await this.claimAndRun();
    await Promise.allSettled(started);
    return started.length;
  }

  /** One look at the outbox (what the timer and `notify` run); a failing store is logged, never thrown. */
  private async poll(): Promise<void> {
    try {
      await this.claimAndRun();
    } catch (error) {
      this.deps.logger.error({ err: error }, "could not claim due webhook deliveries");
    }
  }

  /** Claims due deliveries (up to what this node may hold) and starts each; returns their tasks. */
  private async claimAndRun(): Promise<Promise<void>[]> {
    const room = MAX_HELD - this.tasks.size;
    if (room <= 0) return [];
    const claimedAt = this.now();
    const claimed = await this.deps.store.claimDue(
      this.deps.nodeId,
      claimedAt,
      room,
      this.leaseMs,
      this.deps.config.concurrencyPerEndpoint,
    );
    return claimed.map((delivery) => {
      const task = this.runClaimed(delivery, claimedAt);
      this.tasks.add(task);
      void task.finally(() => this.tasks.delete(task));
      return task;
    });
  }

  /** Runs a claimed delivery when its webhook has a free slot; an unexpected error is logged and the delivery put back. */
  private async runClaimed(delivery: OutgoingDelivery, claimedAt: number): Promise<void> {
    const lane = this.laneOf(delivery.webhookId);
    if (lane.active < this.deps.config.concurrencyPerEndpoint) {
      lane.active++;
    } else {
      // A slot is handed over by the attempt that frees it (false: the dispatcher is stopping).
      const handed = await new Promise<boolean>((wake) => lane.waiting.push(wake));
      if (!handed) return;
    }
    try {
      if (this.stopped) return;
      await this.attempt(delivery, claimedAt);
    } catch (error) {
      this.deps.logger.error(
        { err: error, deliveryId: delivery.deliveryId, webhookId: delivery.webhookId },
        "a webhook delivery attempt failed unexpectedly; it is tried again later",
      );
      await this.putBack(delivery, this.now() + BROKEN_ATTEMPT_DEFER_MS);
    } finally {
      this.releaseSlot(delivery.webhookId, lane);
    }
  }

  /** Hands the slot to the next delivery waiting for it, or frees it. */
  private releaseSlot(webhookId: string, lane: Lane): void {
    const next = lane.waiting.shift();
    if (next) {
      next(true);
      return;
    }
    lane.active--;
    if (lane.active === 0) this.lanes.delete(webhookId);
  }

  private laneOf(webhookId: string): Lane {
    let lane = this.lanes.get(webhookId);
    if (!lane) {
      lane = { active: 0, waiting: [] };
      this.lanes.set(webhookId, lane);
    }
    return lane;
  }

  /** Hands a held delivery back, due at `atMs`, without counting an attempt; a failing store is logged. */
  private async putBack(delivery: OutgoingDelivery, atMs: number): Promise<void> {
    try {
      await this.deps.store.defer(this.deps.nodeId, delivery.deliveryId, atMs);
    } catch (error) {
      // Its hold runs out on its own: it is claimed again then.
      this.deps.logger.warn(
        { err: error, deliveryId: delivery.deliveryId },
        "could not hand back a webhook delivery",
      );
    }
  }

  /** One attempt of a held delivery: check it may still go, build, sign, send, record. */
  private async attempt(delivery: OutgoingDelivery, claimedAt: number): Promise<void> {
    const startedAtMs = this.now();
    const { timeoutMs } = this.deps.config;
    // Its hold must outlast the attempt: a turn that came too late goes back to the queue, unsent.
    if (startedAtMs - claimedAt > this.leaseMs - timeoutMs - LEASE_MARGIN_MS) {
      await this.putBack(delivery, startedAtMs);
      return;
    }
    const webhook = await this.deps.store.getWebhook(delivery.webhookId);
    if (!webhook) {
      // Deleted since the claim: deleting it cancelled the delivery.
      this.deps.logger.debug(
        { deliveryId: delivery.deliveryId },
        "the delivery's webhook was deleted; not sent",
      );
      return;
    }
    if (webhook.isDisabled || webhook.isAutoDisabled) {
      await this.putBack(delivery, startedAtMs);
      return;
    }

    const built = await buildDeliveryBody(delivery, this.deps);
    if (built.status === "not_ready") {
      if (startedAtMs - delivery.createdAtMs <= AUDIO_WAIT_LIMIT_MS) {
        await this.putBack(delivery, startedAtMs + AUDIO_NOT_READY_DEFER_MS);
        return;
      }
      await this.record(
        delivery,
        webhook,
        startedAtMs,
        noRequest("the conversation has no audio"),
        { status: "failed" },
        false,
      );
      return;
    }
    if (built.status === "final") {
      await this.record(delivery, webhook, startedAtMs, noRequest(built.error), { status: "failed" }, false);
      return;
    }

    const attempt = delivery.attempts + 1;
    const result = await this.signAndSend(delivery, webhook, built.body, attempt, claimedAt);
    if (result === "too-late") {
      // Building and signing took so long that the hold might run out mid-send: another node
      // could then send it too. It goes back, unsent.
      await this.putBack(delivery, this.now());
      return;
    }
    const outcome = nextOutcome(
      result,
      attempt,
      delivery.maxAttempts,
      this.deps.config,
      this.now(),
      this.random,
    );
    await this.record(delivery, webhook, startedAtMs, result, outcome);
  }

  /**
   * Signs the body with a fresh timestamp, then sends it; a body that can't be read is a failed
   * attempt. "too-late" (nothing sent) when the hold would not outlast the send any more.
   */
  private async signAndSend(
    delivery: OutgoingDelivery,
    webhook: WorkspaceWebhook,
    body: RequestBody,
    attempt: number,
    claimedAt: number,
  ): Promise<SendResult | "too-late"> {
    const t = Math.floor(this.now() / 1000);
    let signature: string;
    try {
      signature =
        body.kind === "bytes"
          ? signatureHeader(t, webhook.secret, [body.bytes])
          : await signatureHeaderOfStream(t, webhook.secret, body.open());
    } catch (error) {
      return {
        statusCode: null,
        error: `the body could not be read: ${(error as Error).message}`,
        latencyMs: 0,
        responseHead: null,
      };
    }
    this.deps.logger.debug(
      {
        deliveryId: delivery.deliveryId,
        attempt,
        bytes: body.kind === "bytes" ? body.bytes.length : "streamed",
      },
      "sending a webhook delivery",
    );
    if (this.now() - claimedAt > this.leaseMs - this.deps.config.timeoutMs - LEASE_MARGIN_MS)
      return "too-late";
    return sendWebhook({
      url: webhook.url,
      body,
      signature,
      deliveryId: delivery.deliveryId,
      attempt,
      requestHeaders: webhook.requestHeaders,
      timeoutMs: this.deps.config.timeoutMs,
      allowPrivate: this.deps.config.allowPrivate,
    });
  }

  /** Records an attempt and what it leaves the delivery as, and logs it (without the URL, which may hold a token). */
  private async record(
    delivery: OutgoingDelivery,
    webhook: WorkspaceWebhook,
    startedAtMs: number,
    result: SendResult,
    outcome: AttemptOutcome,
    /** False when nothing was sent (the conversation is gone): the webhook's failure count is left alone. */
    countsForWebhook = true,
  ): Promise<void> {
    const attempt = delivery.attempts + 1;
    this.deps.attempts?.attempted(outcome.status, result.final ? undefined : result.latencyMs / 1000);
    const recorded = await this.deps.store.recordAttempt(
      this.deps.nodeId,
      {
        deliveryId: delivery.deliveryId,
        attempt,
        startedAtMs,
        url: webhook.url,
        statusCode: result.statusCode,
        error: result.error,
        latencyMs: result.latencyMs,
        responseHead: result.responseHead,
      },
      outcome,
      countsForWebhook ? AUTO_DISABLE_RULE : null,
    );
    const fields = {
      deliveryId: delivery.deliveryId,
      webhookId: delivery.webhookId,
      eventType: delivery.eventType,
      attempt,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      outcome: outcome.status,
      ...(outcome.status === "pending" ? { nextAttemptAtMs: outcome.nextAttemptAtMs } : {}),
      ...(result.error !== null ? { error: result.error } : {}),
    };
    if (!recorded) {
      this.deps.logger.warn(
        fields,
        "a webhook attempt ended after this node's hold on the delivery ran out; not recorded",
      );
    } else if (outcome.status === "delivered") {
      this.deps.logger.info(fields, "webhook delivered");
    } else if (outcome.status === "pending") {
      this.deps.logger.info(fields, "webhook attempt failed; it will be retried");
    } else {
      this.deps.logger.warn(fields, "webhook delivery failed");
    }
    if (result.responseHead !== null) {
      this.deps.logger.debug(
        { deliveryId: delivery.deliveryId, responseHead: result.responseHead },
        "webhook answer",
      );
    }
  }
}

/** The result of an attempt that never made a request (the body could not be built). */
function noRequest(error: string): SendResult {
  return { statusCode: null, error, latencyMs: 0, responseHead: null, final: true };
}
