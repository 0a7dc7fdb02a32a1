/**
 * Outgoing webhooks, the same tables as SQLite's: the workspace's webhook endpoints, the ConvAI
 * settings document (one row), the outbox of deliveries and the log of their attempts.
 *
 * The partial indexes cover what the senders ask all the time, over pending deliveries only: a
 * webhook's due ones in order (claiming, one enabled webhook at a time, so a disabled webhook's
 * backlog is never walked) and whether one queued earlier for the same webhook and conversation
 * is still pending (ordering). The others serve the delivery log's filters, newest
 * first by `seq`, and a node releasing its holds.
 */
export const postgresWebhooksOutMigration = `
  CREATE TABLE workspace_webhooks (
    webhook_id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    auth_type TEXT NOT NULL,
    is_disabled BOOLEAN NOT NULL,
    is_auto_disabled BOOLEAN NOT NULL,
    retry_enabled BOOLEAN NOT NULL,
    request_headers TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at_unix BIGINT NOT NULL,
    most_recent_failure_error_code INTEGER,
    most_recent_failure_timestamp BIGINT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_success_at_ms BIGINT
  );

  CREATE TABLE convai_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL
  );

  CREATE TABLE outgoing_deliveries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id TEXT COLLATE "C" NOT NULL UNIQUE,
    webhook_id TEXT COLLATE "C" NOT NULL,
    event_type TEXT NOT NULL,
    conversation_id TEXT COLLATE "C",
    agent_id TEXT,
    event_timestamp BIGINT NOT NULL,
    payload TEXT,
    exclude_transcript BOOLEAN NOT NULL,
    max_attempts INTEGER NOT NULL,
    created_at_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    lease_node TEXT COLLATE "C",
    lease_until_ms BIGINT,
    last_status_code INTEGER,
    last_error TEXT,
    updated_at_ms BIGINT NOT NULL
  );
  CREATE INDEX outgoing_deliveries_due ON outgoing_deliveries (webhook_id, next_attempt_at_ms, seq)
    WHERE status = 'pending';
  CREATE INDEX outgoing_deliveries_order ON outgoing_deliveries (webhook_id, conversation_id, seq)
    WHERE status = 'pending' AND conversation_id IS NOT NULL;
  CREATE INDEX outgoing_deliveries_status ON outgoing_deliveries (status, seq);
  CREATE INDEX outgoing_deliveries_webhook ON outgoing_deliveries (webhook_id, seq);
  CREATE INDEX outgoing_deliveries_conversation ON outgoing_deliveries (conversation_id, seq)
    WHERE conversation_id IS NOT NULL;
  CREATE INDEX outgoing_deliveries_created ON outgoing_deliveries (created_at_ms);
  CREATE INDEX outgoing_deliveries_lease ON outgoing_deliveries (lease_node) WHERE lease_node IS NOT NULL;

  CREATE TABLE outgoing_delivery_attempts (
    delivery_id TEXT COLLATE "C" NOT NULL,
    attempt INTEGER NOT NULL,
    started_at_ms BIGINT NOT NULL,
    url TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    latency_ms BIGINT NOT NULL,
    response_head TEXT,
    PRIMARY KEY (delivery_id, attempt)
  );
  `;
