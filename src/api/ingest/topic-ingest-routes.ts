import type { FastifyInstance } from "fastify";
import type { ValidationIssue } from "../../domain/errors.js";
import type { TopicStore } from "../../store/topic-store.js";
import { ValidationFailed } from "../api-error.js";
import { type AgentIdParam, agentIdParams, ID_SCHEMA } from "../path-params.js";

/** The most topics one agent may define. */
export const MAX_TOPICS_PER_AGENT = 1000;

/** One topic definition as ingest takes it: AgentTopicResponseModel's descriptive keys. */
interface TopicDefinitionBody {
  topic_id: string;
  label: string;
  description: string;
  parent_topic_id?: string | null;
  x_2d?: number | null;
  y_2d?: number | null;
}

const topicSchema = {
  type: "object",
  properties: {
    topic_id: ID_SCHEMA,
    label: { type: "string", maxLength: 512 },
    description: { type: "string", maxLength: 4096 },
    parent_topic_id: { ...ID_SCHEMA, type: ["string", "null"] },
    x_2d: { type: ["number", "null"] },
    y_2d: { type: ["number", "null"] },
  },
  required: ["topic_id", "label", "description"],
} as const;

/** Checks what the schema cannot: topic ids are unique, and parents are topics of the same set, one level deep. */
function checkTopicSet(topics: readonly TopicDefinitionBody[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const byId = new Map<string, TopicDefinitionBody>();
  topics.forEach((t, i) => {
    if (byId.has(t.topic_id)) {
      issues.push({
        loc: ["body", i, "topic_id"],
        msg: `Duplicate topic_id ${t.topic_id}`,
        type: "value_error",
      });
    }
    byId.set(t.topic_id, t);
  });
  topics.forEach((t, i) => {
    const parentId = t.parent_topic_id;
    if (parentId === undefined || parentId === null) return;
    const parent = byId.get(parentId);
    if (!parent || parentId === t.topic_id) {
      issues.push({
        loc: ["body", i, "parent_topic_id"],
        msg: `parent_topic_id ${parentId} is not another topic of this agent`,
        type: "value_error",
      });
    } else if (parent.parent_topic_id !== undefined && parent.parent_topic_id !== null) {
      issues.push({
        loc: ["body", i, "parent_topic_id"],
        msg: `Topic ${parentId} is itself a subtopic; topics nest one level deep`,
        type: "value_error",
      });
    }
  });
  return issues;
}

/** `PUT /ingest/v1/agents/{agent_id}/topics`: replaces an agent's topic definitions (docs/ingest.md). */
export async function topicIngestRoutes(app: FastifyInstance, deps: { topics: TopicStore }): Promise<void> {
  app.put<{ Params: AgentIdParam; Body: TopicDefinitionBody[] }>(
    "/ingest/v1/agents/:agent_id/topics",
    {
      schema: {
        params: agentIdParams,
        body: { type: "array", items: topicSchema, maxItems: MAX_TOPICS_PER_AGENT },
      },
    },
    async (request) => {
      const { agent_id: agentId } = request.params;
      const issues = checkTopicSet(request.body);
      if (issues.length > 0) throw new ValidationFailed(issues);
      await deps.topics.putTopics(
        agentId,
        request.body.map((t) => {
          const { topic_id: topicId, ...rest } = t;
          return { topicId, json: JSON.stringify(rest) };
        }),
      );
      return { agent_id: agentId, topic_count: request.body.length };
    },
  );
}
