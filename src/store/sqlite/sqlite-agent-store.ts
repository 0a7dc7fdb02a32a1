import type BetterSqlite3 from "better-sqlite3";
import { AGENT_COLUMNS, type AgentDbRow, toAgent } from "../agent-db-rows.js";
import type {
  AgentChange,
  AgentListQuery,
  AgentRow,
  AgentStore,
  NewAgent,
  RestoredAgent,
} from "../agent-store.js";

/** Agents in SQLite. */
export class SqliteAgentStore implements AgentStore {
  private readonly statements;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO agents (agent_id, search_name, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING ${AGENT_COLUMNS}`,
      ),
      get: db.prepare(`SELECT ${AGENT_COLUMNS} FROM agents WHERE agent_id = ?`),
      // instr, not LIKE: the search text is matched as it is (no wildcards), folded on both sides.
      list: db.prepare(
        `SELECT ${AGENT_COLUMNS} FROM agents
         WHERE (@beforeSeq IS NULL OR seq < @beforeSeq) AND (@searchName IS NULL OR instr(search_name, @searchName) > 0)
         ORDER BY seq DESC LIMIT @limit`,
      ),
      update: db.prepare(
        `UPDATE agents SET doc = ?, search_name = ?, updated_at = ? WHERE agent_id = ? RETURNING ${AGENT_COLUMNS}`,
      ),
      delete: db.prepare(`DELETE FROM agents WHERE agent_id = ? RETURNING ${AGENT_COLUMNS}`),
      scan: db.prepare(
        `SELECT ${AGENT_COLUMNS} FROM agents WHERE (@afterSeq IS NULL OR seq > @afterSeq) ORDER BY seq LIMIT @limit`,
      ),
      // A NULL seq is given the next free one (AUTOINCREMENT: after every seq ever used); on an
      // agent_id conflict the stored agent keeps its seq.
      restore: db.prepare(
        `INSERT INTO agents (seq, agent_id, search_name, doc, created_at, updated_at)
         VALUES (CASE WHEN EXISTS (SELECT 1 FROM agents WHERE seq = @seq) THEN NULL ELSE @seq END,
           @agentId, @searchName, @json, @createdAtUnixSecs, @updatedAtUnixSecs)
         ON CONFLICT (agent_id) DO UPDATE SET search_name = excluded.search_name, doc = excluded.doc,
           created_at = excluded.created_at, updated_at = excluded.updated_at
         RETURNING ${AGENT_COLUMNS}`,
      ),
    };
  }

  async createAgent(agent: NewAgent): Promise<AgentRow> {
    const row = this.statements.insert.get(
      agent.agentId,
      agent.searchName,
      agent.json,
      agent.createdAtUnixSecs,
      agent.createdAtUnixSecs,
    ) as AgentDbRow;
    return toAgent(row);
  }

  async getAgent(agentId: string): Promise<AgentRow | undefined> {
    const row = this.statements.get.get(agentId) as AgentDbRow | undefined;
    return row ? toAgent(row) : undefined;
  }

  async listAgents(query: AgentListQuery): Promise<AgentRow[]> {
    const rows = this.statements.list.all({
      beforeSeq: query.beforeSeq,
      searchName: query.searchName,
      limit: query.limit,
    }) as AgentDbRow[];
    return rows.map(toAgent);
  }

  async updateAgent(
    agentId: string,
    change: (current: AgentRow) => AgentChange,
  ): Promise<AgentRow | undefined> {
    return this.db
      .transaction(() => {
        const current = this.statements.get.get(agentId) as AgentDbRow | undefined;
        if (!current) return undefined;
        const next = change(toAgent(current));
        const row = this.statements.update.get(
          next.json,
          next.searchName,
          next.updatedAtUnixSecs,
          agentId,
        ) as AgentDbRow;
        return toAgent(row);
      })
      .immediate();
  }

  async deleteAgent(agentId: string): Promise<AgentRow | undefined> {
    const row = this.statements.delete.get(agentId) as AgentDbRow | undefined;
    return row ? toAgent(row) : undefined;
  }

  async scanAgents(afterSeq: number | null, limit: number): Promise<AgentRow[]> {
    const rows = this.statements.scan.all({ afterSeq, limit }) as AgentDbRow[];
    return rows.map(toAgent);
  }

  async restoreAgent(agent: RestoredAgent): Promise<AgentRow> {
    const row = this.statements.restore.get({
      seq: agent.seq,
      agentId: agent.agentId,
      searchName: agent.searchName,
      json: agent.json,
      createdAtUnixSecs: agent.createdAtUnixSecs,
      updatedAtUnixSecs: agent.updatedAtUnixSecs,
    }) as AgentDbRow;
    return toAgent(row);
  }
}
