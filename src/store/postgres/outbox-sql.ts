import type pg from "pg";
import type { NewOutgoingDelivery } from "../outgoing-webhook-store.js";
import { toPgText } from "./pg-text.js";

/**
 * Queues deliveries in one statement: one array parameter per column, rows in the order given (so
 * their `seq` follows it). Each starts pending, due when queued. A delivery id already queued
 * fails the statement (and the caller's transaction), as in SQLite.
 */
const INSERT_DELIVERIES_SQL = `INSERT INTO outgoing_deliveries (
    delivery_id, webhook_id, event_type, conversation_id, agent_id, event_timestamp, payload,
    exclude_transcript, max_attempts, created_at_ms, status, attempts, next_attempt_at_ms, updated_at_ms
  )
  SELECT u.delivery_id, u.webhook_id, u.event_type, u.conversation_id, u.agent_id, u.event_timestamp, u.payload,
    u.exclude_transcript, u.max_attempts, u.created_at_ms, 'pending', 0, u.created_at_ms, u.created_at_ms
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
    $8::bool[], $9::int[], $10::bigint[])
    WITH ORDINALITY AS u(delivery_id, webhook_id, event_type, conversation_id, agent_id, event_timestamp, payload,
      exclude_transcript, max_attempts, created_at_ms, ord)
  ORDER BY u.ord`;

/**
 * Inserts deliveries into the outbox on a connection (inside the caller's transaction, or alone on
 * the pool); nothing is sent when there are none.
 */
export async function insertDeliveries(
  db: pg.Pool | pg.PoolClient,
  deliveries: readonly NewOutgoingDelivery[],
): Promise<void> {
  if (deliveries.length === 0) return;
  await db.query(INSERT_DELIVERIES_SQL, [
    deliveries.map((d) => toPgText(d.deliveryId)),
    deliveries.map((d) => toPgText(d.webhookId)),
    deliveries.map((d) => d.eventType),
    deliveries.map((d) => toPgText(d.conversationId)),
    deliveries.map((d) => toPgText(d.agentId)),
    deliveries.map((d) => Math.floor(d.eventTimestamp)),
    deliveries.map((d) => toPgText(d.payload)),
    deliveries.map((d) => d.excludeTranscript),
    deliveries.map((d) => d.maxAttempts),
    deliveries.map((d) => Math.floor(d.createdAtMs)),
  ]);
}
