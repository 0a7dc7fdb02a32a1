import type pg from "pg";
import { type SipMessageDbRow, toSipMessage } from "../db-rows.js";
import type { SipMessageRow, SipMessageStore } from "../sip-message-store.js";
import { toPgText } from "./pg-text.js";
import { inTransaction } from "./pg-transaction.js";

/** SIP log messages in PostgreSQL, one row per message keyed by (conversation, position). */
export class PostgresSipMessageStore implements SipMessageStore {
  constructor(private readonly pool: pg.Pool) {}

  async replaceSipMessages(conversationId: string, messages: readonly string[]): Promise<number | undefined> {
    const id = toPgText(conversationId);
    return inTransaction(this.pool, async (client) => {
      // Locks the conversation against a concurrent delete until the new log is written, and makes
      // replacements of one log take turns: under READ COMMITTED a second DELETE does not see the
      // rows the first writer inserted, and its INSERT would collide with them. FOR NO KEY UPDATE
      // still lets file uploads check their foreign key meanwhile.
      const found = await client.query(
        "SELECT 1 FROM conversations WHERE conversation_id = $1 FOR NO KEY UPDATE",
        [id],
      );
      if (found.rowCount === 0) return undefined;
      await client.query("DELETE FROM sip_messages WHERE conversation_id = $1", [id]);
      if (messages.length > 0) {
        await client.query(
          "INSERT INTO sip_messages (conversation_id, position, message) SELECT $1, ord - 1, m FROM unnest($2::text[]) WITH ORDINALITY AS u(m, ord)",
          [id, messages.map(toPgText)],
        );
      }
      return messages.length;
    });
  }

  async listSipMessages(
    conversationId: string,
    afterPosition: number | null,
    limit: number,
  ): Promise<SipMessageRow[]> {
    const result = await this.pool.query<SipMessageDbRow>(
      "SELECT position, message FROM sip_messages WHERE conversation_id = $1 AND ($2::integer IS NULL OR position > $2) ORDER BY position LIMIT $3",
      [toPgText(conversationId), afterPosition, limit],
    );
    return result.rows.map(toSipMessage);
  }

  async listSipConversationIds(afterConversationId: string | null, limit: number): Promise<string[]> {
    const result = await this.pool.query<{ conversation_id: string }>(
      "SELECT DISTINCT conversation_id FROM sip_messages WHERE $1::text IS NULL OR conversation_id > $1 ORDER BY conversation_id LIMIT $2",
      [toPgText(afterConversationId), limit],
    );
    return result.rows.map((r) => r.conversation_id);
  }
}
