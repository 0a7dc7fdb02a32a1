/**
 * Outgoing webhooks: the workspace's webhook endpoints (the `/v1/workspace/webhooks` API), the
 * workspace's ConvAI settings document (`/v1/convai/settings`), the outbox of deliveries and the
 * log of every attempt. The incoming side (the ElevenLabs webhook receiver) is `webhook-store.ts`.
 */

/** A workspace webhook: where deliveries go and how they are signed. */
export interface WorkspaceWebhook {
  webhookId: string;
  name: string;
  url: string;
  /** The HMAC secret deliveries are signed with (kept as given: signing needs it). */
  secret: string;
  authType: "hmac";
  /** Disabled by a PATCH: its deliveries wait (they are kept) until it is enabled again. */
  isDisabled: boolean;
  /** Disabled by the auto-disable rule: its deliveries wait until a PATCH enables it again. */
  isAutoDisabled: boolean;
  /** Failed attempts are retried on the schedule (false: one attempt only). */
  retryEnabled: boolean;
  /** Extra headers sent with every delivery. */
  requestHeaders: Record<string, string>;
  /** Upstream's workspace webhook event types (kept and served; post-call events are chosen in the settings). */
  events: string[];
  createdAtUnix: number;
  /** The status code of the most recent failed attempt (absent for a network error or timeout). */
  mostRecentFailureErrorCode: number | null;
  /** When the most recent failed attempt was, in Unix seconds. */
  mostRecentFailureTimestamp: number | null;
  /** Failed attempts since the last success. */
  consecutiveFailures: number;
  /** When the last attempt that succeeded was, in Unix milliseconds; null if none has. */
  lastSuccessAtMs: number | null;
}

/** What a PATCH may change of a webhook (absent fields are left as they are). */
export interface WorkspaceWebhookChange {
  name?: string;
  isDisabled?: boolean;
  /** Set with `isDisabled: false` to clear an auto-disable (and its count of failures). */
  isAutoDisabled?: boolean;
  retryEnabled?: boolean;
  requestHeaders?: Record<string, string>;
  events?: string[];
}

/** The event types openconvai sends (the envelope's `type`). */
export type OutgoingEventType =
  | "post_call_transcription"
  | "post_call_transcription_otel"
  | "post_call_audio"
  | "call_initiation_failure";

/** Where a delivery stands. `cancelled`: its webhook was deleted before it was delivered. */
export type DeliveryStatus = "pending" | "delivered" | "failed" | "cancelled";

/** A delivery to queue: one event for one webhook. */
export interface NewOutgoingDelivery {
  /** Stable across attempts and replays (sent as the delivery id header): receivers drop duplicates by it. */
  deliveryId: string;
  webhookId: string;
  eventType: OutgoingEventType;
  conversationId: string | null;
  agentId: string | null;
  /** The envelope's `event_timestamp` (Unix seconds): when the event happened, the same on every attempt. */
  eventTimestamp: number;
  /**
   * The event's `data` as JSON when it is fixed when queued (`call_initiation_failure`); null when
   * it is built from the stored conversation at each attempt (transcription, audio).
   */
  payload: string | null;
  /** Transcription: leave the turns out (`exclude_transcript`). */
  excludeTranscript: boolean;
  /** How many attempts the delivery may have in all (1 when the webhook's retries are off). */
  maxAttempts: number;
  /** When it was queued (Unix ms); the first attempt is due then. */
  createdAtMs: number;
}

/** A queued delivery as stored. */
export interface OutgoingDelivery extends NewOutgoingDelivery {
  /** Queue order (increasing): deliveries of one conversation to one webhook go out in this order. */
  seq: number;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due (Unix ms); meaningful while pending. */
  nextAttemptAtMs: number;
  /** The last attempt's status code, when it got an answer. */
  lastStatusCode: number | null;
  /** The last attempt's error (network, timeout, or why it failed), when it failed. */
  lastError: string | null;
  updatedAtMs: number;
}

/** One attempt, as the delivery log keeps it. */
export interface DeliveryAttempt {
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  startedAtMs: number;
  url: string;
  /** The answer's status code; null when there was no answer (network error, timeout). */
  statusCode: number | null;
  /** What went wrong, in a line; null on success. */
  error: string | null;
  latencyMs: number;
  /** The first KiB of the answer's body (UTF-8, lossy). */
  responseHead: string | null;
}

/** What an attempt leaves the delivery as. */
export type AttemptOutcome =
  | { status: "delivered" }
  | { status: "pending"; nextAttemptAtMs: number }
  | { status: "failed" };

/** The auto-disable rule: this many consecutive failures, with no success within `quietMs` (or ever). */
export interface AutoDisableRule {
  failures: number;
  quietMs: number;
}

/** Filters of the delivery log (all optional; newest first by queue order). */
export interface DeliveryFilter {
  status?: DeliveryStatus;
  webhookId?: string;
  conversationId?: string;
  /** Queued at or after (Unix ms). */
  sinceMs?: number;
  /** Only deliveries with `seq` below this (the next page of a newest-first listing). */
  beforeSeq?: number;
  limit: number;
}

export interface OutgoingWebhookStore {
  // --- the workspace's webhooks -------------------------------------------------------------
  insertWebhook(webhook: WorkspaceWebhook): Promise<void>;
  /** Every webhook, oldest first. */
  listWebhooks(): Promise<WorkspaceWebhook[]>;
  getWebhook(webhookId: string): Promise<WorkspaceWebhook | undefined>;
  /**
   * Changes a webhook. Enabling it (`isDisabled: false` with `isAutoDisabled: false`) also resets
   * its count of consecutive failures. Undefined if there is no such webhook.
   */
  updateWebhook(webhookId: string, change: WorkspaceWebhookChange): Promise<WorkspaceWebhook | undefined>;
  /**
   * Deletes a webhook; its pending deliveries become `cancelled` (their log stays) in the same
   * transaction. False if there is no such webhook.
   */
  deleteWebhook(webhookId: string, nowMs: number): Promise<boolean>;

  // --- the workspace's ConvAI settings (one JSON document) ------------------------------------
  /** The stored settings document (JSON); undefined before the first PATCH. */
  getSettings(): Promise<string | undefined>;
  putSettings(json: string): Promise<void>;

  // --- the outbox ---------------------------------------------------------------------------
  /** Queues deliveries in one transaction (the conversation stores queue theirs inside their own write). */
  enqueue(deliveries: readonly NewOutgoingDelivery[]): Promise<void>;
  /**
   * Claims, in one transaction, pending deliveries that are due (`nextAttemptAtMs <= nowMs`),
   * that no node holds (or whose hold expired), and that have no pending delivery queued before
   * them for the same webhook and conversation: for each webhook that is neither disabled nor
   * auto-disabled, its `perWebhookLimit` oldest due (then in queue order); of all those, the
   * `limit` oldest due (then in queue order), returned in that order. One webhook's backlog so
   * never takes all of `limit`, and deliveries of a disabled webhook (they wait, kept, until it is
   * enabled) are never read. Each delivery claimed is held for `leaseMs` by `nodeId`: several
   * nodes on one database never claim the same delivery at once (PostgreSQL: `FOR UPDATE SKIP
   * LOCKED`).
   */
  claimDue(
    nodeId: string,
    nowMs: number,
    limit: number,
    leaseMs: number,
    perWebhookLimit: number,
  ): Promise<OutgoingDelivery[]>;
  /**
   * Records one attempt in one transaction: the attempt in the log, the delivery's new state
   * (attempts + 1, the hold released) and the webhook's record (a success resets its failures
   * and sets `lastSuccessAtMs`; a failure counts one more, sets the most recent failure's code
   * and time, and auto-disables the webhook when `rule` says so). A `rule` of null leaves the
   * webhook's record alone: the attempt failed before anything was sent (the conversation is
   * gone), which says nothing of the endpoint. An attempt for a delivery no longer held by
   * `nodeId` (its hold expired and another node took it) records nothing: false.
   */
  recordAttempt(
    nodeId: string,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
    rule: AutoDisableRule | null,
  ): Promise<boolean>;
  /** Puts a held delivery back to wait until `nextAttemptAtMs` without counting an attempt (its audio is not ready yet). */
  defer(nodeId: string, deliveryId: string, nextAttemptAtMs: number): Promise<void>;
  /** Releases every hold of `nodeId` (at start: a node that crashed mid-attempt retries at once). */
  releaseNode(nodeId: string): Promise<number>;
  /** How many deliveries are pending (the outbox's depth: due, waiting for a retry, held, or waiting on a disabled webhook). */
  countQueuedDeliveries(): Promise<number>;

  // --- the log, and replay --------------------------------------------------------------------
  listDeliveries(filter: DeliveryFilter): Promise<OutgoingDelivery[]>;
  /** A delivery with its attempts (oldest first); undefined if unknown. */
  getDelivery(
    deliveryId: string,
  ): Promise<{ delivery: OutgoingDelivery; attempts: DeliveryAttempt[] } | undefined>;
  /**
   * Queues deliveries again, due at `nowMs`: each becomes `pending` with `extraAttempts` more
   * attempts than it has made (its log is kept, its id stays). `cancelled` deliveries are not
   * replayed, nor are pending ones a node holds right now (their attempt is under way: replaying
   * them would send them twice). Returns how many were queued.
   */
  redeliver(
    selection: { deliveryIds: string[] } | { filter: DeliveryFilter },
    nowMs: number,
    extraAttempts: number,
  ): Promise<number>;
}
