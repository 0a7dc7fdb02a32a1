import type BetterSqlite3 from "better-sqlite3";
import type { QueuedTracePush, TracePushRetry, TracePushStore } from "../trace-push-store.js";

interface QueueDbRow {
  conversation_id: string;
  version: number;
  attempts: number;
  next_attempt_at: number;
}

/** The trace push queue in SQLite. */
export class SqliteTracePushStore implements TracePushStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  async enable(): Promise<void> {
    this.db.prepare("INSERT INTO trace_push_settings (id) VALUES (1) ON CONFLICT (id) DO NOTHING").run();
  }

  async disable(): Promise<boolean> {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM trace_push_settings").run();
      this.db.prepare("DELETE FROM trace_push_queue").run();
    })();
    return true;
  }

  async isEnabled(): Promise<boolean> {
    return this.db.prepare("SELECT 1 FROM trace_push_settings").get() !== undefined;
  }

  async claimDue(nowMs: number, limit: number): Promise<QueuedTracePush[]> {
    const rows = this.db
      .prepare(
        `SELECT conversation_id, version, attempts, next_attempt_at FROM trace_push_queue
         WHERE next_attempt_at <= ? ORDER BY next_attempt_at, conversation_id LIMIT ?`,
      )
      .all(nowMs, limit) as QueueDbRow[];
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      version: r.version,
      attempts: r.attempts,
      nextAttemptAtMs: r.next_attempt_at,
    }));
  }

  async deletePushed(pushes: readonly QueuedTracePush[]): Promise<void> {
    const remove = this.db.prepare("DELETE FROM trace_push_queue WHERE conversation_id = ? AND version = ?");
    this.db.transaction(() => {
      for (const push of pushes) remove.run(push.conversationId, push.version);
    })();
  }

  async reschedule(retries: readonly TracePushRetry[]): Promise<void> {
    const update = this.db.prepare(
      `UPDATE trace_push_queue SET attempts = attempts + 1, next_attempt_at = ?
       WHERE conversation_id = ? AND version = ?`,
    );
    this.db.transaction(() => {
      for (const { push, nextAttemptAtMs } of retries) {
        update.run(nextAttemptAtMs, push.conversationId, push.version);
      }
    })();
  }

  async countQueued(): Promise<number> {
    const row = this.db.prepare("SELECT count(*) AS n FROM trace_push_queue").get() as { n: number };
    return row.n;
  }
}
