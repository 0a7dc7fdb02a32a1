import type BetterSqlite3 from "better-sqlite3";
import type { NewOutgoingDelivery } from "../outgoing-webhook-store.js";

/** A new delivery's row: pending, no attempt made, its first attempt due when it was queued. */
const INSERT_DELIVERY = `INSERT INTO outgoing_deliveries (
    delivery_id, webhook_id, event_type, conversation_id, agent_id, event_timestamp, payload,
    exclude_transcript, max_attempts, created_at_ms, status, attempts, next_attempt_at_ms, updated_at_ms)
  VALUES (@deliveryId, @webhookId, @eventType, @conversationId, @agentId, @eventTimestamp, @payload,
    @excludeTranscript, @maxAttempts, @createdAtMs, 'pending', 0, @createdAtMs, @createdAtMs)`;

/**
 * Queues deliveries in the outbox: the one INSERT the outgoing webhook store's `enqueue` and the
 * conversation store's writes share. Runs inside the caller's transaction; the statement is
 * prepared at the first use, so a connection that never queues a delivery never prepares it.
 */
export class SqliteOutbox {
  private insert: BetterSqlite3.Statement | undefined;

  constructor(private readonly db: BetterSqlite3.Database) {}

  /** Inserts the deliveries; must run inside a transaction (a duplicate delivery id throws). */
  insertDeliveries(deliveries: readonly NewOutgoingDelivery[]): void {
    this.insert ??= this.db.prepare(INSERT_DELIVERY);
    for (const d of deliveries) {
      this.insert.run({
        deliveryId: d.deliveryId,
        webhookId: d.webhookId,
        eventType: d.eventType,
        conversationId: d.conversationId,
        agentId: d.agentId,
        eventTimestamp: d.eventTimestamp,
        payload: d.payload,
        excludeTranscript: d.excludeTranscript ? 1 : 0,
        maxAttempts: d.maxAttempts,
        createdAtMs: d.createdAtMs,
      });
    }
  }
}
