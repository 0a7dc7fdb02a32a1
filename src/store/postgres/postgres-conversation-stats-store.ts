import type pg from "pg";
import {
  type ConversationStatsStore,
  SECONDS_PER_DAY,
  type StatsDayCounts,
  type StatsDayPercentile,
  type StatsDayRange,
  type StatsEvaluationCount,
  type StatsRollups,
  type StatsToolCount,
} from "../conversation-stats-store.js";
import { toPgText } from "./pg-text.js";
import { inTransaction, withoutStatementTimeout } from "./pg-transaction.js";

/** The finished conversations of one day ($2 ≤ start_time < $3), walked through the start_time index. */
const DAY_ROWS = "c.start_time >= $2 AND c.start_time < $3 AND c.status IN ('done', 'failed')";

/**
 * A conversation's facets of a kind, looked up by its seq. `OFFSET 0` keeps the planner from
 * flattening this into a join it may run as a hash join over every facet of that kind (which it
 * prefers once the table is analysed and the kind is common): a day's recompute must cost that
 * day's conversations, not the whole table.
 */
function facetsOf(kind: string): string {
  return `(SELECT f.key, f.value FROM facets f WHERE f.seq = c.seq AND f.kind = ${kind} OFFSET 0) f`;
}

/**
 * The rollup tables, each with the one aggregate query that fills a day ($1) of it, in order: the
 * histogram first, since the day's percentiles are read from it. `dayOnly`: takes $1 alone.
 */
const RECOMPUTE: readonly { table: string; fill: string; dayOnly?: boolean }[] = [
  {
    table: "stats_daily_durations",
    // floor(x + 0.5), not round(): round() of a double ties to even, SQLite's and JavaScript's do not.
    fill: `INSERT INTO stats_daily_durations (day, agent_id, duration_secs, n, below)
      SELECT $1, agent_id, secs, n, sum(n) OVER (PARTITION BY agent_id ORDER BY secs ROWS UNBOUNDED PRECEDING)
      FROM (SELECT c.agent_id, floor(c.duration + 0.5)::integer AS secs, count(*) AS n
        FROM conversations c WHERE ${DAY_ROWS} GROUP BY c.agent_id, secs) buckets`,
  },
  {
    table: "stats_daily",
    // The agent's p90: the shortest duration with 90% of the day's conversations at or below it.
    fill: `INSERT INTO stats_daily (day, agent_id, conversations, successful, failed, unknown, duration_sum,
        p90_duration_secs)
      SELECT $1, c.agent_id, count(*), count(*) FILTER (WHERE c.call_successful = 'success'),
        count(*) FILTER (WHERE c.call_successful = 'failure'),
        count(*) FILTER (WHERE c.call_successful NOT IN ('success', 'failure')), sum(c.duration),
        (SELECT min(h.duration_secs) FROM stats_daily_durations h WHERE h.day = $1 AND h.agent_id = c.agent_id
          AND h.below * 10 >= (SELECT max(t.below) FROM stats_daily_durations t
            WHERE t.day = $1 AND t.agent_id = c.agent_id) * 9)
      FROM conversations c WHERE ${DAY_ROWS} GROUP BY c.agent_id`,
  },
  {
    table: "stats_daily_p90",
    dayOnly: true,
    fill: `INSERT INTO stats_daily_p90 (day, p90_duration_secs)
      SELECT $1, p90 FROM (SELECT min(secs) AS p90 FROM (
        SELECT duration_secs AS secs, sum(sum(n)) OVER (ORDER BY duration_secs ROWS UNBOUNDED PRECEDING) AS below,
          sum(sum(n)) OVER () AS total
        FROM stats_daily_durations WHERE day = $1 GROUP BY duration_secs
      ) ranked WHERE below * 10 >= total * 9) p WHERE p90 IS NOT NULL`,
  },
  {
    table: "stats_daily_evaluations",
    fill: `INSERT INTO stats_daily_evaluations (day, agent_id, criteria_id, result, n)
      SELECT $1, c.agent_id, f.key,
        CASE WHEN f.value IN ('success', 'failure') THEN f.value ELSE 'unknown' END AS result, count(*)
      FROM conversations c CROSS JOIN LATERAL ${facetsOf("'eval'")}
      WHERE ${DAY_ROWS} GROUP BY c.agent_id, f.key, result`,
  },
  {
    table: "stats_daily_tools",
    // A conversation has one tool facet per name (the store writes each facet once).
    fill: `INSERT INTO stats_daily_tools (day, agent_id, tool_name, n)
      SELECT $1, c.agent_id, f.value, count(*)
      FROM conversations c CROSS JOIN LATERAL ${facetsOf("'tool' AND f.key = ''")}
      WHERE ${DAY_ROWS} GROUP BY c.agent_id, f.value`,
  },
];

/** The overview statistics' rollups in PostgreSQL, kept by the statement triggers of its migration. */
export class PostgresConversationStatsStore implements ConversationStatsStore {
  constructor(private readonly pool: pg.Pool) {}

  async readRollups(range: StatsDayRange, toolLimit: number): Promise<StatsRollups> {
    const dirty = await this.pool.query<{ day: number }>(
      "SELECT day FROM stats_dirty_days WHERE day BETWEEN $1 AND $2 ORDER BY day",
      [range.fromDay, range.toDay],
    );
    for (const { day } of dirty.rows) await this.recomputeDay(day);
    return this.readRange(range, toolLimit);
  }

  /**
   * Recomputes one dirty day in a transaction of its own. The row lock on its dirty-day row makes
   * nodes recomputing the same day take turns (the second finds the row gone, or a newer
   * generation to recompute) and makes writers of that day wait until the rollups are replaced;
   * a writer that committed first is seen by the recompute (READ COMMITTED: each statement reads
   * what is committed when it starts). One day at a time, so no reader holds two days' locks.
   * Without the statement timeout: the backfill of a busy day must finish once, or the day would
   * stay dirty and every overview would start it again. The reads of the rollups keep it.
   */
  private async recomputeDay(day: number): Promise<void> {
    await withoutStatementTimeout(this.pool, async (client) => {
      const locked = await client.query<{ generation: number }>(
        "SELECT generation FROM stats_dirty_days WHERE day = $1 FOR UPDATE",
        [day],
      );
      const row = locked.rows[0];
      if (!row) return;
      const lo = day * SECONDS_PER_DAY;
      for (const r of RECOMPUTE) await client.query(`DELETE FROM ${r.table} WHERE day = $1`, [day]);
      for (const r of RECOMPUTE)
        await client.query(r.fill, r.dayOnly ? [day] : [day, lo, lo + SECONDS_PER_DAY]);
      await client.query("DELETE FROM stats_dirty_days WHERE day = $1 AND generation = $2", [
        day,
        row.generation,
      ]);
    });
  }

  private async readRange(range: StatsDayRange, toolLimit: number): Promise<StatsRollups> {
    const params: unknown[] = [range.fromDay, range.toDay];
    if (range.agentId !== null) params.push(toPgText(range.agentId));
    const where = `day BETWEEN $1 AND $2${range.agentId === null ? "" : " AND agent_id = $3"}`;
    // One snapshot for the four reads, so they agree with each other while recomputes commit.
    return inTransaction(this.pool, async (client) => {
      await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const days = await client.query<StatsDayCounts>(
        `SELECT day, sum(conversations)::float8 AS conversations, sum(successful)::float8 AS successful,
          sum(failed)::float8 AS failed, sum(unknown)::float8 AS unknown, sum(duration_sum) AS "durationSum"
         FROM stats_daily WHERE ${where} GROUP BY day ORDER BY day`,
        params,
      );
      const dayPercentiles = await client.query<StatsDayPercentile>(
        range.agentId === null
          ? 'SELECT day, p90_duration_secs AS "p90DurationSecs" FROM stats_daily_p90 WHERE day BETWEEN $1 AND $2 ORDER BY day'
          : `SELECT day, p90_duration_secs AS "p90DurationSecs" FROM stats_daily WHERE ${where} ORDER BY day`,
        params,
      );
      const bounds = await client.query<{ lo: number | null; hi: number | null; total: number }>(
        `SELECT min(p90_duration_secs) AS lo, max(p90_duration_secs) AS hi,
           coalesce(sum(conversations), 0)::float8 AS total FROM stats_daily WHERE ${where}`,
        params,
      );
      // searchNearestRankP90's bisection, with a query per probe.
      const probe = `SELECT coalesce(sum((SELECT h.below FROM stats_daily_durations h
          WHERE h.day = d.day AND h.agent_id = d.agent_id AND h.duration_secs <= $${params.length + 1}
          ORDER BY h.duration_secs DESC LIMIT 1)), 0)::float8 AS below
        FROM stats_daily d WHERE d.day BETWEEN $1 AND $2${range.agentId === null ? "" : " AND d.agent_id = $3"}`;
      const b = bounds.rows[0] ?? { lo: null, hi: null, total: 0 };
      let p90: number | null = null;
      if (b.total > 0 && b.lo !== null && b.hi !== null) {
        let [lo, hi] = [b.lo, b.hi];
        while (lo < hi) {
          const mid = Math.floor((lo + hi) / 2);
          const below = (await client.query<{ below: number }>(probe, [...params, mid])).rows[0]?.below ?? 0;
          if (below * 10 >= b.total * 9) hi = mid;
          else lo = mid + 1;
        }
        p90 = lo;
      }
      const evaluations = await client.query<StatsEvaluationCount>(
        `SELECT criteria_id AS "criteriaId", result, sum(n)::float8 AS n FROM stats_daily_evaluations
         WHERE ${where} GROUP BY criteria_id, result ORDER BY criteria_id, result`,
        params,
      );
      const tools = await client.query<StatsToolCount>(
        `SELECT tool_name AS "toolName", sum(n)::float8 AS n FROM stats_daily_tools WHERE ${where}
         GROUP BY tool_name ORDER BY n DESC, tool_name LIMIT ${Math.max(0, Math.floor(toolLimit))}`,
        params,
      );
      return {
        days: days.rows,
        dayPercentiles: dayPercentiles.rows,
        p90DurationSecs: p90,
        evaluations: evaluations.rows,
        tools: tools.rows,
      };
    });
  }
}
