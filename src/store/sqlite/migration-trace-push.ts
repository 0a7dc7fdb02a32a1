/**
 * Schema version 12: the trace push queue (src/store/trace-push-store.ts). `trace_push_settings`
 * holds one row while pushing is enabled; the triggers queue a conversation only then, so a
 * deployment without a collector never grows the queue. The WHEN clauses test the statuses first:
 * a live session's per-turn UPDATE (an unfinished status) stops there. The UPDATE trigger fires
 * only on a move from an unfinished status to a finished one, not on a rewrite of a finished
 * conversation. A conversation queued again while its row waits bumps `version` and is due at once.
 */
export const sqliteTracePushMigration = `
  CREATE TABLE trace_push_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1)
  );

  CREATE TABLE trace_push_queue (
    conversation_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    -- Unix milliseconds; 0 is due at once.
    next_attempt_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX trace_push_queue_due ON trace_push_queue (next_attempt_at, conversation_id);

  CREATE TRIGGER conversations_trace_push_insert AFTER INSERT ON conversations
  WHEN NEW.status IN ('done', 'failed') AND EXISTS (SELECT 1 FROM trace_push_settings)
  BEGIN
    INSERT INTO trace_push_queue (conversation_id, version, attempts, next_attempt_at)
      VALUES (NEW.conversation_id, 1, 0, 0)
      ON CONFLICT (conversation_id) DO UPDATE SET version = version + 1, attempts = 0, next_attempt_at = 0;
  END;

  CREATE TRIGGER conversations_trace_push_update AFTER UPDATE OF status ON conversations
  WHEN NEW.status IN ('done', 'failed') AND OLD.status NOT IN ('done', 'failed')
    AND EXISTS (SELECT 1 FROM trace_push_settings)
  BEGIN
    INSERT INTO trace_push_queue (conversation_id, version, attempts, next_attempt_at)
      VALUES (NEW.conversation_id, 1, 0, 0)
      ON CONFLICT (conversation_id) DO UPDATE SET version = version + 1, attempts = 0, next_attempt_at = 0;
  END;
  `;
