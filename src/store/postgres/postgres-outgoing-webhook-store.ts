import type pg from "pg";
import {
  type AttemptDbRow,
  DELIVERY_COLUMNS,
  type DeliveryDbRow,
  toAttempt,
  toDelivery,
  toWebhook,
  type WebhookDbRow,
} from "../outgoing-webhook-db-rows.js";
import type {
  AttemptOutcome,
  AutoDisableRule,
  DeliveryAttempt,
  DeliveryFilter,
  NewOutgoingDelivery,
  OutgoingDelivery,
  OutgoingWebhookStore,
  WorkspaceWebhook,
  WorkspaceWebhookChange,
} from "../outgoing-webhook-store.js";
import { insertDeliveries } from "./outbox-sql.js";
import { toPgText } from "./pg-text.js";
import { inTransaction } from "./pg-transaction.js";

/** A millisecond time as a BIGINT can hold it. */
function toMs(value: number): number {
  return Math.floor(value);
}

/** The WHERE clause and parameters of a delivery-log filter (without its limit). */
function filterCondition(filter: DeliveryFilter, extra: string[] = []): { where: string; params: unknown[] } {
  const conditions = [...extra];
  const params: unknown[] = [];
  const bind = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.status !== undefined) conditions.push(`status = ${bind(filter.status)}`);
  if (filter.webhookId !== undefined) conditions.push(`webhook_id = ${bind(toPgText(filter.webhookId))}`);
  if (filter.conversationId !== undefined)
    conditions.push(`conversation_id = ${bind(toPgText(filter.conversationId))}`);
  if (filter.sinceMs !== undefined) conditions.push(`created_at_ms >= ${bind(Math.ceil(filter.sinceMs))}`);
  if (filter.beforeSeq !== undefined) conditions.push(`seq < ${bind(Math.ceil(filter.beforeSeq))}`);
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "", params };
}

/** The webhooks deliveries may go to (a delivery whose webhook is gone never goes). */
const ENABLED_WEBHOOKS_SQL =
  "SELECT webhook_id FROM workspace_webhooks WHERE NOT is_disabled AND NOT is_auto_disabled ORDER BY webhook_id";

/**
 * One webhook's deliveries that may go now, oldest due first, locked: $1 the webhook, $2 now, $3
 * how many. Due, pending, not held, and first in line (no pending delivery of the same
 * conversation to the same webhook queued before it). `FOR UPDATE SKIP LOCKED` skips rows another
 * node is claiming right now, and a row another node claimed and committed since this statement's
 * snapshot is checked again on its newest version, where its hold excludes it: no delivery is
 * claimed by two nodes at once. The walk starts at the webhook's own oldest due delivery
 * (outgoing_deliveries_due).
 */
const DUE_OF_WEBHOOK_SQL = `SELECT ${DELIVERY_COLUMNS} FROM outgoing_deliveries d
  WHERE d.webhook_id = $1 AND d.status = 'pending' AND d.next_attempt_at_ms <= $2
    AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= $2)
    AND NOT EXISTS (
      SELECT 1 FROM outgoing_deliveries e
      WHERE e.webhook_id = d.webhook_id AND e.conversation_id = d.conversation_id
        AND e.status = 'pending' AND e.conversation_id IS NOT NULL AND e.seq < d.seq
    )
  ORDER BY d.next_attempt_at_ms, d.seq
  LIMIT $3
  FOR UPDATE OF d SKIP LOCKED`;

/** Holds the claimed deliveries (their rows are locked by this transaction): $1 the node, $2 the hold's end, $3 their seqs. */
const HOLD_SQL =
  "UPDATE outgoing_deliveries SET lease_node = $1, lease_until_ms = $2 WHERE seq = ANY($3::bigint[])";

/**
 * A failed attempt's mark on its webhook: $1 the webhook, $2 the status code, $3 the attempt's
 * start (ms), $4 the rule's failures, $5 its quiet time (ms). Auto-disabled once it has failed
 * `failures` times in a row with no success within the quiet time (or ever).
 */
const WEBHOOK_FAILED_SQL = `UPDATE workspace_webhooks SET
    consecutive_failures = consecutive_failures + 1,
    most_recent_failure_error_code = $2,
    most_recent_failure_timestamp = floor($3::bigint / 1000.0)::bigint,
    is_auto_disabled = is_auto_disabled OR (
      consecutive_failures + 1 >= $4 AND (last_success_at_ms IS NULL OR last_success_at_ms < $3::bigint - $5::bigint)
    )
  WHERE webhook_id = $1`;

/** The settable webhook fields: the change's key, its column, and how it is stored. */
const WEBHOOK_CHANGES: readonly {
  key: keyof WorkspaceWebhookChange;
  column: string;
  value(change: WorkspaceWebhookChange): unknown;
}[] = [
  { key: "name", column: "name", value: (c) => toPgText(c.name) },
  { key: "isDisabled", column: "is_disabled", value: (c) => c.isDisabled },
  { key: "isAutoDisabled", column: "is_auto_disabled", value: (c) => c.isAutoDisabled },
  { key: "retryEnabled", column: "retry_enabled", value: (c) => c.retryEnabled },
  {
    key: "requestHeaders",
    column: "request_headers",
    value: (c) => toPgText(JSON.stringify(c.requestHeaders)),
  },
  { key: "events", column: "events", value: (c) => toPgText(JSON.stringify(c.events)) },
];

/** Outgoing webhooks in PostgreSQL: shared by every node, which claim deliveries without overlap. */
export class PostgresOutgoingWebhookStore implements OutgoingWebhookStore {
  constructor(private readonly pool: pg.Pool) {}

  async insertWebhook(w: WorkspaceWebhook): Promise<void> {
    await this.pool.query(
      `INSERT INTO workspace_webhooks (webhook_id, name, url, secret, auth_type, is_disabled, is_auto_disabled,
         retry_enabled, request_headers, events, created_at_unix, most_recent_failure_error_code,
         most_recent_failure_timestamp, consecutive_failures, last_success_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        toPgText(w.webhookId),
        toPgText(w.name),
        toPgText(w.url),
        toPgText(w.secret),
        w.authType,
        w.isDisabled,
        w.isAutoDisabled,
        w.retryEnabled,
        toPgText(JSON.stringify(w.requestHeaders)),
        toPgText(JSON.stringify(w.events)),
        Math.floor(w.createdAtUnix),
        w.mostRecentFailureErrorCode,
        w.mostRecentFailureTimestamp === null ? null : Math.floor(w.mostRecentFailureTimestamp),
        w.consecutiveFailures,
        w.lastSuccessAtMs === null ? null : toMs(w.lastSuccessAtMs),
      ],
    );
  }

  async listWebhooks(): Promise<WorkspaceWebhook[]> {
    const result = await this.pool.query<WebhookDbRow>(
      "SELECT * FROM workspace_webhooks ORDER BY created_at_unix, webhook_id",
    );
    return result.rows.map(toWebhook);
  }

  async getWebhook(webhookId: string): Promise<WorkspaceWebhook | undefined> {
    const result = await this.pool.query<WebhookDbRow>(
      "SELECT * FROM workspace_webhooks WHERE webhook_id = $1",
      [toPgText(webhookId)],
    );
    const row = result.rows[0];
    return row ? toWebhook(row) : undefined;
  }

  async updateWebhook(
    webhookId: string,
    change: WorkspaceWebhookChange,
  ): Promise<WorkspaceWebhook | undefined> {
    const params: unknown[] = [toPgText(webhookId)];
    const assignments: string[] = [];
    for (const field of WEBHOOK_CHANGES) {
      if (change[field.key] === undefined) continue;
      params.push(field.value(change));
      assignments.push(`${field.column} = $${params.length}`);
    }
    // Enabled again by hand: the failures that disabled it no longer count.
    if (change.isDisabled === false && change.isAutoDisabled === false)
      assignments.push("consecutive_failures = 0");
    if (assignments.length === 0) return this.getWebhook(webhookId);
    const result = await this.pool.query<WebhookDbRow>(
      `UPDATE workspace_webhooks SET ${assignments.join(", ")} WHERE webhook_id = $1 RETURNING *`,
      params,
    );
    const row = result.rows[0];
    return row ? toWebhook(row) : undefined;
  }

  async deleteWebhook(webhookId: string, nowMs: number): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const deleted = await client.query("DELETE FROM workspace_webhooks WHERE webhook_id = $1", [
        toPgText(webhookId),
      ]);
      if (deleted.rowCount === 0) return false;
      // Their holds go too: an attempt in flight for a cancelled delivery records nothing.
      await client.query(
        `UPDATE outgoing_deliveries SET status = 'cancelled', lease_node = NULL, lease_until_ms = NULL, updated_at_ms = $2
         WHERE webhook_id = $1 AND status = 'pending'`,
        [toPgText(webhookId), toMs(nowMs)],
      );
      return true;
    });
  }

  async getSettings(): Promise<string | undefined> {
    const result = await this.pool.query<{ json: string }>("SELECT json FROM convai_settings WHERE id = 1");
    return result.rows[0]?.json;
  }

  async putSettings(json: string): Promise<void> {
    await this.pool.query(
      "INSERT INTO convai_settings (id, json) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET json = excluded.json",
      [toPgText(json)],
    );
  }

  async enqueue(deliveries: readonly NewOutgoingDelivery[]): Promise<void> {
    // One statement: atomic on its own.
    await insertDeliveries(this.pool, deliveries);
  }

  async claimDue(
    nodeId: string,
    nowMs: number,
    limit: number,
    leaseMs: number,
    perWebhookLimit: number,
  ): Promise<OutgoingDelivery[]> {
    const total = Math.floor(limit);
    // No webhook can have more kept than the whole claim.
    const perWebhook = Math.min(total, Math.floor(perWebhookLimit));
    if (perWebhook <= 0) return [];
    const now = toMs(nowMs);
    return inTransaction(this.pool, async (client) => {
      const webhooks = await client.query<{ webhook_id: string }>(ENABLED_WEBHOOKS_SQL);
      const candidates: OutgoingDelivery[] = [];
      for (const { webhook_id } of webhooks.rows) {
        const due = await client.query<DeliveryDbRow>(DUE_OF_WEBHOOK_SQL, [webhook_id, now, perWebhook]);
        for (const row of due.rows) candidates.push(toDelivery(row));
      }
      candidates.sort((a, b) => a.nextAttemptAtMs - b.nextAttemptAtMs || a.seq - b.seq);
      // Rows locked but not kept are left as they are: their locks go with the commit.
      const kept = candidates.slice(0, total);
      if (kept.length > 0) {
        await client.query(HOLD_SQL, [toPgText(nodeId), now + toMs(leaseMs), kept.map((d) => d.seq)]);
      }
      return kept;
    });
  }

  async recordAttempt(
    nodeId: string,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
    rule: AutoDisableRule | null,
  ): Promise<boolean> {
    const startedAtMs = toMs(attempt.startedAtMs);
    const updatedAtMs = toMs(attempt.startedAtMs + attempt.latencyMs);
    return inTransaction(this.pool, async (client) => {
      const updated = await client.query<{ webhook_id: string }>(
        `UPDATE outgoing_deliveries SET attempts = attempts + 1, status = $3,
           next_attempt_at_ms = COALESCE($4, next_attempt_at_ms), lease_node = NULL, lease_until_ms = NULL,
           last_status_code = $5, last_error = $6, updated_at_ms = $7
         WHERE delivery_id = $1 AND lease_node = $2 AND status = 'pending'
         RETURNING webhook_id`,
        [
          toPgText(attempt.deliveryId),
          toPgText(nodeId),
          outcome.status,
          outcome.status === "pending" ? toMs(outcome.nextAttemptAtMs) : null,
          attempt.statusCode,
          toPgText(attempt.error),
          updatedAtMs,
        ],
      );
      const webhookId = updated.rows[0]?.webhook_id;
      if (webhookId === undefined) return false;
      await client.query(
        `INSERT INTO outgoing_delivery_attempts
           (delivery_id, attempt, started_at_ms, url, status_code, error, latency_ms, response_head)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          toPgText(attempt.deliveryId),
          attempt.attempt,
          startedAtMs,
          toPgText(attempt.url),
          attempt.statusCode,
          toPgText(attempt.error),
          Math.round(attempt.latencyMs),
          toPgText(attempt.responseHead),
        ],
      );
      if (outcome.status === "delivered") {
        await client.query(
          "UPDATE workspace_webhooks SET consecutive_failures = 0, last_success_at_ms = $2 WHERE webhook_id = $1",
          [webhookId, startedAtMs],
        );
      } else if (rule) {
        await client.query(WEBHOOK_FAILED_SQL, [
          webhookId,
          attempt.statusCode,
          startedAtMs,
          rule.failures,
          toMs(rule.quietMs),
        ]);
      }
      return true;
    });
  }

  async defer(nodeId: string, deliveryId: string, nextAttemptAtMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE outgoing_deliveries SET next_attempt_at_ms = $3, lease_node = NULL, lease_until_ms = NULL
       WHERE delivery_id = $1 AND lease_node = $2 AND status = 'pending'`,
      [toPgText(deliveryId), toPgText(nodeId), toMs(nextAttemptAtMs)],
    );
  }

  async releaseNode(nodeId: string): Promise<number> {
    const result = await this.pool.query(
      "UPDATE outgoing_deliveries SET lease_node = NULL, lease_until_ms = NULL WHERE lease_node = $1",
      [toPgText(nodeId)],
    );
    return result.rowCount ?? 0;
  }

  async countQueuedDeliveries(): Promise<number> {
    const result = await this.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outgoing_deliveries WHERE status = 'pending'",
    );
    return result.rows[0]?.n ?? 0;
  }

  async listDeliveries(filter: DeliveryFilter): Promise<OutgoingDelivery[]> {
    const { where, params } = filterCondition(filter);
    params.push(Math.max(0, Math.floor(filter.limit)));
    const result = await this.pool.query<DeliveryDbRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM outgoing_deliveries ${where} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    return result.rows.map(toDelivery);
  }

  async getDelivery(
    deliveryId: string,
  ): Promise<{ delivery: OutgoingDelivery; attempts: DeliveryAttempt[] } | undefined> {
    const id = toPgText(deliveryId);
    const found = await this.pool.query<DeliveryDbRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM outgoing_deliveries WHERE delivery_id = $1`,
      [id],
    );
    const row = found.rows[0];
    if (!row) return undefined;
    const attempts = await this.pool.query<AttemptDbRow>(
      "SELECT * FROM outgoing_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt",
      [id],
    );
    return { delivery: toDelivery(row), attempts: attempts.rows.map(toAttempt) };
  }

  async redeliver(
    selection: { deliveryIds: string[] } | { filter: DeliveryFilter },
    nowMs: number,
    extraAttempts: number,
  ): Promise<number> {
    let selected: string;
    let params: unknown[];
    if ("deliveryIds" in selection) {
      if (selection.deliveryIds.length === 0) return 0;
      params = [selection.deliveryIds.map(toPgText)];
      selected = "delivery_id = ANY($1::text[])";
    } else {
      // The newest `limit` deliveries the filter matches, cancelled ones left out before the limit.
      const filter = filterCondition(selection.filter, ["status <> 'cancelled'"]);
      params = filter.params;
      params.push(Math.max(0, Math.floor(selection.filter.limit)));
      selected = `seq IN (SELECT seq FROM outgoing_deliveries ${filter.where} ORDER BY seq DESC LIMIT $${params.length})`;
    }
    params.push(toMs(nowMs), Math.floor(extraAttempts));
    const now = `$${params.length - 1}`;
    const extra = `$${params.length}`;
    const result = await this.pool.query(
      `UPDATE outgoing_deliveries SET status = 'pending', next_attempt_at_ms = ${now},
         max_attempts = attempts + ${extra}::int, lease_node = NULL, lease_until_ms = NULL, updated_at_ms = ${now}
       WHERE ${selected} AND status <> 'cancelled'
         AND NOT (status = 'pending' AND lease_until_ms IS NOT NULL AND lease_until_ms > ${now})`,
      params,
    );
    return result.rowCount ?? 0;
  }
}
