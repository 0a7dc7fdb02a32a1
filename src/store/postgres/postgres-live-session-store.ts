import type pg from "pg";
import type { LiveSession, LiveSessionStore } from "../live-session-store.js";

/** The register of live sessions, in PostgreSQL (shared by every node of a deployment). */
export class PostgresLiveSessionStore implements LiveSessionStore {
  constructor(private readonly pool: pg.Pool) {}

  async register(conversationId: string, nodeId: string, startedAtMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO live_sessions (conversation_id, node_id, started_at) VALUES ($1, $2, $3)
       ON CONFLICT (conversation_id) DO UPDATE SET node_id = excluded.node_id, started_at = excluded.started_at`,
      [conversationId, nodeId, Math.floor(startedAtMs)],
    );
  }

  async unregister(conversationId: string): Promise<void> {
    await this.pool.query("DELETE FROM live_sessions WHERE conversation_id = $1", [conversationId]);
  }

  async listByNode(nodeId: string): Promise<LiveSession[]> {
    const result = await this.pool.query<{ conversation_id: string; node_id: string; started_at: number }>(
      `SELECT conversation_id, node_id, started_at FROM live_sessions WHERE node_id = $1
       ORDER BY started_at, conversation_id`,
      [nodeId],
    );
    return result.rows.map((row) => ({
      conversationId: row.conversation_id,
      nodeId: row.node_id,
      startedAtMs: row.started_at,
    }));
  }
}
