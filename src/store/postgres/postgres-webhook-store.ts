import type pg from "pg";
import {
  type DeadLetterDbRow,
  type DeliveryDbRow,
  type PendingDbRow,
  toDeadLetter,
  toDelivery,
  toPending,
} from "../db-rows.js";
import type { DeadLetter, PendingAudio, WebhookDelivery, WebhookStore } from "../webhook-store.js";
import { inTransaction } from "./pg-transaction.js";

/** Dead letters, oldest first, with the conversation id recorded with each one's delivery. */
const DEAD_LETTERS_SQL =
  "SELECT l.*, d.conversation_id FROM webhook_dead_letters l LEFT JOIN webhook_deliveries d ON d.body_sha256 = l.body_sha256 ORDER BY l.seq LIMIT $1";

/** A dead-letter row with its delivery's conversation id. */
type DeadLetterWithIdRow = DeadLetterDbRow & { conversation_id: string | null };

/** Reads a dead-letter row; the conversation id only when there is one. */
function toDeadLetterWithId(r: DeadLetterWithIdRow): DeadLetter {
  const letter = toDeadLetter(r);
  return r.conversation_id === null ? letter : { ...letter, conversationId: r.conversation_id };
}

/** Webhook bookkeeping in PostgreSQL. */
export class PostgresWebhookStore implements WebhookStore {
  constructor(private readonly pool: pg.Pool) {}

  async findDelivery(bodySha256: string): Promise<WebhookDelivery | undefined> {
    const result = await this.pool.query<DeliveryDbRow>(
      "SELECT * FROM webhook_deliveries WHERE body_sha256 = $1",
      [bodySha256],
    );
    const r = result.rows[0];
    return r ? toDelivery(r) : undefined;
  }

  async recordDelivery(d: WebhookDelivery): Promise<void> {
    await this.pool.query(
      "INSERT INTO webhook_deliveries (body_sha256, type, conversation_id, outcome, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (body_sha256) DO NOTHING",
      [d.bodySha256, d.type, d.conversationId, d.outcome, d.receivedAtUnixSecs],
    );
  }

  async addDeadLetter(letter: DeadLetter): Promise<void> {
    return inTransaction(this.pool, async (client) => {
      await client.query(
        "INSERT INTO webhook_dead_letters (body_sha256, type, reason, body, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (body_sha256) DO NOTHING",
        [letter.bodySha256, letter.type, letter.reason, letter.body, letter.receivedAtUnixSecs],
      );
      await client.query(
        "INSERT INTO webhook_deliveries (body_sha256, type, conversation_id, outcome, received_at) VALUES ($1, $2, $3, 'dead_letter', $4) ON CONFLICT (body_sha256) DO NOTHING",
        [letter.bodySha256, letter.type, letter.conversationId ?? null, letter.receivedAtUnixSecs],
      );
    });
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    const result = await this.pool.query<DeadLetterWithIdRow>(DEAD_LETTERS_SQL, [limit]);
    return result.rows.map(toDeadLetterWithId);
  }

  async putPendingAudio(p: PendingAudio): Promise<void> {
    await this.pool.query(
      `INSERT INTO webhook_pending_audio (conversation_id, audio_key, audio_type, audio_size, received_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (conversation_id) DO UPDATE SET audio_key = excluded.audio_key, audio_type = excluded.audio_type,
         audio_size = excluded.audio_size, received_at = excluded.received_at`,
      [p.conversationId, p.audio.blobKey, p.audio.contentType, p.audio.size, p.receivedAtUnixSecs],
    );
  }

  async getPendingAudio(conversationId: string): Promise<PendingAudio | undefined> {
    const result = await this.pool.query<PendingDbRow>(
      "SELECT * FROM webhook_pending_audio WHERE conversation_id = $1",
      [conversationId],
    );
    const r = result.rows[0];
    return r ? toPending(r) : undefined;
  }

  async deletePendingAudio(conversationId: string): Promise<void> {
    await this.pool.query("DELETE FROM webhook_pending_audio WHERE conversation_id = $1", [conversationId]);
  }

  async listPendingAudio(limit: number): Promise<PendingAudio[]> {
    const result = await this.pool.query<PendingDbRow>(
      "SELECT * FROM webhook_pending_audio ORDER BY received_at, conversation_id LIMIT $1",
      [limit],
    );
    return result.rows.map(toPending);
  }
}
