import type pg from "pg";
import { AGENT_COLUMNS, type AgentDbRow, toAgent } from "../agent-db-rows.js";
import type {
  AgentChange,
  AgentListQuery,
  AgentRow,
  AgentStore,
  NewAgent,
  RestoredAgent,
} from "../agent-store.js";
import { toPgText } from "./pg-text.js";
import { inTransaction } from "./pg-transaction.js";

/** Agents in PostgreSQL. */
export class PostgresAgentStore implements AgentStore {
  constructor(private readonly pool: pg.Pool) {}

  async createAgent(agent: NewAgent): Promise<AgentRow> {
    const result = await this.pool.query<AgentDbRow>(
      `INSERT INTO agents (agent_id, search_name, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING ${AGENT_COLUMNS}`,
      [toPgText(agent.agentId), toPgText(agent.searchName), agent.json, agent.createdAtUnixSecs],
    );
    return toAgent(result.rows[0] as AgentDbRow);
  }

  async getAgent(agentId: string): Promise<AgentRow | undefined> {
    const result = await this.pool.query<AgentDbRow>(
      `SELECT ${AGENT_COLUMNS} FROM agents WHERE agent_id = $1`,
      [toPgText(agentId)],
    );
    const row = result.rows[0];
    return row ? toAgent(row) : undefined;
  }

  async listAgents(query: AgentListQuery): Promise<AgentRow[]> {
    // strpos, not LIKE: the search text is matched as it is (no wildcards), folded on both sides.
    const result = await this.pool.query<AgentDbRow>(
      `SELECT ${AGENT_COLUMNS} FROM agents
       WHERE ($1::bigint IS NULL OR seq < $1) AND ($2::text IS NULL OR strpos(search_name, $2) > 0)
       ORDER BY seq DESC LIMIT $3`,
      [query.beforeSeq, toPgText(query.searchName), query.limit],
    );
    return result.rows.map(toAgent);
  }

  async updateAgent(
    agentId: string,
    change: (current: AgentRow) => AgentChange,
  ): Promise<AgentRow | undefined> {
    return inTransaction(this.pool, async (client) => {
      const current = await client.query<AgentDbRow>(
        `SELECT ${AGENT_COLUMNS} FROM agents WHERE agent_id = $1 FOR UPDATE`,
        [toPgText(agentId)],
      );
      const row = current.rows[0];
      if (!row) return undefined;
      const next = change(toAgent(row));
      const result = await client.query<AgentDbRow>(
        `UPDATE agents SET doc = $1, search_name = $2, updated_at = $3 WHERE agent_id = $4 RETURNING ${AGENT_COLUMNS}`,
        [next.json, toPgText(next.searchName), next.updatedAtUnixSecs, toPgText(agentId)],
      );
      return toAgent(result.rows[0] as AgentDbRow);
    });
  }

  async deleteAgent(agentId: string): Promise<AgentRow | undefined> {
    const result = await this.pool.query<AgentDbRow>(
      `DELETE FROM agents WHERE agent_id = $1 RETURNING ${AGENT_COLUMNS}`,
      [toPgText(agentId)],
    );
    const row = result.rows[0];
    return row ? toAgent(row) : undefined;
  }

  async scanAgents(afterSeq: number | null, limit: number): Promise<AgentRow[]> {
    const result = await this.pool.query<AgentDbRow>(
      `SELECT ${AGENT_COLUMNS} FROM agents WHERE ($1::bigint IS NULL OR seq > $1) ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    );
    return result.rows.map(toAgent);
  }

  async restoreAgent(agent: RestoredAgent): Promise<AgentRow> {
    return inTransaction(this.pool, async (client) => {
      // Restores take turns, so two of them never pick the same free seq.
      await client.query("LOCK TABLE agents IN SHARE ROW EXCLUSIVE MODE");
      const result = await client.query<AgentDbRow>(
        `INSERT INTO agents (seq, agent_id, search_name, doc, created_at, updated_at)
         OVERRIDING SYSTEM VALUE
         VALUES (CASE WHEN EXISTS (SELECT 1 FROM agents WHERE seq = $1)
                   THEN nextval(pg_get_serial_sequence('agents', 'seq')) ELSE $1 END,
                 $2, $3, $4, $5, $6)
         ON CONFLICT (agent_id) DO UPDATE SET search_name = excluded.search_name, doc = excluded.doc,
           created_at = excluded.created_at, updated_at = excluded.updated_at
         RETURNING ${AGENT_COLUMNS}`,
        [
          agent.seq,
          toPgText(agent.agentId),
          toPgText(agent.searchName),
          agent.json,
          agent.createdAtUnixSecs,
          agent.updatedAtUnixSecs,
        ],
      );
      // Agents created later must come after every restored one.
      await client.query(
        `SELECT setval(s, GREATEST((SELECT max(seq) FROM agents), COALESCE(pg_sequence_last_value(s), 1)))
         FROM (SELECT pg_get_serial_sequence('agents', 'seq')::regclass AS s) q`,
      );
      return toAgent(result.rows[0] as AgentDbRow);
    });
  }
}
