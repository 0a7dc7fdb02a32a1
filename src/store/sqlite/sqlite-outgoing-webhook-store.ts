import type BetterSqlite3 from "better-sqlite3";
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
import { SqliteOutbox } from "./outbox-sql.js";

/** A webhook's column values, named as the statements bind them. */
function webhookParams(w: WorkspaceWebhook) {
  return {
    webhookId: w.webhookId,
    name: w.name,
    url: w.url,
    secret: w.secret,
    authType: w.authType,
    isDisabled: w.isDisabled ? 1 : 0,
    isAutoDisabled: w.isAutoDisabled ? 1 : 0,
    retryEnabled: w.retryEnabled ? 1 : 0,
    requestHeaders: JSON.stringify(w.requestHeaders),
    events: JSON.stringify(w.events),
    createdAtUnix: w.createdAtUnix,
    mostRecentFailureErrorCode: w.mostRecentFailureErrorCode,
    mostRecentFailureTimestamp: w.mostRecentFailureTimestamp,
    consecutiveFailures: w.consecutiveFailures,
    lastSuccessAtMs: w.lastSuccessAtMs,
  };
}

/**
 * The WHERE clause of a delivery filter (without its limit) and its parameters. Only the terms
 * a filter sets are written, so each shape gets the plan of its own index.
 */
function filterWhere(filter: DeliveryFilter, extra: string[] = []): { where: string; params: unknown[] } {
  const terms = [...extra];
  const params: unknown[] = [];
  if (filter.status !== undefined) {
    terms.push("status = ?");
    params.push(filter.status);
  }
  if (filter.webhookId !== undefined) {
    terms.push("webhook_id = ?");
    params.push(filter.webhookId);
  }
  if (filter.conversationId !== undefined) {
    terms.push("conversation_id = ?");
    params.push(filter.conversationId);
  }
  if (filter.sinceMs !== undefined) {
    terms.push("created_at_ms >= ?");
    params.push(filter.sinceMs);
  }
  if (filter.beforeSeq !== undefined) {
    terms.push("seq < ?");
    params.push(filter.beforeSeq);
  }
  return { where: terms.length > 0 ? `WHERE ${terms.join(" AND ")}` : "", params };
}

/** The workspace's outgoing webhooks, its ConvAI settings, the outbox and the delivery log, in SQLite. */
export class SqliteOutgoingWebhookStore implements OutgoingWebhookStore {
  private readonly statements;
  private readonly outbox: SqliteOutbox;
  /** Prepared statements of the log's filters by SQL text (a few dozen shapes at most). */
  private readonly prepared = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly db: BetterSqlite3.Database) {
    this.outbox = new SqliteOutbox(db);
    this.statements = {
      insertWebhook: db.prepare(
        `INSERT INTO workspace_webhooks (webhook_id, name, url, secret, auth_type, is_disabled, is_auto_disabled,
           retry_enabled, request_headers, events, created_at_unix, most_recent_failure_error_code,
           most_recent_failure_timestamp, consecutive_failures, last_success_at_ms)
         VALUES (@webhookId, @name, @url, @secret, @authType, @isDisabled, @isAutoDisabled, @retryEnabled,
           @requestHeaders, @events, @createdAtUnix, @mostRecentFailureErrorCode, @mostRecentFailureTimestamp,
           @consecutiveFailures, @lastSuccessAtMs)`,
      ),
      listWebhooks: db.prepare("SELECT * FROM workspace_webhooks ORDER BY created_at_unix, webhook_id"),
      getWebhook: db.prepare("SELECT * FROM workspace_webhooks WHERE webhook_id = ?"),
      updateWebhook: db.prepare(
        `UPDATE workspace_webhooks SET name = @name, is_disabled = @isDisabled, is_auto_disabled = @isAutoDisabled,
           retry_enabled = @retryEnabled, request_headers = @requestHeaders, events = @events,
           consecutive_failures = @consecutiveFailures
         WHERE webhook_id = @webhookId RETURNING *`,
      ),
      deleteWebhook: db.prepare("DELETE FROM workspace_webhooks WHERE webhook_id = ?"),
      cancelPending: db.prepare(
        `UPDATE outgoing_deliveries SET status = 'cancelled', lease_node = NULL, lease_until_ms = NULL, updated_at_ms = ?
         WHERE webhook_id = ? AND status = 'pending'`,
      ),
      getSettings: db.prepare("SELECT json FROM convai_settings WHERE id = 1"),
      putSettings: db.prepare(
        "INSERT INTO convai_settings (id, json) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json",
      ),
      // The webhooks deliveries may go to (a delivery whose webhook is gone never goes).
      enabledWebhooks: db.prepare(
        "SELECT webhook_id FROM workspace_webhooks WHERE is_disabled = 0 AND is_auto_disabled = 0 ORDER BY webhook_id",
      ),
      // One webhook's deliveries that may go now, oldest due first: due, pending, not held, and
      // first in line: no pending delivery of the same conversation to the same webhook queued
      // before it (deliveries of no conversation have no order to keep). The walk starts at the
      // webhook's own oldest due delivery (outgoing_deliveries_due).
      dueOfWebhook: db.prepare(
        `SELECT ${DELIVERY_COLUMNS} FROM outgoing_deliveries d
         WHERE d.webhook_id = @webhookId AND d.status = 'pending' AND d.next_attempt_at_ms <= @now
           AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= @now)
           AND (d.conversation_id IS NULL OR NOT EXISTS (
             SELECT 1 FROM outgoing_deliveries e
             WHERE e.webhook_id = d.webhook_id AND e.conversation_id = d.conversation_id
               AND e.status = 'pending' AND e.seq < d.seq))
         ORDER BY d.next_attempt_at_ms, d.seq LIMIT @limit`,
      ),
      hold: db.prepare("UPDATE outgoing_deliveries SET lease_node = ?, lease_until_ms = ? WHERE seq = ?"),
      heldBy: db.prepare(
        "SELECT webhook_id FROM outgoing_deliveries WHERE delivery_id = ? AND lease_node = ? AND status = 'pending'",
      ),
      insertAttempt: db.prepare(
        `INSERT INTO outgoing_delivery_attempts (delivery_id, attempt, started_at_ms, url, status_code, error,
           latency_ms, response_head)
         VALUES (@deliveryId, @attempt, @startedAtMs, @url, @statusCode, @error, @latencyMs, @responseHead)`,
      ),
      // The attempt's end is the delivery's last change (the store is given no clock of its own here).
      afterAttempt: db.prepare(
        `UPDATE outgoing_deliveries SET attempts = attempts + 1, status = @status,
           next_attempt_at_ms = coalesce(@nextAttemptAtMs, next_attempt_at_ms), lease_node = NULL,
           lease_until_ms = NULL, last_status_code = @statusCode, last_error = @error, updated_at_ms = @endedAtMs
         WHERE delivery_id = @deliveryId`,
      ),
      webhookSucceeded: db.prepare(
        "UPDATE workspace_webhooks SET consecutive_failures = 0, last_success_at_ms = ? WHERE webhook_id = ?",
      ),
      // Every right-hand side reads the row as it was: consecutive_failures + 1 is the new count.
      webhookFailed: db.prepare(
        `UPDATE workspace_webhooks SET consecutive_failures = consecutive_failures + 1,
           most_recent_failure_error_code = @statusCode, most_recent_failure_timestamp = @failedAtUnix,
           is_auto_disabled = CASE WHEN is_auto_disabled <> 0 OR (consecutive_failures + 1 >= @failures
             AND (last_success_at_ms IS NULL OR last_success_at_ms < @startedAtMs - @quietMs)) THEN 1 ELSE 0 END
         WHERE webhook_id = @webhookId`,
      ),
      defer: db.prepare(
        `UPDATE outgoing_deliveries SET next_attempt_at_ms = ?, lease_node = NULL, lease_until_ms = NULL
         WHERE delivery_id = ? AND lease_node = ? AND status = 'pending'`,
      ),
      releaseNode: db.prepare(
        "UPDATE outgoing_deliveries SET lease_node = NULL, lease_until_ms = NULL WHERE lease_node = ?",
      ),
      countQueued: db.prepare("SELECT count(*) AS n FROM outgoing_deliveries WHERE status = 'pending'"),
      getDelivery: db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM outgoing_deliveries WHERE delivery_id = ?`),
      attemptsOf: db.prepare(
        "SELECT * FROM outgoing_delivery_attempts WHERE delivery_id = ? ORDER BY attempt",
      ),
      redeliverOne: db.prepare(
        `UPDATE outgoing_deliveries SET status = 'pending', next_attempt_at_ms = @now,
           max_attempts = attempts + @extraAttempts, lease_node = NULL, lease_until_ms = NULL, updated_at_ms = @now
         WHERE delivery_id = @deliveryId AND status <> 'cancelled'
           AND NOT (status = 'pending' AND lease_until_ms IS NOT NULL AND lease_until_ms > @now)`,
      ),
    };
  }

  private prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  async insertWebhook(webhook: WorkspaceWebhook): Promise<void> {
    this.statements.insertWebhook.run(webhookParams(webhook));
  }

  async listWebhooks(): Promise<WorkspaceWebhook[]> {
    return (this.statements.listWebhooks.all() as WebhookDbRow[]).map(toWebhook);
  }

  async getWebhook(webhookId: string): Promise<WorkspaceWebhook | undefined> {
    const row = this.statements.getWebhook.get(webhookId) as WebhookDbRow | undefined;
    return row ? toWebhook(row) : undefined;
  }

  async updateWebhook(
    webhookId: string,
    change: WorkspaceWebhookChange,
  ): Promise<WorkspaceWebhook | undefined> {
    const s = this.statements;
    return this.db
      .transaction(() => {
        const row = s.getWebhook.get(webhookId) as WebhookDbRow | undefined;
        if (!row) return undefined;
        const current = toWebhook(row);
        const enabled = change.isDisabled === false && change.isAutoDisabled === false;
        const next: WorkspaceWebhook = {
          ...current,
          name: change.name ?? current.name,
          isDisabled: change.isDisabled ?? current.isDisabled,
          isAutoDisabled: change.isAutoDisabled ?? current.isAutoDisabled,
          retryEnabled: change.retryEnabled ?? current.retryEnabled,
          requestHeaders: change.requestHeaders ?? current.requestHeaders,
          events: change.events ?? current.events,
          consecutiveFailures: enabled ? 0 : current.consecutiveFailures,
        };
        return toWebhook(s.updateWebhook.get(webhookParams(next)) as WebhookDbRow);
      })
      .immediate();
  }

  async deleteWebhook(webhookId: string, nowMs: number): Promise<boolean> {
    const s = this.statements;
    return this.db
      .transaction(() => {
        if (s.deleteWebhook.run(webhookId).changes === 0) return false;
        s.cancelPending.run(nowMs, webhookId);
        return true;
      })
      .immediate();
  }

  async getSettings(): Promise<string | undefined> {
    return (this.statements.getSettings.get() as { json: string } | undefined)?.json;
  }

  async putSettings(json: string): Promise<void> {
    this.statements.putSettings.run(json);
  }

  async enqueue(deliveries: readonly NewOutgoingDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    this.db.transaction(() => this.outbox.insertDeliveries(deliveries)).immediate();
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
    const s = this.statements;
    // IMMEDIATE: no other connection claims between the reads and the holds.
    return this.db
      .transaction(() => {
        const candidates: OutgoingDelivery[] = [];
        for (const { webhook_id } of s.enabledWebhooks.all() as { webhook_id: string }[]) {
          const due = s.dueOfWebhook.all({ webhookId: webhook_id, now: nowMs, limit: perWebhook });
          for (const row of due as DeliveryDbRow[]) candidates.push(toDelivery(row));
        }
        candidates.sort((a, b) => a.nextAttemptAtMs - b.nextAttemptAtMs || a.seq - b.seq);
        const kept = candidates.slice(0, total);
        for (const delivery of kept) s.hold.run(nodeId, nowMs + leaseMs, delivery.seq);
        return kept;
      })
      .immediate();
  }

  async recordAttempt(
    nodeId: string,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
    rule: AutoDisableRule | null,
  ): Promise<boolean> {
    const s = this.statements;
    return this.db
      .transaction(() => {
        const held = s.heldBy.get(attempt.deliveryId, nodeId) as { webhook_id: string } | undefined;
        if (!held) return false;
        s.insertAttempt.run({ ...attempt });
        s.afterAttempt.run({
          deliveryId: attempt.deliveryId,
          status: outcome.status,
          nextAttemptAtMs: outcome.status === "pending" ? outcome.nextAttemptAtMs : null,
          statusCode: attempt.statusCode,
          error: attempt.error,
          endedAtMs: attempt.startedAtMs + attempt.latencyMs,
        });
        if (outcome.status === "delivered") {
          s.webhookSucceeded.run(attempt.startedAtMs, held.webhook_id);
        } else if (rule) {
          s.webhookFailed.run({
            webhookId: held.webhook_id,
            statusCode: attempt.statusCode,
            failedAtUnix: Math.floor(attempt.startedAtMs / 1000),
            failures: rule.failures,
            startedAtMs: attempt.startedAtMs,
            quietMs: rule.quietMs,
          });
        }
        return true;
      })
      .immediate();
  }

  async defer(nodeId: string, deliveryId: string, nextAttemptAtMs: number): Promise<void> {
    this.statements.defer.run(nextAttemptAtMs, deliveryId, nodeId);
  }

  async releaseNode(nodeId: string): Promise<number> {
    return this.statements.releaseNode.run(nodeId).changes;
  }

  async countQueuedDeliveries(): Promise<number> {
    return (this.statements.countQueued.get() as { n: number }).n;
  }

  async listDeliveries(filter: DeliveryFilter): Promise<OutgoingDelivery[]> {
    const { where, params } = filterWhere(filter);
    const sql = `SELECT ${DELIVERY_COLUMNS} FROM outgoing_deliveries ${where} ORDER BY seq DESC LIMIT ?`;
    return (this.prepare(sql).all(...params, filter.limit) as DeliveryDbRow[]).map(toDelivery);
  }

  async getDelivery(
    deliveryId: string,
  ): Promise<{ delivery: OutgoingDelivery; attempts: DeliveryAttempt[] } | undefined> {
    const s = this.statements;
    // One read transaction: the delivery and its attempts as of one moment.
    return this.db.transaction(() => {
      const row = s.getDelivery.get(deliveryId) as DeliveryDbRow | undefined;
      if (!row) return undefined;
      const attempts = (s.attemptsOf.all(deliveryId) as AttemptDbRow[]).map(toAttempt);
      return { delivery: toDelivery(row), attempts };
    })();
  }

  async redeliver(
    selection: { deliveryIds: string[] } | { filter: DeliveryFilter },
    nowMs: number,
    extraAttempts: number,
  ): Promise<number> {
    if ("deliveryIds" in selection) {
      const ids = [...new Set(selection.deliveryIds)];
      if (ids.length === 0) return 0;
      return this.db
        .transaction(() => {
          let queued = 0;
          for (const deliveryId of ids) {
            queued += this.statements.redeliverOne.run({ deliveryId, now: nowMs, extraAttempts }).changes;
          }
          return queued;
        })
        .immediate();
    }
    // The newest `limit` deliveries the filter matches, cancelled ones left out before the limit.
    const { where, params } = filterWhere(selection.filter, ["status <> 'cancelled'"]);
    const sql = `UPDATE outgoing_deliveries SET status = 'pending', next_attempt_at_ms = ?,
        max_attempts = attempts + ?, lease_node = NULL, lease_until_ms = NULL, updated_at_ms = ?
      WHERE seq IN (SELECT seq FROM outgoing_deliveries ${where} ORDER BY seq DESC LIMIT ?)
        AND NOT (status = 'pending' AND lease_until_ms IS NOT NULL AND lease_until_ms > ?)`;
    const statement = this.prepare(sql);
    return this.db
      .transaction(
        () => statement.run(nowMs, extraAttempts, nowMs, ...params, selection.filter.limit, nowMs).changes,
      )
      .immediate();
  }
}
