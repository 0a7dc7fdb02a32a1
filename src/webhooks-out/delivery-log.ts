import { InvalidInputError, NotFoundError, type ValidationIssue } from "../domain/errors.js";
import type {
  DeliveryAttempt,
  DeliveryFilter,
  DeliveryStatus,
  OutgoingDelivery,
  OutgoingWebhookStore,
} from "../store/outgoing-webhook-store.js";

/** The most deliveries one `redeliverMatching` call queues again (newest first); call it again for more. */
export const MAX_REDELIVER_MATCHING = 100_000;

/** The kind a delivery-log cursor carries (the cursor is opaque to clients). */
const CURSOR_KIND = "webhook_delivery";

/** What `since` accepts, said once for every error and help text that names it. */
export const SINCE_FORMS =
  "Unix seconds (1764400000), an ISO-8601 time (2026-11-28 or 2026-11-28T09:30:00Z; UTC without an offset) " +
  "or a time ago (30m, 24h, 7d)";

const AGO_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The latest time `since` may name: 9999-12-31T23:59:59Z. */
const MAX_SINCE_MS = 253_402_300_799_000;

/**
 * Reads a `since` time, as the API's query and body and the CLI's `--since` take it, into Unix
 * milliseconds: Unix seconds (`1764400000`, decimals allowed), an ISO-8601 date or time
 * (`2026-11-28`, `2026-11-28T09:30:00Z`, `2026-11-28T10:30:00+01:00`; a time without an offset is
 * UTC, whatever the server's time zone), or a time before `nowMs` (`30m`, `24h`, `7d`, `90s`).
 * Undefined when it is none of these.
 */
export function parseSince(raw: string, nowMs: number): number | undefined {
  const text = raw.trim();
  let ms: number | undefined;
  const ago = /^(\d{1,9})([smhd])$/.exec(text);
  if (ago) {
    ms = nowMs - Number(ago[1]) * (AGO_UNIT_MS[ago[2] ?? "s"] ?? 1000);
  } else if (/^\d{1,12}(\.\d{1,6})?$/.test(text)) {
    ms = Math.round(Number(text) * 1000);
  } else if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) {
    // JavaScript reads a date-time without an offset as local time; here it is UTC on every server.
    const dateTime = text.length > 10 && !/(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? `${text}Z` : text;
    ms = Date.parse(dateTime.replace(" ", "T"));
  }
  return ms !== undefined && Number.isFinite(ms) && ms >= 0 && ms <= MAX_SINCE_MS ? ms : undefined;
}

/** A delivery as the log lists it (the API's and the CLI's `--json` wire shape). */
export interface DeliverySummary {
  delivery_id: string;
  webhook_id: string;
  event_type: string;
  conversation_id: string | null;
  agent_id: string | null;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** Attempts it may have in all (a replay adds to it). */
  max_attempts: number;
  created_at_unix: number;
  /** When the next attempt is due; only while it is pending. */
  next_attempt_at_unix?: number;
  last_status_code: number | null;
  last_error: string | null;
}

/** One attempt, as the log shows it. */
export interface DeliveryAttemptView {
  attempt: number;
  started_at_unix_ms: number;
  url: string;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  /** The first KiB of the answer's body. */
  response_head: string | null;
}

/** A delivery with its attempts, oldest first: in the detail, `attempts` is the list (its length is the count). */
export type DeliveryDetail = Omit<DeliverySummary, "attempts"> & { attempts: DeliveryAttemptView[] };

/** A page of the log, newest first. */
export interface DeliveryPage {
  deliveries: DeliverySummary[];
  /** Pass it as `cursor` for the next page; null on the last. */
  next_cursor: string | null;
  has_more: boolean;
}

/** What the log can be filtered by. `since` is as `parseSince` reads it. */
export interface DeliveryListQuery {
  status?: DeliveryStatus;
  webhookId?: string;
  conversationId?: string;
  since?: string;
  /** The `next_cursor` of the previous page. */
  cursor?: string;
  pageSize: number;
}

/** Which deliveries to queue again: at least one filter is required. */
export interface RedeliverSelection {
  status?: "failed";
  /** As `parseSince` reads it: deliveries queued at or after. */
  since?: string;
  webhookId?: string;
}

/** What the delivery log is built from. */
export interface DeliveryLogDeps {
  store: OutgoingWebhookStore;
  /** The retry schedule (`config.webhooksOut.retryScheduleMs`): a replay gets as many more attempts as it has steps. */
  retryScheduleMs: readonly number[];
  /** Wakes this node's sender so a replay goes out at once (a command line passes a no-op: the server's next poll sends it). */
  notify: () => void;
  /** The clock, in Unix ms. */
  now?: () => number;
}

/** A delivery in the log's wire shape. */
function summarize(d: OutgoingDelivery): DeliverySummary {
  return {
    delivery_id: d.deliveryId,
    webhook_id: d.webhookId,
    event_type: d.eventType,
    conversation_id: d.conversationId,
    agent_id: d.agentId,
    status: d.status,
    attempts: d.attempts,
    max_attempts: d.maxAttempts,
    created_at_unix: Math.floor(d.createdAtMs / 1000),
    ...(d.status === "pending" ? { next_attempt_at_unix: Math.floor(d.nextAttemptAtMs / 1000) } : {}),
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
  };
}

/** An attempt in the log's wire shape. */
function showAttempt(a: DeliveryAttempt): DeliveryAttemptView {
  return {
    attempt: a.attempt,
    started_at_unix_ms: a.startedAtMs,
    url: a.url,
    status_code: a.statusCode,
    error: a.error,
    latency_ms: a.latencyMs,
    response_head: a.responseHead,
  };
}

/** The cursor after the delivery at `seq` (base64url JSON `[kind, seq]`, as src/api/seq-cursor.ts makes them). */
function encodeCursor(seq: number): string {
  return Buffer.from(JSON.stringify([CURSOR_KIND, seq])).toString("base64url");
}

/** The position a cursor names, or a 422 naming `cursor`. */
function decodeCursor(cursor: string): number {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value[0] === CURSOR_KIND && Number.isSafeInteger(value[1])) {
      return value[1] as number;
    }
  } catch {
    // reported below
  }
  throw new InvalidInputError([
    {
      loc: ["query", "cursor"],
      msg: "Invalid cursor: pass the next_cursor of the previous page, or no cursor for the first.",
      type: "value_error",
    },
  ]);
}

/**
 * The log of outgoing webhook deliveries and their replay, over the outgoing-webhook store: what
 * the API's `/v1/workspace/webhooks/deliveries` routes and `openconvai webhooks deliveries|redeliver`
 * share. A replay keeps the delivery's id (receivers drop duplicates by it) and its log, and gives
 * it as many more attempts as the retry schedule has steps.
 */
export class DeliveryLog {
  private readonly store: OutgoingWebhookStore;
  private readonly extraAttempts: number;
  private readonly notify: () => void;
  private readonly now: () => number;

  constructor(deps: DeliveryLogDeps) {
    this.store = deps.store;
    this.extraAttempts = deps.retryScheduleMs.length;
    this.notify = deps.notify;
    this.now = deps.now ?? Date.now;
  }

  /** A page of deliveries, newest first (by queue order), filtered. */
  async list(query: DeliveryListQuery): Promise<DeliveryPage> {
    const filter: DeliveryFilter = {
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.webhookId !== undefined ? { webhookId: query.webhookId } : {}),
      ...(query.conversationId !== undefined ? { conversationId: query.conversationId } : {}),
      ...(query.since !== undefined ? { sinceMs: this.since(query.since, ["query", "since"]) } : {}),
      ...(query.cursor ? { beforeSeq: decodeCursor(query.cursor) } : {}),
      limit: query.pageSize + 1,
    };
    const rows = await this.store.listDeliveries(filter);
    const hasMore = rows.length > query.pageSize;
    const page = rows.slice(0, query.pageSize);
    const last = page[page.length - 1];
    return {
      deliveries: page.map(summarize),
      next_cursor: hasMore && last ? encodeCursor(last.seq) : null,
      has_more: hasMore,
    };
  }

  /** A delivery with every attempt, oldest first; NotFoundError when there is no such delivery. */
  async get(deliveryId: string): Promise<DeliveryDetail> {
    const found = await this.store.getDelivery(deliveryId);
    if (!found) throw notFound(deliveryId);
    return { ...summarize(found.delivery), attempts: found.attempts.map(showAttempt) };
  }

  /**
   * Queues one delivery again, due now (a delivered one too: a receiver that lost it gets it
   * again, with the same id). A cancelled delivery (its webhook was deleted) is not: 0.
   */
  async redeliver(deliveryId: string): Promise<{ redelivered: number }> {
    if (!(await this.store.getDelivery(deliveryId))) throw notFound(deliveryId);
    return this.queueAgain({ deliveryIds: [deliveryId] });
  }

  /**
   * Queues again every delivery that matches (`status: "failed"`, queued `since`, to one
   * webhook), due now, at most MAX_REDELIVER_MATCHING of them, newest first. At least one filter
   * is required, so that a call without one cannot replay the whole log.
   */
  async redeliverMatching(selection: RedeliverSelection): Promise<{ redelivered: number }> {
    const { status, since, webhookId } = selection;
    if (status === undefined && since === undefined && webhookId === undefined) {
      throw new InvalidInputError([
        {
          loc: ["body"],
          msg: 'Give at least one filter ("status": "failed", "since" or "webhook_id"): a replay of the whole log is refused.',
          type: "missing",
        },
      ]);
    }
    const filter: DeliveryFilter = {
      ...(status !== undefined ? { status } : {}),
      ...(webhookId !== undefined ? { webhookId } : {}),
      ...(since !== undefined ? { sinceMs: this.since(since, ["body", "since"]) } : {}),
      limit: MAX_REDELIVER_MATCHING,
    };
    return this.queueAgain({ filter });
  }

  private async queueAgain(
    selection: { deliveryIds: string[] } | { filter: DeliveryFilter },
  ): Promise<{ redelivered: number }> {
    const redelivered = await this.store.redeliver(selection, this.now(), this.extraAttempts);
    if (redelivered > 0) this.notify();
    return { redelivered };
  }

  /** `since` in Unix ms, or a 422 at `loc` saying what it accepts. */
  private since(raw: string, loc: ValidationIssue["loc"]): number {
    const ms = parseSince(raw, this.now());
    if (ms !== undefined) return ms;
    throw new InvalidInputError([{ loc, msg: `since must be ${SINCE_FORMS}.`, type: "value_error" }]);
  }
}

/** The 404 of an unknown delivery. */
function notFound(deliveryId: string): NotFoundError {
  return new NotFoundError(
    "webhook_delivery",
    deliveryId,
    `Webhook delivery ${deliveryId} was not found. List them with GET /v1/workspace/webhooks/deliveries to find its id.`,
  );
}
