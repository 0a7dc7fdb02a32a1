/** The answer of `GET /v1/convai/analytics/overview` (an openconvai extension), as served. */

/** The figures of a day or of the whole period. */
export interface OverviewFigures {
  conversations: number;
  successful: number;
  failed: number;
  unknown: number;
  /** successful / (successful + failed); null when both are 0. */
  success_rate: number | null;
  average_duration_secs: number | null;
  p90_duration_secs: number | null;
}

export interface OverviewDay extends OverviewFigures {
  /** A UTC day, `YYYY-MM-DD`. */
  date: string;
}

export interface OverviewCriterion {
  criteria_id: string;
  success: number;
  failure: number;
  unknown: number;
}

export interface OverviewTool {
  tool_name: string;
  conversations: number;
}

export interface Overview {
  agent_id: string | null;
  date_from: string;
  date_to: string;
  totals: OverviewFigures;
  /** Every day of the period, in order. */
  days: OverviewDay[];
  evaluation_criteria: OverviewCriterion[];
  /** The most used tools, most first. */
  tools: OverviewTool[];
}
