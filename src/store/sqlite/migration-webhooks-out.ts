/**
 * Schema version 10: outgoing webhooks. `workspace_webhooks` holds the workspace's endpoints
 * (booleans as 0/1, headers and events as JSON text); `convai_settings` the workspace's ConvAI
 * settings document (one row, id 1); `outgoing_deliveries` the outbox and its log (a delivery
 * stays after it is delivered, failed or cancelled), in queue order (`seq`: AUTOINCREMENT, so a
 * seq is never reused); `outgoing_delivery_attempts` every attempt. A delivery has no foreign
 * key to its webhook: the log outlives a deleted webhook.
 */
export const sqliteWebhooksOutMigration = `
  CREATE TABLE workspace_webhooks (
    webhook_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    auth_type TEXT NOT NULL,
    is_disabled INTEGER NOT NULL,
    is_auto_disabled INTEGER NOT NULL,
    retry_enabled INTEGER NOT NULL,
    request_headers TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at_unix INTEGER NOT NULL,
    most_recent_failure_error_code INTEGER,
    most_recent_failure_timestamp INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_success_at_ms INTEGER
  );

  CREATE TABLE convai_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL
  );

  CREATE TABLE outgoing_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL UNIQUE,
    webhook_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    conversation_id TEXT,
    agent_id TEXT,
    event_timestamp INTEGER NOT NULL,
    payload TEXT,
    exclude_transcript INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    lease_node TEXT,
    lease_until_ms INTEGER,
    last_status_code INTEGER,
    last_error TEXT,
    updated_at_ms INTEGER NOT NULL
  );
  -- Claiming, one webhook at a time: its pending deliveries that are due, oldest due first. Only
  -- pending rows are in it, and a disabled webhook's backlog is never walked.
  CREATE INDEX outgoing_deliveries_due ON outgoing_deliveries (webhook_id, next_attempt_at_ms, seq)
    WHERE status = 'pending';
  -- The ordering check (an earlier pending delivery of the same conversation to the same webhook);
  -- only pending rows are in it, so it stays small however long the log grows.
  CREATE INDEX outgoing_deliveries_order ON outgoing_deliveries (webhook_id, conversation_id, seq)
    WHERE status = 'pending' AND conversation_id IS NOT NULL;
  -- A node's holds (released at its start).
  CREATE INDEX outgoing_deliveries_lease ON outgoing_deliveries (lease_node) WHERE lease_node IS NOT NULL;
  -- The log's filters, each newest first.
  CREATE INDEX outgoing_deliveries_status ON outgoing_deliveries (status, seq);
  CREATE INDEX outgoing_deliveries_webhook ON outgoing_deliveries (webhook_id, seq);
  CREATE INDEX outgoing_deliveries_conversation ON outgoing_deliveries (conversation_id, seq)
    WHERE conversation_id IS NOT NULL;
  CREATE INDEX outgoing_deliveries_created ON outgoing_deliveries (created_at_ms);

  CREATE TABLE outgoing_delivery_attempts (
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    url TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    latency_ms INTEGER NOT NULL,
    response_head TEXT,
    PRIMARY KEY (delivery_id, attempt)
  ) WITHOUT ROWID;
  `;
