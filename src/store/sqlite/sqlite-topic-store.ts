import type BetterSqlite3 from "better-sqlite3";
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

/** The conditions and parameters that put conversations `c` of an agent in a window. */
function windowConditions(agentId: string, window: TopicWindow): { sql: string; params: unknown[] } {
  const where = ["c.agent_id = ?"];
  const params: unknown[] = [agentId];
  if (window.fromUnixSecs !== undefined) {
    where.push("c.start_time >= ?");
    params.push(window.fromUnixSecs);
  }
  if (window.toUnixSecs !== undefined) {
    where.push("c.start_time < ?");
    params.push(window.toUnixSecs);
  }
  return { sql: where.join(" AND "), params };
}

/** Topic definitions and topic metrics in SQLite; metrics read the `topic` and `eval` facets. */
export class SqliteTopicStore implements TopicStore {
  private readonly statements;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.statements = {
      clear: db.prepare("DELETE FROM agent_topics WHERE agent_id = ?"),
      insert: db.prepare(
        "INSERT INTO agent_topics (agent_id, position, topic_id, topic, updated_at) VALUES (?, ?, ?, ?, ?)",
      ),
      list: db.prepare("SELECT topic_id, topic FROM agent_topics WHERE agent_id = ? ORDER BY position"),
    };
  }

  async putTopics(agentId: string, topics: readonly TopicDefinitionRow[]): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    this.db
      .transaction(() => {
        this.statements.clear.run(agentId);
        for (const [i, t] of topics.entries()) this.statements.insert.run(agentId, i, t.topicId, t.json, now);
      })
      .immediate();
  }

  async getTopics(agentId: string): Promise<TopicDefinitionRow[]> {
    const rows = this.statements.list.all(agentId) as TopicDefinitionDbRow[];
    return rows.map(toTopicDefinition);
  }

  async listTopicAgentIds(afterAgentId: string | null, limit: number): Promise<string[]> {
    const rows = this.db
      .prepare(
        "SELECT DISTINCT agent_id FROM agent_topics WHERE @after IS NULL OR agent_id > @after ORDER BY agent_id LIMIT @limit",
      )
      .all({ after: afterAgentId, limit }) as { agent_id: string }[];
    return rows.map((r) => r.agent_id);
  }

  async countTopicConversations(agentId: string, window: TopicWindow): Promise<TopicConversationCount[]> {
    const w = windowConditions(agentId, window);
    const rows = this.db
      .prepare(
        `SELECT t.value AS topic_id, count(*) AS n FROM facets t JOIN conversations c ON c.seq = t.seq
         WHERE t.kind = 'topic' AND t.key = '' AND ${w.sql} GROUP BY t.value`,
      )
      .all(...w.params) as TopicConversationCountDbRow[];
    return rows.map(toTopicConversationCount);
  }

  async countTopicEvaluations(agentId: string, window: TopicWindow): Promise<TopicEvaluationCount[]> {
    const w = windowConditions(agentId, window);
    const rows = this.db
      .prepare(
        `SELECT t.value AS topic_id, e.key AS criteria_id, e.value AS result, count(*) AS n
         FROM facets t JOIN conversations c ON c.seq = t.seq JOIN facets e ON e.seq = t.seq AND e.kind = 'eval'
         WHERE t.kind = 'topic' AND t.key = '' AND ${w.sql} GROUP BY t.value, e.key, e.value`,
      )
      .all(...w.params) as TopicEvaluationCountDbRow[];
    return rows.map(toTopicEvaluationCount);
  }

  async topicTimeSpan(agentId: string, window: TopicWindow): Promise<TopicTimeSpan> {
    const w = windowConditions(agentId, window);
    const row = this.db
      .prepare(
        `SELECT min(c.start_time) AS first, max(c.start_time) AS last FROM conversations c
         WHERE ${w.sql} AND EXISTS (SELECT 1 FROM facets t WHERE t.seq = c.seq AND t.kind = 'topic')`,
      )
      .get(...w.params) as TopicTimeSpanDbRow;
    return toTopicTimeSpan(row);
  }
}
