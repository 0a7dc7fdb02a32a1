/**
 * The daily rollups behind the console's overview statistics: per UTC day and agent, the counts
 * of finished conversations, a histogram of their durations, evaluation results and tools used.
 * Triggers on `conversations` mark a day dirty when a finished conversation of that day is
 * written or deleted; a read recomputes the dirty days of its range first (see docs/analytics.md).
 */

/** A range of UTC days (days since 1970-01-01, both ends inclusive), for one agent or all. */
export interface StatsDayRange {
  fromDay: number;
  toDay: number;
  /** null: every agent. */
  agentId: string | null;
}

/** One day's counts of finished conversations (summed over agents unless one was asked for). */
export interface StatsDayCounts {
  day: number;
  conversations: number;
  successful: number;
  failed: number;
  unknown: number;
  /** The sum of their `call_duration_secs`. */
  durationSum: number;
}

/** The nearest-rank 90th percentile of a day's durations, in whole seconds (from the histogram). */
export interface StatsDayPercentile {
  day: number;
  p90DurationSecs: number;
}

/** How many finished conversations in the range have a result (success, failure or unknown) for a criterion. */
export interface StatsEvaluationCount {
  criteriaId: string;
  result: "success" | "failure" | "unknown";
  n: number;
}

/** In how many finished conversations in the range a tool ran. */
export interface StatsToolCount {
  toolName: string;
  n: number;
}

/**
 * What the rollups hold for a range: days with conversations only, each list in order. The
 * percentiles are computed by the database from the duration histogram (rows per day, agent and
 * second: shipping them to be summed here would cost more than the rest of the read).
 */
export interface StatsRollups {
  /** By day. */
  days: StatsDayCounts[];
  /** By day. */
  dayPercentiles: StatsDayPercentile[];
  /** The nearest-rank 90th percentile of every duration in the range, whole seconds; null when none. */
  p90DurationSecs: number | null;
  /** By criterion id, then result. */
  evaluations: StatsEvaluationCount[];
  /** The most used first (ties by name), at most `toolLimit`. */
  tools: StatsToolCount[];
}

/** The overview statistics' rollups. */
export interface ConversationStatsStore {
  /**
   * Recomputes the range's dirty days (each in a transaction of its own, leaving a day dirty when
   * a write raced the recompute), then reads the range from the rollups only.
   */
  readRollups(range: StatsDayRange, toolLimit: number): Promise<StatsRollups>;
}

/** Seconds in a UTC day: a day number times this is its first second. */
export const SECONDS_PER_DAY = 86_400;

/** The statuses of finished conversations, the only ones the statistics count. */
export const FINISHED_STATUSES = ["done", "failed"] as const;

/**
 * The nearest-rank 90th percentile of the durations of a range, by bisection over the rollups:
 * the smallest whole second `s` with at least 90% of the `total` conversations at or below it,
 * `countAtOrBelow(s)` summing the cumulative histogram of every (day, agent) in the range (one
 * index seek each). It lies between the smallest and the largest per-(day, agent) p90 (`lo`,
 * `hi`): at `hi` every part has 90% of its values at or below, below `lo` none has. So a year
 * costs a dozen probes, however many histogram rows the range holds. Null when there are none.
 */
export function searchNearestRankP90(
  bounds: { lo: number | null; hi: number | null; total: number },
  countAtOrBelow: (secs: number) => number,
): number | null {
  if (bounds.total === 0 || bounds.lo === null || bounds.hi === null) return null;
  let lo = bounds.lo;
  let hi = bounds.hi;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (countAtOrBelow(mid) * 10 >= bounds.total * 9) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
