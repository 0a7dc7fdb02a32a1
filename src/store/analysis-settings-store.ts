/** One agent's analysis settings as stored. */
export interface AgentAnalysisSettings {
  agentId: string;
  json: string;
}

/** Per-agent analysis settings (evaluation criteria, data collection), kept as JSON text. */
export interface AnalysisSettingsStore {
  /** The agent's settings as JSON text; undefined if none were set. */
  getAnalysisSettings(agentId: string): Promise<string | undefined>;
  /** Sets an agent's settings; says whether they were created or replaced. */
  putAnalysisSettings(agentId: string, json: string): Promise<"created" | "replaced">;
  /** Every agent's settings in agent id order, after `afterAgentId` when given; at most `limit`. */
  listAnalysisSettings(afterAgentId: string | null, limit: number): Promise<AgentAnalysisSettings[]>;
}
