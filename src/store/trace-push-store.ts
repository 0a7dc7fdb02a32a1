/**
 * The queue of conversation traces waiting to be pushed to an OpenTelemetry collector (see
 * docs/telemetry.md). A trigger on `conversations` queues a conversation in the transaction that
 * finishes it (status `done` or `failed`, inserted so or updated from an unfinished status), but
 * only while pushing is enabled: the settings row the trigger checks. A queued conversation keeps
 * its row, attempts and next attempt time until the push is acknowledged, so nothing is lost to a
 * crash or a collector outage.
 */

/** One queued conversation, as a round reads it. */
export interface QueuedTracePush {
  conversationId: string;
  /**
   * Bumped whenever the conversation is queued again while its row waits (it finished anew): a
   * delete or reschedule names the version it read, so a newer finish is never dropped with it.
   */
  version: number;
  /** Failed attempts so far. */
  attempts: number;
  /** When the row is due, Unix milliseconds (0: at once). */
  nextAttemptAtMs: number;
}

/** A failed push and when to try it again. */
export interface TracePushRetry {
  push: QueuedTracePush;
  nextAttemptAtMs: number;
}

/** The trace push queue; both database backends implement it. */
export interface TracePushStore {
  /** Turns queueing on (idempotent): from now on, finishing conversations are queued. */
  enable(): Promise<void>;
  /**
   * Turns queueing off and empties the queue, in one transaction. Resolves false, changing nothing,
   * when the settings stayed locked by other work for too long (PostgreSQL: another node's writes
   * or its own disable); true once done.
   */
  disable(): Promise<boolean>;
  /** Whether queueing is on. */
  isEnabled(): Promise<boolean>;
  /** Up to `limit` rows due at `nowMs`, the longest due first. */
  claimDue(nowMs: number, limit: number): Promise<QueuedTracePush[]>;
  /** Deletes rows that were pushed (or whose conversation is gone), each only at the version read. */
  deletePushed(pushes: readonly QueuedTracePush[]): Promise<void>;
  /** Counts a failed attempt of each row and sets its next attempt, each only at the version read. */
  reschedule(retries: readonly TracePushRetry[]): Promise<void>;
  /** How many rows are queued (due or not). */
  countQueued(): Promise<number>;
}
