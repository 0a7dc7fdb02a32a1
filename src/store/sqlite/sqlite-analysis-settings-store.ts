import type BetterSqlite3 from "better-sqlite3";
import type { AgentAnalysisSettings, AnalysisSettingsStore } from "../analysis-settings-store.js";

/** Per-agent analysis settings in SQLite. */
export class SqliteAnalysisSettingsStore implements AnalysisSettingsStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  async getAnalysisSettings(agentId: string): Promise<string | undefined> {
    const row = this.db.prepare("SELECT settings FROM analysis_settings WHERE agent_id = ?").get(agentId) as
      | { settings: string }
      | undefined;
    return row?.settings;
  }

  async putAnalysisSettings(agentId: string, json: string): Promise<"created" | "replaced"> {
    return this.db
      .transaction(() => {
        const existed = this.db.prepare("SELECT 1 FROM analysis_settings WHERE agent_id = ?").get(agentId);
        this.db
          .prepare(
            `INSERT INTO analysis_settings (agent_id, settings, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (agent_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
          )
          .run(agentId, json, Math.floor(Date.now() / 1000));
        return existed ? ("replaced" as const) : ("created" as const);
      })
      .immediate();
  }

  async listAnalysisSettings(afterAgentId: string | null, limit: number): Promise<AgentAnalysisSettings[]> {
    const rows = this.db
      .prepare(
        "SELECT agent_id, settings FROM analysis_settings WHERE @after IS NULL OR agent_id > @after ORDER BY agent_id LIMIT @limit",
      )
      .all({ after: afterAgentId, limit }) as { agent_id: string; settings: string }[];
    return rows.map((r) => ({ agentId: r.agent_id, json: r.settings }));
  }
}
