import type { FastifyInstance } from "fastify";
import { NotFoundError } from "../../domain/errors.js";
import type { TopicStore, TopicWindow } from "../../store/topic-store.js";
import { invalidCursor, ValidationFailed } from "../api-error.js";
import { type AgentIdParam, agentIdParams, integerParam } from "../path-params.js";

type SortBy = "conversations" | "sentiment" | "success_rate" | "frustration";

interface TopicsQuery {
  page_size: number;
  sort_by?: SortBy;
  sort_direction?: "asc" | "desc";
  from_unix_secs?: number;
  to_unix_secs?: number;
  include_evaluation_criteria: boolean;
  cursor?: string;
}

const DAY = 86_400;

/** One topic as the report builds it, before paging. */
interface TopicReportItem {
  topicId: string;
  parentTopicId: string | null;
  body: Record<string, unknown>;
  conversationCount: number;
  successRate: number | null;
}

function encodeTopicCursor(offset: number): string {
  return Buffer.from(JSON.stringify(["topics", offset])).toString("base64url");
}

function decodeTopicCursor(cursor: string): number {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value[0] === "topics" && Number.isSafeInteger(value[1]) && value[1] >= 0) {
      return value[1] as number;
    }
  } catch {
    // reported below
  }
  throw invalidCursor();
}

/** The sort value of a topic; undefined when it has no score (ranked last either way). */
function sortValue(item: TopicReportItem, sortBy: SortBy): number | undefined {
  switch (sortBy) {
    case "conversations":
      return item.conversationCount;
    case "success_rate":
      return item.successRate ?? undefined;
    default:
      // Sentiment and frustration scores are not derived from stored conversations yet.
      return undefined;
  }
}

/** Sorts topics by a column; topics without a score go last, ties keep definition order. */
function sortTopics(items: TopicReportItem[], sortBy: SortBy, direction: "asc" | "desc"): TopicReportItem[] {
  const sign = direction === "asc" ? 1 : -1;
  return items
    .map((item, i) => ({ item, i, value: sortValue(item, sortBy) }))
    .sort((a, b) => {
      if (a.value === undefined || b.value === undefined) {
        return a.value === b.value ? a.i - b.i : a.value === undefined ? 1 : -1;
      }
      return sign * (a.value - b.value) || a.i - b.i;
    })
    .map(({ item }) => item);
}

/** `GET /v1/convai/agents/{agent_id}/topics`: the agent's topics with metrics from its stored conversations. */
export async function topicRoutes(app: FastifyInstance, deps: { topics: TopicStore }): Promise<void> {
  const { topics: store } = deps;

  app.get<{ Params: AgentIdParam; Querystring: TopicsQuery }>(
    "/v1/convai/agents/:agent_id/topics",
    {
      schema: {
        params: agentIdParams,
        querystring: {
          type: "object",
          properties: {
            page_size: integerParam({ minimum: 1, maximum: 100, default: 30 }),
            sort_by: { type: "string", enum: ["conversations", "sentiment", "success_rate", "frustration"] },
            sort_direction: { type: "string", enum: ["asc", "desc"] },
            from_unix_secs: integerParam({ minimum: 0 }),
            to_unix_secs: integerParam({ minimum: 0 }),
            include_evaluation_criteria: { type: "boolean", default: true },
            cursor: { type: "string", maxLength: 256 },
          },
        },
      },
    },
    async (request) => {
      const { agent_id: agentId } = request.params;
      const q = request.query;
      const offset = q.cursor ? decodeTopicCursor(q.cursor) : 0;
      const definitions = await store.getTopics(agentId);
      if (definitions.length === 0) {
        throw new NotFoundError("topics", agentId, `No topics are defined for agent ${agentId}.`);
      }
      // compat: upstream's topic runs cover whole UTC days, so it floors the start of a window to its day.
      const window: TopicWindow = {};
      if (q.from_unix_secs !== undefined) window.fromUnixSecs = Math.floor(q.from_unix_secs / DAY) * DAY;
      if (q.to_unix_secs !== undefined) window.toUnixSecs = q.to_unix_secs;
      if (
        window.fromUnixSecs !== undefined &&
        window.toUnixSecs !== undefined &&
        window.toUnixSecs < window.fromUnixSecs
      ) {
        throw new ValidationFailed([
          {
            loc: ["query", "to_unix_secs"],
            msg: "to_unix_secs is before from_unix_secs",
            type: "value_error",
          },
        ]);
      }
      const [counts, evaluations, span] = await Promise.all([
        store.countTopicConversations(agentId, window),
        store.countTopicEvaluations(agentId, window),
        store.topicTimeSpan(agentId, window),
      ]);
      const countById = new Map(counts.map((c) => [c.topicId, c.conversationCount]));
      const criteriaById = new Map<string, Map<string, Record<string, number>>>();
      for (const e of evaluations) {
        let byCriteria = criteriaById.get(e.topicId);
        if (!byCriteria) {
          byCriteria = new Map();
          criteriaById.set(e.topicId, byCriteria);
        }
        const tally = byCriteria.get(e.criteriaId) ?? { success: 0, failure: 0, unknown: 0 };
        const result = e.result === "success" || e.result === "failure" ? e.result : "unknown";
        tally[result] = (tally[result] ?? 0) + e.count;
        byCriteria.set(e.criteriaId, tally);
      }

      const items: TopicReportItem[] = definitions.map((d) => {
        const fields = JSON.parse(d.json) as Record<string, unknown>;
        const conversationCount = countById.get(d.topicId) ?? 0;
        const criteria = [...(criteriaById.get(d.topicId) ?? new Map()).entries()].sort(([a], [b]) =>
          a < b ? -1 : a > b ? 1 : 0,
        );
        let success = 0;
        let scored = 0;
        for (const [, tally] of criteria) {
          success += tally.success ?? 0;
          scored += (tally.success ?? 0) + (tally.failure ?? 0);
        }
        const successRate = scored > 0 ? success / scored : null;
        const metrics: Record<string, unknown> = { conversation_count: conversationCount, sentiment: null };
        if (q.include_evaluation_criteria) {
          metrics.evaluation_criteria = criteria.map(([criteriaId, tally]) => ({
            criteria_id: criteriaId,
            success_count: tally.success ?? 0,
            failure_count: tally.failure ?? 0,
            unknown_count: tally.unknown ?? 0,
          }));
        }
        const parentTopicId = typeof fields.parent_topic_id === "string" ? fields.parent_topic_id : null;
        return {
          topicId: d.topicId,
          parentTopicId,
          conversationCount,
          successRate,
          body: {
            topic_id: d.topicId,
            label: fields.label,
            description: fields.description,
            conversation_count: conversationCount,
            parent_topic_id: parentTopicId,
            x_2d: fields.x_2d ?? null,
            y_2d: fields.y_2d ?? null,
            metrics,
            success_rate: successRate,
          },
        };
      });

      // Pages count top-level topics; each is followed by its subtopics, sorted the same way.
      const sortBy = q.sort_by ?? "conversations";
      const direction = q.sort_direction ?? "desc";
      const groups = sortTopics(
        items.filter((i) => i.parentTopicId === null),
        sortBy,
        direction,
      );
      const page = groups.slice(offset, offset + q.page_size);
      const topics: Record<string, unknown>[] = [];
      for (const group of page) {
        topics.push(group.body);
        const children = items.filter((i) => i.parentTopicId === group.topicId);
        for (const child of sortTopics(children, sortBy, direction)) topics.push(child.body);
      }
      const hasMore = offset + q.page_size < groups.length;
      const now = Math.floor(Date.now() / 1000);
      const windowStart =
        window.fromUnixSecs ??
        (span.firstStartUnixSecs !== null ? Math.floor(span.firstStartUnixSecs / DAY) * DAY : now);
      const windowEnd = window.toUnixSecs ?? (span.lastStartUnixSecs !== null ? span.lastStartUnixSecs : now);
      return {
        topics,
        window_start_unix_secs: windowStart,
        window_end_unix_secs: Math.max(windowStart, Math.floor(windowEnd)),
        has_more: hasMore,
        next_cursor: hasMore ? encodeTopicCursor(offset + q.page_size) : null,
      };
    },
  );
}
