/**
 * The rows of the outgoing-webhook tables as the SQLite and PostgreSQL stores both read them (the
 * two schemas use the same column names), and how they map to the store types: written once for
 * both backends. SQLite gives flags as 0/1 and every number as a number; pg gives flags as
 * booleans and a BIGINT as a string unless the pool parses it.
 */
import type {
  DeliveryAttempt,
  DeliveryStatus,
  OutgoingDelivery,
  OutgoingEventType,
  WorkspaceWebhook,
} from "./outgoing-webhook-store.js";

/** A flag column: 0/1 (SQLite) or a boolean (PostgreSQL). */
type Flag = number | boolean;
/** A BIGINT column: a number, or a string from pg. */
type Big = number | string;

/** A `workspace_webhooks` row. */
export interface WebhookDbRow {
  webhook_id: string;
  name: string;
  url: string;
  secret: string;
  auth_type: string;
  is_disabled: Flag;
  is_auto_disabled: Flag;
  retry_enabled: Flag;
  request_headers: string;
  events: string;
  created_at_unix: Big;
  most_recent_failure_error_code: number | null;
  most_recent_failure_timestamp: Big | null;
  consecutive_failures: number;
  last_success_at_ms: Big | null;
}

/** An `outgoing_deliveries` row (the hold's columns are the store's business, not read). */
export interface DeliveryDbRow {
  seq: Big;
  delivery_id: string;
  webhook_id: string;
  event_type: string;
  conversation_id: string | null;
  agent_id: string | null;
  event_timestamp: Big;
  payload: string | null;
  exclude_transcript: Flag;
  max_attempts: number;
  created_at_ms: Big;
  status: string;
  attempts: number;
  next_attempt_at_ms: Big;
  last_status_code: number | null;
  last_error: string | null;
  updated_at_ms: Big;
}

/** An `outgoing_delivery_attempts` row. */
export interface AttemptDbRow {
  delivery_id: string;
  attempt: number;
  started_at_ms: Big;
  url: string;
  status_code: number | null;
  error: string | null;
  latency_ms: Big;
  response_head: string | null;
}

/** The columns every read of a delivery lists. */
export const DELIVERY_COLUMNS =
  "seq, delivery_id, webhook_id, event_type, conversation_id, agent_id, event_timestamp, payload, " +
  "exclude_transcript, max_attempts, created_at_ms, status, attempts, next_attempt_at_ms, last_status_code, " +
  "last_error, updated_at_ms";

function flag(value: Flag): boolean {
  return value === true || value === 1;
}

function big(value: Big): number {
  return typeof value === "number" ? value : Number(value);
}

function bigOrNull(value: Big | null): number | null {
  return value === null ? null : big(value);
}

/** Reads a webhook row. */
export function toWebhook(r: WebhookDbRow): WorkspaceWebhook {
  return {
    webhookId: r.webhook_id,
    name: r.name,
    url: r.url,
    secret: r.secret,
    authType: r.auth_type as WorkspaceWebhook["authType"],
    isDisabled: flag(r.is_disabled),
    isAutoDisabled: flag(r.is_auto_disabled),
    retryEnabled: flag(r.retry_enabled),
    requestHeaders: JSON.parse(r.request_headers) as Record<string, string>,
    events: JSON.parse(r.events) as string[],
    createdAtUnix: big(r.created_at_unix),
    mostRecentFailureErrorCode: r.most_recent_failure_error_code,
    mostRecentFailureTimestamp: bigOrNull(r.most_recent_failure_timestamp),
    consecutiveFailures: r.consecutive_failures,
    lastSuccessAtMs: bigOrNull(r.last_success_at_ms),
  };
}

/** Reads a delivery row. */
export function toDelivery(r: DeliveryDbRow): OutgoingDelivery {
  return {
    seq: big(r.seq),
    deliveryId: r.delivery_id,
    webhookId: r.webhook_id,
    eventType: r.event_type as OutgoingEventType,
    conversationId: r.conversation_id,
    agentId: r.agent_id,
    eventTimestamp: big(r.event_timestamp),
    payload: r.payload,
    excludeTranscript: flag(r.exclude_transcript),
    maxAttempts: r.max_attempts,
    createdAtMs: big(r.created_at_ms),
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    nextAttemptAtMs: big(r.next_attempt_at_ms),
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    updatedAtMs: big(r.updated_at_ms),
  };
}

/** Reads an attempt row. */
export function toAttempt(r: AttemptDbRow): DeliveryAttempt {
  return {
    deliveryId: r.delivery_id,
    attempt: r.attempt,
    startedAtMs: big(r.started_at_ms),
    url: r.url,
    statusCode: r.status_code,
    error: r.error,
    latencyMs: big(r.latency_ms),
    responseHead: r.response_head,
  };
}
