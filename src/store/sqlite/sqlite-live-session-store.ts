import type BetterSqlite3 from "better-sqlite3";
import type { LiveSession, LiveSessionStore } from "../live-session-store.js";

/** The register of live sessions, in SQLite. */
export class SqliteLiveSessionStore implements LiveSessionStore {
  private readonly statements;

  constructor(db: BetterSqlite3.Database) {
    this.statements = {
      register: db.prepare(
        `INSERT INTO live_sessions (conversation_id, node_id, started_at) VALUES (?, ?, ?)
         ON CONFLICT (conversation_id) DO UPDATE SET node_id = excluded.node_id, started_at = excluded.started_at`,
      ),
      unregister: db.prepare("DELETE FROM live_sessions WHERE conversation_id = ?"),
      listByNode: db.prepare(
        `SELECT conversation_id, node_id, started_at FROM live_sessions WHERE node_id = ?
         ORDER BY started_at, conversation_id`,
      ),
    };
  }

  async register(conversationId: string, nodeId: string, startedAtMs: number): Promise<void> {
    this.statements.register.run(conversationId, nodeId, Math.floor(startedAtMs));
  }

  async unregister(conversationId: string): Promise<void> {
    this.statements.unregister.run(conversationId);
  }

  async listByNode(nodeId: string): Promise<LiveSession[]> {
    const rows = this.statements.listByNode.all(nodeId) as {
      conversation_id: string;
      node_id: string;
      started_at: number;
    }[];
    return rows.map((row) => ({
      conversationId: row.conversation_id,
      nodeId: row.node_id,
      startedAtMs: row.started_at,
    }));
  }
}
