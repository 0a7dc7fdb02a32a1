import type { AgentRow } from "./agent-store.js";

/** An agent row as both backends select it (`search_name` is not read back). */
export interface AgentDbRow {
  seq: number;
  agent_id: string;
  doc: string;
  created_at: number;
  updated_at: number;
}

/** The columns an agent is read with. */
export const AGENT_COLUMNS = "seq, agent_id, doc, created_at, updated_at";

/** Reads an agent row. */
export function toAgent(r: AgentDbRow): AgentRow {
  return {
    seq: r.seq,
    agentId: r.agent_id,
    json: r.doc,
    createdAtUnixSecs: r.created_at,
    updatedAtUnixSecs: r.updated_at,
  };
}
