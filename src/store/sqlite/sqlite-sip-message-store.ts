import type BetterSqlite3 from "better-sqlite3";
import { type SipMessageDbRow, toSipMessage } from "../db-rows.js";
import type { SipMessageRow, SipMessageStore } from "../sip-message-store.js";

/** SIP log messages in SQLite, one row per message keyed by (conversation, position). */
export class SqliteSipMessageStore implements SipMessageStore {
  private readonly statements;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.statements = {
      exists: db.prepare("SELECT 1 FROM conversations WHERE conversation_id = ?"),
      clear: db.prepare("DELETE FROM sip_messages WHERE conversation_id = ?"),
      insert: db.prepare("INSERT INTO sip_messages (conversation_id, position, message) VALUES (?, ?, ?)"),
      listFirst: db.prepare(
        "SELECT position, message FROM sip_messages WHERE conversation_id = ? ORDER BY position LIMIT ?",
      ),
      listAfter: db.prepare(
        "SELECT position, message FROM sip_messages WHERE conversation_id = ? AND position > ? ORDER BY position LIMIT ?",
      ),
    };
  }

  async replaceSipMessages(conversationId: string, messages: readonly string[]): Promise<number | undefined> {
    const s = this.statements;
    return this.db
      .transaction(() => {
        if (!s.exists.get(conversationId)) return undefined;
        s.clear.run(conversationId);
        for (const [position, message] of messages.entries()) s.insert.run(conversationId, position, message);
        return messages.length;
      })
      .immediate();
  }

  async listSipMessages(
    conversationId: string,
    afterPosition: number | null,
    limit: number,
  ): Promise<SipMessageRow[]> {
    const rows = (
      afterPosition === null
        ? this.statements.listFirst.all(conversationId, limit)
        : this.statements.listAfter.all(conversationId, afterPosition, limit)
    ) as SipMessageDbRow[];
    return rows.map(toSipMessage);
  }

  async listSipConversationIds(afterConversationId: string | null, limit: number): Promise<string[]> {
    const rows = this.db
      .prepare(
        "SELECT DISTINCT conversation_id FROM sip_messages WHERE @after IS NULL OR conversation_id > @after ORDER BY conversation_id LIMIT @limit",
      )
      .all({ after: afterConversationId, limit }) as { conversation_id: string }[];
    return rows.map((r) => r.conversation_id);
  }
}
