import type pg from "pg";
import {
  type TopicConversationCountDbRow,
  type TopicDefinitionDbRow,
  type TopicEvaluationCountDbRow,
  type TopicTimeSpanDbRow,
  toTopicConversationCount,
  toTopicDefinition,
  toTopicEvaluationCount,
  toTopicTimeSpan,
} from "../db-rows.js";
import type {
  TopicConversationCount,
  TopicDefinitionRow,
  TopicEvaluationCount,
  TopicStore,
  TopicTimeSpan,
  TopicWindow,
} from "../topic-store.js";
import { toPgText } from "./pg-text.js";
import { inTransaction } from "./pg-transaction.js";
import { hashedEqualsAny } from "./postgres-list-dialect.js";

/** The conditions that put conversations `c` of agent $1 in the window ($2, $3; null = open). */
const WINDOW_SQL = `${hashedEqualsAny("c.agent_id", ["$1"])} AND ($2::float8 IS NULL OR c.start_time >= $2) AND ($3::float8 IS NULL OR c.start_time < $3)`;

/**
 * Replacements of one agent's topics take turns: under READ COMMITTED a second DELETE does not
 * see the rows the first writer inserted, and its INSERT would then collide with them.
 */
const LOCK_AGENT_TOPICS_SQL =
  "SELECT pg_advisory_xact_lock(hashtextextended('openconvai.agent_topics:' || $1, 0))";

function windowParams(agentId: string, window: TopicWindow): unknown[] {
  return [toPgText(agentId), window.fromUnixSecs ?? null, window.toUnixSecs ?? null];
}

/** Topic definitions and topic metrics in PostgreSQL; metrics read the `topic` and `eval` facets. */
export class PostgresTopicStore implements TopicStore {
  constructor(private readonly pool: pg.Pool) {}

  async putTopics(agentId: string, topics: readonly TopicDefinitionRow[]): Promise<void> {
    return inTransaction(this.pool, async (client) => {
      await client.query(LOCK_AGENT_TOPICS_SQL, [toPgText(agentId)]);
      await client.query("DELETE FROM agent_topics WHERE agent_id = $1", [toPgText(agentId)]);
      if (topics.length > 0) {
        await client.query(
          `INSERT INTO agent_topics (agent_id, position, topic_id, topic, updated_at)
         SELECT $1, ord - 1, id, topic, $4 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(id, topic, ord)`,
          [
            toPgText(agentId),
            topics.map((t) => toPgText(t.topicId)),
            topics.map((t) => toPgText(t.json)),
            Math.floor(Date.now() / 1000),
          ],
        );
      }
    });
  }

  async getTopics(agentId: string): Promise<TopicDefinitionRow[]> {
    const result = await this.pool.query<TopicDefinitionDbRow>(
      "SELECT topic_id, topic FROM agent_topics WHERE agent_id = $1 ORDER BY position",
      [toPgText(agentId)],
    );
    return result.rows.map(toTopicDefinition);
  }

  async listTopicAgentIds(afterAgentId: string | null, limit: number): Promise<string[]> {
    const result = await this.pool.query<{ agent_id: string }>(
      "SELECT DISTINCT agent_id FROM agent_topics WHERE $1::text IS NULL OR agent_id > $1 ORDER BY agent_id LIMIT $2",
      [toPgText(afterAgentId), limit],
    );
    return result.rows.map((r) => r.agent_id);
  }

  async countTopicConversations(agentId: string, window: TopicWindow): Promise<TopicConversationCount[]> {
    const result = await this.pool.query<TopicConversationCountDbRow>(
      `SELECT t.value AS topic_id, count(*) AS n FROM facets t JOIN conversations c ON c.seq = t.seq
       WHERE t.kind = 'topic' AND hashtextextended(t.key, 0) = hashtextextended('', 0) AND t.key = '' AND ${WINDOW_SQL} GROUP BY t.value`,
      windowParams(agentId, window),
    );
    return result.rows.map(toTopicConversationCount);
  }

  async countTopicEvaluations(agentId: string, window: TopicWindow): Promise<TopicEvaluationCount[]> {
    const result = await this.pool.query<TopicEvaluationCountDbRow>(
      `SELECT t.value AS topic_id, e.key AS criteria_id, e.value AS result, count(*) AS n
       FROM facets t JOIN conversations c ON c.seq = t.seq JOIN facets e ON e.seq = t.seq AND e.kind = 'eval'
       WHERE t.kind = 'topic' AND hashtextextended(t.key, 0) = hashtextextended('', 0) AND t.key = '' AND ${WINDOW_SQL} GROUP BY t.value, e.key, e.value`,
      windowParams(agentId, window),
    );
    return result.rows.map(toTopicEvaluationCount);
  }

  async topicTimeSpan(agentId: string, window: TopicWindow): Promise<TopicTimeSpan> {
    const result = await this.pool.query<TopicTimeSpanDbRow>(
      `SELECT min(c.start_time) AS first, max(c.start_time) AS last FROM conversations c
       WHERE ${WINDOW_SQL} AND EXISTS (SELECT 1 FROM facets t WHERE t.seq = c.seq AND t.kind = 'topic')`,
      windowParams(agentId, window),
    );
    return toTopicTimeSpan(result.rows[0]);
  }
}
