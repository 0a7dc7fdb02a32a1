import type { ConversationStatsStore, StatsRollups } from "../store/conversation-stats-store.js";
import { formatDay, resolveOverviewPeriod } from "./overview-period.js";

/** How many tools the overview lists. */
export const OVERVIEW_TOOL_LIMIT = 10;

/** The figures of a set of finished conversations (a day, or the whole period). */
export interface OverviewFigures {
  conversations: number;
  successful: number;
  failed: number;
  unknown: number;
  /** successful / (successful + failed); null when both are 0. */
  success_rate: number | null;
  /** The mean `call_duration_secs`, to 0.1 s; null when there are no conversations. */
  average_duration_secs: number | null;
  /** The nearest-rank 90th percentile of the durations, to the second; null when there are none. */
  p90_duration_secs: number | null;
}

/** The overview answer, snake_case as served (`GET /v1/convai/analytics/overview`). */
export interface Overview {
  agent_id: string | null;
  date_from: string;
  date_to: string;
  totals: OverviewFigures;
  days: (OverviewFigures & { date: string })[];
  evaluation_criteria: { criteria_id: string; success: number; failure: number; unknown: number }[];
  tools: { tool_name: string; conversations: number }[];
}

/** What an overview request asks: the period's ends as given (`YYYY-MM-DD`, unchecked) and the agent. */
export interface OverviewRequest {
  agentId?: string | undefined;
  dateFrom?: string | undefined;
  dateTo?: string | undefined;
}

/** Counts being summed up (a day's, or the period's), with the p90 the rollups computed. */
interface Tally {
  conversations: number;
  successful: number;
  failed: number;
  unknown: number;
  durationSum: number;
  p90DurationSecs: number | null;
}

function emptyTally(): Tally {
  return { conversations: 0, successful: 0, failed: 0, unknown: 0, durationSum: 0, p90DurationSecs: null };
}

function toFigures(t: Tally): OverviewFigures {
  const decided = t.successful + t.failed;
  return {
    conversations: t.conversations,
    successful: t.successful,
    failed: t.failed,
    unknown: t.unknown,
    success_rate: decided === 0 ? null : t.successful / decided,
    average_duration_secs:
      t.conversations === 0 ? null : Math.round((t.durationSum / t.conversations) * 10) / 10,
    p90_duration_secs: t.conversations === 0 ? null : t.p90DurationSecs,
  };
}

/** Shapes a period's rollups into the overview answer: every day of the period, in order. */
export function shapeOverview(
  rollups: StatsRollups,
  period: { fromDay: number; toDay: number },
  agentId: string | null,
): Overview {
  const total: Tally = { ...emptyTally(), p90DurationSecs: rollups.p90DurationSecs };
  const byDay = new Map<number, Tally>();
  for (const d of rollups.days) {
    byDay.set(d.day, { ...d, p90DurationSecs: null });
    total.conversations += d.conversations;
    total.successful += d.successful;
    total.failed += d.failed;
    total.unknown += d.unknown;
    total.durationSum += d.durationSum;
  }
  for (const p of rollups.dayPercentiles) {
    const tally = byDay.get(p.day);
    if (tally) tally.p90DurationSecs = p.p90DurationSecs;
  }
  const days: Overview["days"] = [];
  for (let day = period.fromDay; day <= period.toDay; day++) {
    days.push({ date: formatDay(day), ...toFigures(byDay.get(day) ?? emptyTally()) });
  }
  const criteria = new Map<
    string,
    { criteria_id: string; success: number; failure: number; unknown: number }
  >();
  for (const e of rollups.evaluations) {
    let entry = criteria.get(e.criteriaId);
    if (!entry) {
      entry = { criteria_id: e.criteriaId, success: 0, failure: 0, unknown: 0 };
      criteria.set(e.criteriaId, entry);
    }
    entry[e.result] += e.n;
  }
  return {
    agent_id: agentId,
    date_from: formatDay(period.fromDay),
    date_to: formatDay(period.toDay),
    totals: toFigures(total),
    days,
    // The store reads them by criterion id already; sorted again by code unit, whatever its collation.
    evaluation_criteria: [...criteria.values()].sort((a, b) =>
      a.criteria_id < b.criteria_id ? -1 : a.criteria_id > b.criteria_id ? 1 : 0,
    ),
    tools: rollups.tools.map((t) => ({ tool_name: t.toolName, conversations: t.n })),
  };
}

/** The console overview: statistics of finished conversations per UTC day, from the daily rollups. */
export class OverviewService {
  constructor(
    private readonly stats: ConversationStatsStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** The overview of a period (validated here; see resolveOverviewPeriod) for one agent or all. */
  async getOverview(request: OverviewRequest): Promise<Overview> {
    const period = resolveOverviewPeriod(request.dateFrom, request.dateTo, this.now());
    const agentId = request.agentId === undefined || request.agentId === "" ? null : request.agentId;
    const rollups = await this.stats.readRollups({ ...period, agentId }, OVERVIEW_TOOL_LIMIT);
    return shapeOverview(rollups, period, agentId);
  }
}
