/** The retention stores' SQL and rows that both backends share (the conversation aliased `c`). */

/** Final status and no outgoing delivery pending: a deletion or trim may touch the conversation. */
export const SETTLED = `
  c.status IN ('done', 'failed')
  AND NOT EXISTS (
    SELECT 1 FROM outgoing_deliveries d WHERE d.conversation_id = c.conversation_id AND d.status = 'pending')`;

/** Not live on any node. */
export const NOT_LIVE =
  "NOT EXISTS (SELECT 1 FROM live_sessions l WHERE l.conversation_id = c.conversation_id)";

/** A row of `retention_agents`: when an agent's privacy settings took effect, how far trims went. */
export interface MarkDbRow {
  agent_id: string;
  settings: string;
  effective_at: number;
  swept_start_time: number | null;
  swept_conversation_id: string | null;
}
