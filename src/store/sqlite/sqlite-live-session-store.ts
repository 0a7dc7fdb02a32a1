import type BetterSqlite3 from "better-sqlite3";
import type { LiveSession, LiveSessionStore } from "../live-session-store.js";

/** The database's clock in Unix milliseconds (SQLite has one machine, so it is the server's too). */
const NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

type Row = { conversation_id: string; node_id: string; started_at: number };

function toSession(row: Row): LiveSession {
  return { conversationId: row.conversation_id, nodeId: row.node_id, startedAtMs: row.started_at };
}

/** The register of live sessions, in SQLite. */
export class SqliteLiveSessionStore implements LiveSessionStore {
  private readonly statements;

  constructor(db: BetterSqlite3.Database) {
    this.statements = {
      register: db.prepare(
        `INSERT INTO live_sessions (conversation_id, node_id, started_at, heartbeat_at) VALUES (?, ?, ?, ${NOW_MS})
         ON CONFLICT (conversation_id) DO UPDATE SET node_id = excluded.node_id, started_at = excluded.started_at,
           heartbeat_at = excluded.heartbeat_at`,
      ),
      unregister: db.prepare("DELETE FROM live_sessions WHERE conversation_id = ?"),
      listByNode: db.prepare(
        `SELECT conversation_id, node_id, started_at FROM live_sessions WHERE node_id = ?
         ORDER BY started_at, conversation_id`,
      ),
      heartbeat: db.prepare(`UPDATE live_sessions SET heartbeat_at = ${NOW_MS} WHERE node_id = ?`),
      listStale: db.prepare(
        `SELECT conversation_id, node_id, started_at FROM live_sessions
         WHERE heartbeat_at IS NOT NULL AND heartbeat_at < ${NOW_MS} - ? AND node_id <> ?
         ORDER BY heartbeat_at, conversation_id LIMIT ?`,
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
    return (this.statements.listByNode.all(nodeId) as Row[]).map(toSession);
  }

  async heartbeat(nodeId: string): Promise<number> {
    return this.statements.heartbeat.run(nodeId).changes;
  }

  async listStale(olderThanMs: number, exceptNodeId: string, limit: number): Promise<LiveSession[]> {
    return (this.statements.listStale.all(Math.floor(olderThanMs), exceptNodeId, limit) as Row[]).map(
      toSession,
    );
  }
}
