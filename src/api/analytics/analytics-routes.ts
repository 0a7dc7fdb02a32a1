import type { FastifyInstance } from "fastify";
import { OverviewService } from "../../analytics/overview-service.js";
import type { ConversationStatsStore } from "../../store/conversation-stats-store.js";
import { ID_SCHEMA } from "../path-params.js";

/** What the analytics routes use. */
export interface AnalyticsRoutesDeps {
  /** The daily rollups the overview is read from. */
  stats: ConversationStatsStore;
}

interface OverviewQuery {
  agent_id?: string;
  date_from?: string;
  date_to?: string;
}

const COUNT = { type: "integer", minimum: 0 } as const;
const NULLABLE_NUMBER = { type: ["number", "null"] } as const;

/** The figures of a day or of the whole period. */
const FIGURES = {
  conversations: COUNT,
  successful: { ...COUNT, description: "`analysis.call_successful` is `success`." },
  failed: { ...COUNT, description: "`analysis.call_successful` is `failure`." },
  unknown: { ...COUNT, description: "Any other `call_successful`." },
  success_rate: {
    ...NULLABLE_NUMBER,
    description: "successful / (successful + failed); null when both are 0.",
  },
  average_duration_secs: { ...NULLABLE_NUMBER, description: "Mean `call_duration_secs`, to 0.1 s." },
  p90_duration_secs: {
    type: ["integer", "null"],
    description: "Nearest-rank 90th percentile of `call_duration_secs`, to the second.",
  },
} as const;
const FIGURE_NAMES = Object.keys(FIGURES);

/** The 200 answer (also the serializer's schema). */
export const OVERVIEW_RESPONSE_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["agent_id", "date_from", "date_to", "totals", "days", "evaluation_criteria", "tools"],
  properties: {
    agent_id: { type: ["string", "null"] },
    date_from: { type: "string", format: "date" },
    date_to: { type: "string", format: "date" },
    totals: { type: "object", additionalProperties: false, required: FIGURE_NAMES, properties: FIGURES },
    days: {
      type: "array",
      description: "Every day of the period, in order.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["date", ...FIGURE_NAMES],
        properties: { date: { type: "string", format: "date" }, ...FIGURES },
      },
    },
    evaluation_criteria: {
      type: "array",
      description: "Per evaluation criterion id (sorted), how many conversations had each result.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["criteria_id", "success", "failure", "unknown"],
        properties: { criteria_id: { type: "string" }, success: COUNT, failure: COUNT, unknown: COUNT },
      },
    },
    tools: {
      type: "array",
      description: "The 10 tools run in the most conversations (most first, ties by name).",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["tool_name", "conversations"],
        properties: { tool_name: { type: "string" }, conversations: COUNT },
      },
    },
  },
} as const;

const DATE_PARAM = {
  type: "string",
  maxLength: 32,
  description: "A UTC calendar day, `YYYY-MM-DD`.",
} as const;

/**
 * `GET /v1/convai/analytics/overview`, an extension of ours (upstream has no such route): the
 * console Overview's statistics of finished conversations per UTC day, from the daily rollups
 * (docs/analytics.md).
 */
export async function analyticsRoutes(app: FastifyInstance, deps: AnalyticsRoutesDeps): Promise<void> {
  const overview = new OverviewService(deps.stats);
  app.get<{ Querystring: OverviewQuery }>(
    "/v1/convai/analytics/overview",
    {
      schema: {
        summary: "Overview statistics of finished conversations (openconvai extension)",
        description:
          "Conversations with status `done` or `failed`, by the UTC day they started, both ends of the " +
          "period inclusive: counts, success rate, average and p90 duration per day and in total, " +
          "evaluation results per criterion and the most used tools. `date_to` defaults to today (UTC), " +
          "`date_from` to 29 days before `date_to`; at most 366 days. See docs/analytics.md.",
        tags: ["Analytics"],
        querystring: {
          type: "object",
          properties: {
            agent_id: { ...ID_SCHEMA, description: "Only this agent's conversations." },
            date_from: DATE_PARAM,
            date_to: DATE_PARAM,
          },
        },
        response: {
          200: { description: "The period's statistics.", ...OVERVIEW_RESPONSE_SCHEMA },
        },
      },
    },
    async (request) => {
      const q = request.query;
      return overview.getOverview({ agentId: q.agent_id, dateFrom: q.date_from, dateTo: q.date_to });
    },
  );
}
