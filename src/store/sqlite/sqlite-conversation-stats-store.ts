import type BetterSqlite3 from "better-sqlite3";
import {
  type ConversationStatsStore,
  SECONDS_PER_DAY,
  type StatsDayCounts,
  type StatsDayPercentile,
  type StatsDayRange,
  type StatsEvaluationCount,
  type StatsRollups,
  type StatsToolCount,
  searchNearestRankP90,
} from "../conversation-stats-store.js";

/** The finished conversations of one day ($lo ≤ start_time < $hi). */
const DAY_ROWS = "c.start_time >= @lo AND c.start_time < @hi AND c.status IN ('done', 'failed')";

/**
 * The day's conversations walked through the start_time index, then their facets by seq. Spelled
 * out (INDEXED BY, CROSS JOIN fixes the join order): left to itself the planner may group through
 * the agent index, or walk every `eval` facet of the database and look each conversation up.
 */
const DAY_SOURCE = "conversations c INDEXED BY conversations_start";

/** The nearest-rank p90 of a day's histogram rows (whole seconds with their `n`), over every agent. */
const DAY_P90 = `SELECT min(secs) AS p90 FROM (
    SELECT duration_secs AS secs, sum(sum(n)) OVER (ORDER BY duration_secs ROWS UNBOUNDED PRECEDING) AS below,
      sum(sum(n)) OVER () AS total
    FROM stats_daily_durations WHERE day = @day GROUP BY duration_secs
  ) WHERE below * 10 >= total * 9`;

/**
 * The rollup tables, each with the one aggregate query that fills a day of it, in order: the
 * histogram first, since the day's percentiles are read from it.
 */
const RECOMPUTE = [
  {
    table: "stats_daily_durations",
    // floor(x + 0.5), not round(): the same seconds on PostgreSQL, whose round() ties to even.
    fill: `INSERT INTO stats_daily_durations (day, agent_id, duration_secs, n, below)
      SELECT @day, agent_id, secs, n, sum(n) OVER (PARTITION BY agent_id ORDER BY secs ROWS UNBOUNDED PRECEDING)
      FROM (SELECT c.agent_id, CAST(floor(c.duration + 0.5) AS INTEGER) AS secs, count(*) AS n
        FROM ${DAY_SOURCE} WHERE ${DAY_ROWS} GROUP BY c.agent_id, secs)`,
  },
  {
    table: "stats_daily",
    // The agent's p90: the shortest duration with 90% of the day's conversations at or below it.
    fill: `INSERT INTO stats_daily (day, agent_id, conversations, successful, failed, unknown, duration_sum,
        p90_duration_secs)
      SELECT @day, c.agent_id, count(*), sum(c.call_successful = 'success'), sum(c.call_successful = 'failure'),
        sum(c.call_successful NOT IN ('success', 'failure')), sum(c.duration),
        (SELECT min(h.duration_secs) FROM stats_daily_durations h WHERE h.day = @day AND h.agent_id = c.agent_id
          AND h.below * 10 >= (SELECT max(t.below) FROM stats_daily_durations t
            WHERE t.day = @day AND t.agent_id = c.agent_id) * 9)
      FROM ${DAY_SOURCE} WHERE ${DAY_ROWS} GROUP BY c.agent_id`,
  },
  {
    table: "stats_daily_p90",
    fill: `INSERT INTO stats_daily_p90 (day, p90_duration_secs)
      SELECT @day, p90 FROM (${DAY_P90}) WHERE p90 IS NOT NULL`,
  },
  {
    table: "stats_daily_evaluations",
    fill: `INSERT INTO stats_daily_evaluations (day, agent_id, criteria_id, result, n)
      SELECT @day, c.agent_id, f.key,
        CASE WHEN f.value IN ('success', 'failure') THEN f.value ELSE 'unknown' END AS result, count(*)
      FROM ${DAY_SOURCE} CROSS JOIN facets f ON f.seq = c.seq AND f.kind = 'eval'
      WHERE ${DAY_ROWS} GROUP BY c.agent_id, f.key, result`,
  },
  {
    table: "stats_daily_tools",
    // A conversation has one tool facet per name (facets are unique by kind, key and value).
    fill: `INSERT INTO stats_daily_tools (day, agent_id, tool_name, n)
      SELECT @day, c.agent_id, f.value, count(*)
      FROM ${DAY_SOURCE} CROSS JOIN facets f ON f.seq = c.seq AND f.kind = 'tool' AND f.key = ''
      WHERE ${DAY_ROWS} GROUP BY c.agent_id, f.value`,
  },
] as const;

/** The agent condition of a rollup read: every agent, or `@agent`. */
function agentCondition(agentId: string | null): string {
  return agentId === null ? "" : " AND agent_id = @agent";
}

/** The overview statistics' rollups in SQLite, kept by the triggers of schema version 11. */
export class SqliteConversationStatsStore implements ConversationStatsStore {
  private readonly statements;
  private readonly reads = new Map<string, BetterSqlite3.Statement>();
  /** Recomputes one day whose generation is still `generation`; must run in a transaction. */
  private readonly recomputeDay: BetterSqlite3.Transaction<(day: number) => void>;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.statements = {
      dirtyDays: db.prepare("SELECT day FROM stats_dirty_days WHERE day BETWEEN ? AND ? ORDER BY day"),
      generation: db.prepare("SELECT generation FROM stats_dirty_days WHERE day = ?"),
      clean: db.prepare("DELETE FROM stats_dirty_days WHERE day = ? AND generation = ?"),
      clear: RECOMPUTE.map((r) => db.prepare(`DELETE FROM ${r.table} WHERE day = ?`)),
      fill: RECOMPUTE.map((r) => db.prepare(r.fill)),
    };
    const s = this.statements;
    this.recomputeDay = db.transaction((day: number) => {
      const row = s.generation.get(day) as { generation: number } | undefined;
      if (!row) return;
      const lo = day * SECONDS_PER_DAY;
      for (const clear of s.clear) clear.run(day);
      for (const fill of s.fill) fill.run({ day, lo, hi: lo + SECONDS_PER_DAY });
      // With the write lock held no write can race; the generation check is PostgreSQL's twin.
      s.clean.run(day, row.generation);
    });
  }

  private read(sql: string): BetterSqlite3.Statement {
    let statement = this.reads.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.reads.set(sql, statement);
    }
    return statement;
  }

  async readRollups(range: StatsDayRange, toolLimit: number): Promise<StatsRollups> {
    const dirty = this.statements.dirtyDays.all(range.fromDay, range.toDay) as { day: number }[];
    for (const { day } of dirty) {
      this.recomputeDay.immediate(day);
      // One day per transaction, and the event loop in between: a cold read of a year does not
      // hold the write lock, or this node, for the whole backfill.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return this.db.transaction(() => this.readRange(range, toolLimit)).deferred();
  }

  private readRange(range: StatsDayRange, toolLimit: number): StatsRollups {
    const where = `day BETWEEN @from AND @to${agentCondition(range.agentId)}`;
    const params: Record<string, unknown> = { from: range.fromDay, to: range.toDay };
    if (range.agentId !== null) params.agent = range.agentId;
    const days = this.read(
      `SELECT day, sum(conversations) AS conversations, sum(successful) AS successful, sum(failed) AS failed,
        sum(unknown) AS unknown, sum(duration_sum) AS durationSum
       FROM stats_daily WHERE ${where} GROUP BY day ORDER BY day`,
    ).all(params) as StatsDayCounts[];
    const dayPercentiles = this.read(
      range.agentId === null
        ? "SELECT day, p90_duration_secs AS p90DurationSecs FROM stats_daily_p90 WHERE day BETWEEN @from AND @to ORDER BY day"
        : `SELECT day, p90_duration_secs AS p90DurationSecs FROM stats_daily WHERE ${where} ORDER BY day`,
    ).all(params) as StatsDayPercentile[];
    const bounds = this.read(
      `SELECT min(p90_duration_secs) AS lo, max(p90_duration_secs) AS hi, coalesce(sum(conversations), 0) AS total
       FROM stats_daily WHERE ${where}`,
    ).get(params) as { lo: number | null; hi: number | null; total: number };
    const countAtOrBelow = this.read(
      `SELECT coalesce(sum((SELECT h.below FROM stats_daily_durations h
         WHERE h.day = d.day AND h.agent_id = d.agent_id AND h.duration_secs <= @secs
         ORDER BY h.duration_secs DESC LIMIT 1)), 0) AS below
       FROM stats_daily d WHERE d.day BETWEEN @from AND @to${range.agentId === null ? "" : " AND d.agent_id = @agent"}`,
    );
    const p90 = searchNearestRankP90(
      bounds,
      (secs) => (countAtOrBelow.get({ ...params, secs }) as { below: number }).below,
    );
    const evaluations = this.read(
      `SELECT criteria_id AS criteriaId, result, sum(n) AS n FROM stats_daily_evaluations WHERE ${where}
       GROUP BY criteria_id, result ORDER BY criteria_id, result`,
    ).all(params) as StatsEvaluationCount[];
    const tools = this.read(
      `SELECT tool_name AS toolName, sum(n) AS n FROM stats_daily_tools WHERE ${where}
       GROUP BY tool_name ORDER BY n DESC, tool_name LIMIT @limit`,
    ).all({ ...params, limit: toolLimit }) as StatsToolCount[];
    return { days, dayPercentiles, p90DurationSecs: p90, evaluations, tools };
  }
}
