import type { SessionLifecycle } from "../runtime/session-deps.js";

/** What the counting lifecycle tells: a session started (registered) or ended. */
export interface SessionCounts {
  started(): void;
  ended(): void;
}

/**
 * A session lifecycle that counts the sessions of the one it wraps (the node's register): one
 * more once `started` succeeded, one less when `ended` settles. A session whose `started` failed
 * never started; one whose last write failed is never `ended` and stays counted, as it stays
 * registered, until the node restarts and recovers it.
 */
export class CountedSessionLifecycle implements SessionLifecycle {
  constructor(
    private readonly inner: SessionLifecycle,
    private readonly counts: SessionCounts,
  ) {}

  async started(conversationId: string): Promise<void> {
    await this.inner.started(conversationId);
    this.counts.started();
  }

  async ended(conversationId: string): Promise<void> {
    try {
      await this.inner.ended(conversationId);
    } finally {
      this.counts.ended();
    }
  }
}
