import type pg from "pg";
import type { AgentAnalysisSettings, AnalysisSettingsStore } from "../analysis-settings-store.js";
import { toPgText } from "./pg-text.js";

/** Per-agent analysis settings in PostgreSQL. */
export class PostgresAnalysisSettingsStore implements AnalysisSettingsStore {
  constructor(private readonly pool: pg.Pool) {}

  async getAnalysisSettings(agentId: string): Promise<string | undefined> {
    const result = await this.pool.query<{ settings: string }>(
      "SELECT settings FROM analysis_settings WHERE agent_id = $1",
      [toPgText(agentId)],
    );
    return result.rows[0]?.settings;
  }

  async putAnalysisSettings(agentId: string, json: string): Promise<"created" | "replaced"> {
    const result = await this.pool.query<{ inserted: boolean }>(
      `INSERT INTO analysis_settings AS a (agent_id, settings, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (agent_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
       RETURNING (a.xmax = 0) AS inserted`,
      [toPgText(agentId), json, Math.floor(Date.now() / 1000)],
    );
    return result.rows[0]?.inserted ? "created" : "replaced";
  }

  async listAnalysisSettings(afterAgentId: string | null, limit: number): Promise<AgentAnalysisSettings[]> {
    const result = await this.pool.query<{ agent_id: string; settings: string }>(
      "SELECT agent_id, settings FROM analysis_settings WHERE $1::text IS NULL OR agent_id > $1 ORDER BY agent_id LIMIT $2",
      [toPgText(afterAgentId), limit],
    );
    return result.rows.map((r) => ({ agentId: r.agent_id, json: r.settings }));
  }
}
