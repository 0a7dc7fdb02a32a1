import type BetterSqlite3 from "better-sqlite3";
import {
  type DeadLetterDbRow,
  type DeliveryDbRow,
  type PendingDbRow,
  toDeadLetter,
  toDelivery,
  toPending,
} from "../db-rows.js";
import type { DeadLetter, PendingAudio, WebhookDelivery, WebhookStore } from "../webhook-store.js";

/** Dead letters, oldest first, with the conversation id recorded with each one's delivery. */
const DEAD_LETTERS_SQL =
  "SELECT l.*, d.conversation_id FROM webhook_dead_letters l LEFT JOIN webhook_deliveries d ON d.body_sha256 = l.body_sha256 ORDER BY l.seq LIMIT ?";

/** A dead-letter row with its delivery's conversation id. */
type DeadLetterWithIdRow = DeadLetterDbRow & { conversation_id: string | null };

/** Reads a dead-letter row; the conversation id only when there is one. */
function toDeadLetterWithId(r: DeadLetterWithIdRow): DeadLetter {
  const letter = toDeadLetter(r);
  return r.conversation_id === null ? letter : { ...letter, conversationId: r.conversation_id };
}

/** Webhook bookkeeping in SQLite. */
export class SqliteWebhookStore implements WebhookStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  async findDelivery(bodySha256: string): Promise<WebhookDelivery | undefined> {
    const r = this.db.prepare("SELECT * FROM webhook_deliveries WHERE body_sha256 = ?").get(bodySha256) as
      | DeliveryDbRow
      | undefined;
    return r ? toDelivery(r) : undefined;
  }

  async recordDelivery(d: WebhookDelivery): Promise<void> {
    this.db
      .prepare(
        "INSERT INTO webhook_deliveries (body_sha256, type, conversation_id, outcome, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (body_sha256) DO NOTHING",
      )
      .run(d.bodySha256, d.type, d.conversationId, d.outcome, d.receivedAtUnixSecs);
  }

  async addDeadLetter(letter: DeadLetter): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          "INSERT INTO webhook_dead_letters (body_sha256, type, reason, body, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (body_sha256) DO NOTHING",
        )
        .run(letter.bodySha256, letter.type, letter.reason, letter.body, letter.receivedAtUnixSecs);
      this.db
        .prepare(
          "INSERT INTO webhook_deliveries (body_sha256, type, conversation_id, outcome, received_at) VALUES (?, ?, ?, 'dead_letter', ?) ON CONFLICT (body_sha256) DO NOTHING",
        )
        .run(letter.bodySha256, letter.type, letter.conversationId ?? null, letter.receivedAtUnixSecs);
    })();
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    const rows = this.db.prepare(DEAD_LETTERS_SQL).all(limit) as DeadLetterWithIdRow[];
    return rows.map(toDeadLetterWithId);
  }

  async putPendingAudio(p: PendingAudio): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO webhook_pending_audio (conversation_id, audio_key, audio_type, audio_size, received_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (conversation_id) DO UPDATE SET audio_key = excluded.audio_key, audio_type = excluded.audio_type,
           audio_size = excluded.audio_size, received_at = excluded.received_at`,
      )
      .run(p.conversationId, p.audio.blobKey, p.audio.contentType, p.audio.size, p.receivedAtUnixSecs);
  }

  async getPendingAudio(conversationId: string): Promise<PendingAudio | undefined> {
    const r = this.db
      .prepare("SELECT * FROM webhook_pending_audio WHERE conversation_id = ?")
      .get(conversationId) as PendingDbRow | undefined;
    return r ? toPending(r) : undefined;
  }

  async deletePendingAudio(conversationId: string): Promise<void> {
    this.db.prepare("DELETE FROM webhook_pending_audio WHERE conversation_id = ?").run(conversationId);
  }

  async listPendingAudio(limit: number): Promise<PendingAudio[]> {
    const rows = this.db
      .prepare("SELECT * FROM webhook_pending_audio ORDER BY received_at, conversation_id LIMIT ?")
      .all(limit) as PendingDbRow[];
    return rows.map(toPending);
  }
}
