import type pg from "pg";
import type { QueuedTracePush, TracePushRetry, TracePushStore } from "../trace-push-store.js";
import { inTransaction } from "./pg-transaction.js";

interface QueueDbRow {
  conversation_id: string;
  version: number;
  attempts: number;
  next_attempt_at: number;
}

/** How long `disable` waits for the settings' lock before giving up for this start. */
export const DISABLE_LOCK_TIMEOUT_MS = 5_000;

/** PostgreSQL's SQLSTATE for a lock not granted within lock_timeout. */
const LOCK_NOT_AVAILABLE = "55P03";

/** The trace push queue in PostgreSQL. */
export class PostgresTracePushStore implements TracePushStore {
  constructor(private readonly pool: pg.Pool) {}

  async enable(): Promise<void> {
    await this.pool.query("INSERT INTO trace_push_settings (id) VALUES (1) ON CONFLICT (id) DO NOTHING");
  }

  async disable(): Promise<boolean> {
    try {
      await inTransaction(this.pool, async (client) => {
        // While the lock is awaited every conversation write on every node (its trigger reads the
        // settings) queues behind it, so the wait is bounded.
        await client.query(`SET LOCAL lock_timeout = '${DISABLE_LOCK_TIMEOUT_MS}ms'`);
        // Waits for the writes whose trigger already saw the settings row, so none of their queue
        // rows lands after the queue is emptied.
        await client.query("LOCK TABLE trace_push_settings IN ACCESS EXCLUSIVE MODE");
        await client.query("DELETE FROM trace_push_settings");
        await client.query("DELETE FROM trace_push_queue");
      });
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return false;
      throw error;
    }
  }

  async isEnabled(): Promise<boolean> {
    const result = await this.pool.query("SELECT 1 FROM trace_push_settings");
    return (result.rowCount ?? 0) > 0;
  }

  async claimDue(nowMs: number, limit: number): Promise<QueuedTracePush[]> {
    const result = await this.pool.query<QueueDbRow>(
      `SELECT conversation_id, version, attempts, next_attempt_at FROM trace_push_queue
       WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, conversation_id LIMIT $2`,
      [nowMs, limit],
    );
    return result.rows.map((r) => ({
      conversationId: r.conversation_id,
      version: r.version,
      attempts: r.attempts,
      nextAttemptAtMs: r.next_attempt_at,
    }));
  }

  async deletePushed(pushes: readonly QueuedTracePush[]): Promise<void> {
    if (pushes.length === 0) return;
    await this.pool.query(
      `DELETE FROM trace_push_queue q USING unnest($1::text[], $2::bigint[]) AS p(conversation_id, version)
       WHERE q.conversation_id = p.conversation_id AND q.version = p.version`,
      [pushes.map((p) => p.conversationId), pushes.map((p) => p.version)],
    );
  }

  async reschedule(retries: readonly TracePushRetry[]): Promise<void> {
    if (retries.length === 0) return;
    await this.pool.query(
      `UPDATE trace_push_queue q SET attempts = q.attempts + 1, next_attempt_at = r.next_attempt_at
       FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS r(conversation_id, version, next_attempt_at)
       WHERE q.conversation_id = r.conversation_id AND q.version = r.version`,
      [
        retries.map((r) => r.push.conversationId),
        retries.map((r) => r.push.version),
        retries.map((r) => r.nextAttemptAtMs),
      ],
    );
  }

  async countQueued(): Promise<number> {
    const result = await this.pool.query<{ n: number }>("SELECT count(*) AS n FROM trace_push_queue");
    return result.rows[0]?.n ?? 0;
  }
}
