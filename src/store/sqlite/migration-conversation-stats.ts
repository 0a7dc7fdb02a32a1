/**
 * Schema version 11: the overview statistics' daily rollups (src/store/conversation-stats-store.ts).
 * Days are UTC day numbers (start_time / 86400, floored). `stats_dirty_days` lists the days whose
 * rollups are out of date; the triggers bump a day's `generation` whenever a finished conversation
 * of that day is written or deleted, so a recompute that raced a write leaves its day dirty. The
 * WHEN clauses keep a live session's in-progress writes away from these tables, and the UPDATE
 * trigger fires only for statements that assign a column the statistics read (`doc` stands for the
 * facets, which are rewritten only with it), not for an audio switch. Every day with finished
 * conversations starts dirty: the rollups are filled on the first read.
 */
export const sqliteConversationStatsMigration = `
  CREATE TABLE stats_dirty_days (
    day INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL
  );

  CREATE TABLE stats_daily (
    day INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    conversations INTEGER NOT NULL,
    successful INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    unknown INTEGER NOT NULL,
    duration_sum REAL NOT NULL,
    p90_duration_secs INTEGER NOT NULL,
    PRIMARY KEY (day, agent_id)
  ) WITHOUT ROWID;

  -- A day's p90 over every agent (a day's per agent is in stats_daily).
  CREATE TABLE stats_daily_p90 (
    day INTEGER PRIMARY KEY,
    p90_duration_secs INTEGER NOT NULL
  );

  CREATE TABLE stats_daily_durations (
    day INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    duration_secs INTEGER NOT NULL,
    n INTEGER NOT NULL,
    -- n summed over this duration and the shorter ones of the day and agent.
    below INTEGER NOT NULL,
    PRIMARY KEY (day, agent_id, duration_secs)
  ) WITHOUT ROWID;

  CREATE TABLE stats_daily_evaluations (
    day INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    criteria_id TEXT NOT NULL,
    result TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, agent_id, criteria_id, result)
  ) WITHOUT ROWID;

  CREATE TABLE stats_daily_tools (
    day INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, agent_id, tool_name)
  ) WITHOUT ROWID;

  CREATE TRIGGER conversations_stats_insert AFTER INSERT ON conversations
  WHEN NEW.status IN ('done', 'failed')
  BEGIN
    INSERT INTO stats_dirty_days (day, generation) VALUES (CAST(floor(NEW.start_time / 86400) AS INTEGER), 1)
      ON CONFLICT (day) DO UPDATE SET generation = generation + 1;
  END;

  CREATE TRIGGER conversations_stats_update
  AFTER UPDATE OF status, agent_id, start_time, duration, call_successful, doc ON conversations
  WHEN OLD.status IN ('done', 'failed') OR NEW.status IN ('done', 'failed')
  BEGIN
    INSERT INTO stats_dirty_days (day, generation)
      SELECT d, 1 FROM (
        SELECT CAST(floor(OLD.start_time / 86400) AS INTEGER) AS d WHERE OLD.status IN ('done', 'failed')
        UNION
        SELECT CAST(floor(NEW.start_time / 86400) AS INTEGER) WHERE NEW.status IN ('done', 'failed')
      ) WHERE true
      ON CONFLICT (day) DO UPDATE SET generation = generation + 1;
  END;

  CREATE TRIGGER conversations_stats_delete AFTER DELETE ON conversations
  WHEN OLD.status IN ('done', 'failed')
  BEGIN
    INSERT INTO stats_dirty_days (day, generation) VALUES (CAST(floor(OLD.start_time / 86400) AS INTEGER), 1)
      ON CONFLICT (day) DO UPDATE SET generation = generation + 1;
  END;

  INSERT INTO stats_dirty_days (day, generation)
    SELECT DISTINCT CAST(floor(start_time / 86400) AS INTEGER), 1 FROM conversations
    WHERE status IN ('done', 'failed');
  `;
