import type pg from "pg";
import type { LiveSession, LiveSessionStore } from "../live-session-store.js";

/** The database server's clock in Unix milliseconds: every node compares heartbeats on this one clock. */
const NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

type Row = { conversation_id: string; node_id: string; started_at: string | number };

function toSession(row: Row): LiveSession {
  return { conversationId: row.conversation_id, nodeId: row.node_id, startedAtMs: Number(row.started_at) };
}

/** The register of live sessions, in PostgreSQL (shared by every node of a deployment). */
export class PostgresLiveSessionStore implements LiveSessionStore {
  constructor(private readonly pool: pg.Pool) {}

  async register(conversationId: string, nodeId: string, startedAtMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO live_sessions (conversation_id, node_id, started_at, heartbeat_at) VALUES ($1, $2, $3, ${NOW_MS})
       ON CONFLICT (conversation_id) DO UPDATE SET node_id = excluded.node_id, started_at = excluded.started_at,
         heartbeat_at = excluded.heartbeat_at`,
      [conversationId, nodeId, Math.floor(startedAtMs)],
    );
  }

  async unregister(conversationId: string): Promise<void> {
    await this.pool.query("DELETE FROM live_sessions WHERE conversation_id = $1", [conversationId]);
  }

  async listByNode(nodeId: string): Promise<LiveSession[]> {
    const result = await this.pool.query<Row>(
      `SELECT conversation_id, node_id, started_at FROM live_sessions WHERE node_id = $1
       ORDER BY started_at, conversation_id`,
      [nodeId],
    );
    return result.rows.map(toSession);
  }

  async heartbeat(nodeId: string): Promise<number> {
    const result = await this.pool.query(
      `UPDATE live_sessions SET heartbeat_at = ${NOW_MS} WHERE node_id = $1`,
      [nodeId],
    );
    return result.rowCount ?? 0;
  }

  async listStale(olderThanMs: number, exceptNodeId: string, limit: number): Promise<LiveSession[]> {
    const result = await this.pool.query<Row>(
      `SELECT conversation_id, node_id, started_at FROM live_sessions
       WHERE heartbeat_at IS NOT NULL AND heartbeat_at < ${NOW_MS} - $1 AND node_id <> $2
       ORDER BY heartbeat_at, conversation_id LIMIT $3`,
      [Math.floor(olderThanMs), exceptNodeId, limit],
    );
    return result.rows.map(toSession);
  }
}
