/** Per-agent analysis settings (evaluation criteria, data collection), kept as JSON text. */
export interface AnalysisSettingsStore {
  /** The agent's settings as JSON text; undefined if none were set. */
  getAnalysisSettings(agentId: string): Promise<string | undefined>;
  /** Sets an agent's settings; says whether they were created or replaced. */
  putAnalysisSettings(agentId: string, json: string): Promise<"created" | "replaced">;
}
