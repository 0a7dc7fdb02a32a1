/**
 * Schema version 13: the trace push queue, the same tables as SQLite's (see
 * src/store/trace-push-store.ts). The trigger queues only while `trace_push_settings` has its row.
 *
 * Differences on purpose: an INSERT is handled per statement from its transition table, so a batch
 * of 1,000 finished conversations costs one queue insert (in id order, so concurrent batches lock
 * queue rows in the same order); an UPDATE (the DO UPDATE of an upsert included) is handled per row
 * behind a WHEN clause on the statuses, evaluated without calling the function. A live session's
 * per-turn upsert therefore costs that test and, for its statement, one look at the settings table
 * (its insert transition table is empty: the row existed). A WHEN clause cannot read a table: the
 * settings check is in the functions.
 */
export const postgresTracePushMigration = `
  CREATE TABLE trace_push_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1)
  );

  CREATE TABLE trace_push_queue (
    conversation_id TEXT COLLATE "C" PRIMARY KEY,
    version BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    -- Unix milliseconds; 0 is due at once.
    next_attempt_at BIGINT NOT NULL
  );
  CREATE INDEX trace_push_queue_due ON trace_push_queue (next_attempt_at, conversation_id);

  CREATE FUNCTION trace_push_queue_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM trace_push_settings) THEN
      INSERT INTO trace_push_queue AS q (conversation_id, version, attempts, next_attempt_at)
        SELECT conversation_id, 1, 0, 0 FROM trace_push_new_rows
        WHERE status IN ('done', 'failed') ORDER BY 1
        ON CONFLICT (conversation_id) DO UPDATE SET version = q.version + 1, attempts = 0, next_attempt_at = 0;
    END IF;
    RETURN NULL;
  END
  $$;

  CREATE FUNCTION trace_push_queue_finished() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM trace_push_settings) THEN
      INSERT INTO trace_push_queue AS q (conversation_id, version, attempts, next_attempt_at)
        VALUES (NEW.conversation_id, 1, 0, 0)
        ON CONFLICT (conversation_id) DO UPDATE SET version = q.version + 1, attempts = 0, next_attempt_at = 0;
    END IF;
    RETURN NULL;
  END
  $$;

  CREATE TRIGGER conversations_trace_push_insert AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS trace_push_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION trace_push_queue_inserted();
  CREATE TRIGGER conversations_trace_push_update AFTER UPDATE OF status ON conversations
    FOR EACH ROW
    WHEN (NEW.status IN ('done', 'failed') AND OLD.status NOT IN ('done', 'failed'))
    EXECUTE FUNCTION trace_push_queue_finished();
  `;
