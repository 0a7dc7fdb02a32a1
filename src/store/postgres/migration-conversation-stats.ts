/**
 * The overview statistics' daily rollups, the same tables as SQLite's (days are UTC day numbers,
 * `floor(start_time / 86400)`). `stats_dirty_days` lists the days whose rollups are out of date.
 *
 * Differences on purpose: the triggers are per statement, reading the statement's transition
 * tables, so a batch of 1,000 conversations costs one upsert of its distinct days instead of 1,000,
 * and the days are upserted in day order, so concurrent batches lock dirty-day rows in the same
 * order. A live session's in-progress write finds no finished row there and upserts nothing.
 * PostgreSQL allows no column list on a trigger with transition tables: every UPDATE of a finished
 * conversation marks its day (an audio switch too; the recompute it causes is one day's).
 */
export const postgresConversationStatsMigration = `
  CREATE TABLE stats_dirty_days (
    day INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL
  );

  CREATE TABLE stats_daily (
    day INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    conversations BIGINT NOT NULL,
    successful BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    unknown BIGINT NOT NULL,
    duration_sum DOUBLE PRECISION NOT NULL,
    p90_duration_secs INTEGER NOT NULL,
    PRIMARY KEY (day, agent_id)
  );

  CREATE TABLE stats_daily_p90 (
    day INTEGER PRIMARY KEY,
    p90_duration_secs INTEGER NOT NULL
  );

  CREATE TABLE stats_daily_durations (
    day INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    duration_secs INTEGER NOT NULL,
    n BIGINT NOT NULL,
    below BIGINT NOT NULL,
    PRIMARY KEY (day, agent_id, duration_secs)
  );

  CREATE TABLE stats_daily_evaluations (
    day INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    criteria_id TEXT COLLATE "C" NOT NULL,
    result TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, agent_id, criteria_id, result)
  );

  CREATE TABLE stats_daily_tools (
    day INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    tool_name TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, agent_id, tool_name)
  );

  CREATE FUNCTION stats_mark_dirty_days() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO stats_dirty_days AS d (day, generation)
        SELECT DISTINCT floor(start_time / 86400)::integer, 1 FROM stats_new_rows
        WHERE status IN ('done', 'failed') ORDER BY 1
        ON CONFLICT (day) DO UPDATE SET generation = d.generation + 1;
    ELSIF TG_OP = 'UPDATE' THEN
      INSERT INTO stats_dirty_days AS d (day, generation)
        SELECT day, 1 FROM (
          SELECT floor(start_time / 86400)::integer AS day FROM stats_old_rows WHERE status IN ('done', 'failed')
          UNION
          SELECT floor(start_time / 86400)::integer FROM stats_new_rows WHERE status IN ('done', 'failed')
        ) days ORDER BY 1
        ON CONFLICT (day) DO UPDATE SET generation = d.generation + 1;
    ELSE
      INSERT INTO stats_dirty_days AS d (day, generation)
        SELECT DISTINCT floor(start_time / 86400)::integer, 1 FROM stats_old_rows
        WHERE status IN ('done', 'failed') ORDER BY 1
        ON CONFLICT (day) DO UPDATE SET generation = d.generation + 1;
    END IF;
    RETURN NULL;
  END
  $$;

  CREATE TRIGGER conversations_stats_insert AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS stats_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty_days();
  CREATE TRIGGER conversations_stats_update AFTER UPDATE ON conversations
    REFERENCING OLD TABLE AS stats_old_rows NEW TABLE AS stats_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty_days();
  CREATE TRIGGER conversations_stats_delete AFTER DELETE ON conversations
    REFERENCING OLD TABLE AS stats_old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty_days();

  INSERT INTO stats_dirty_days (day, generation)
    SELECT DISTINCT floor(start_time / 86400)::integer, 1 FROM conversations
    WHERE status IN ('done', 'failed');
  `;
