import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError, NotFoundError } from "../../src/domain/errors.js";
import type {
  AttemptOutcome,
  NewOutgoingDelivery,
  OutgoingWebhookStore,
  WorkspaceWebhook,
} from "../../src/store/outgoing-webhook-store.js";
import type { Database } from "../../src/store/store.js";
import { DeliveryLog, parseSince } from "../../src/webhooks-out/delivery-log.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { testDelivery, testWebhook } from "../support/outgoing-webhooks.js";

/** 2026-11-28T12:00:00Z, the test's "now". */
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const HOUR = 3_600_000;
const SCHEDULE = [0, 30_000, 120_000, 480_000];
const NODE = "node-test";
const RULE = { failures: 10, quietMs: 7 * 24 * HOUR };

describe("parseSince", () => {
  it("reads Unix seconds, decimals included", () => {
    expect(parseSince("1764400000", NOW)).toBe(1_764_400_000_000);
    expect(parseSince("1764400000.25", NOW)).toBe(1_764_400_000_250);
  });

  it("reads an ISO-8601 date (UTC midnight) and times, a time without an offset as UTC", () => {
    expect(parseSince("2026-11-27", NOW)).toBe(Date.UTC(2026, 10, 27));
    expect(parseSince("2026-11-27T09:30:00Z", NOW)).toBe(Date.UTC(2026, 10, 27, 9, 30));
    expect(parseSince("2026-11-27T09:30", NOW)).toBe(Date.UTC(2026, 10, 27, 9, 30));
    expect(parseSince("2026-11-27 09:30:00", NOW)).toBe(Date.UTC(2026, 10, 27, 9, 30));
    expect(parseSince("2026-11-27T10:30:00+01:00", NOW)).toBe(Date.UTC(2026, 10, 27, 9, 30));
    expect(parseSince("2026-11-27T09:30:00.500Z", NOW)).toBe(Date.UTC(2026, 10, 27, 9, 30, 0, 500));
  });

  it("reads a time ago from now: seconds, minutes, hours, days", () => {
    expect(parseSince("90s", NOW)).toBe(NOW - 90_000);
    expect(parseSince("30m", NOW)).toBe(NOW - 30 * 60_000);
    expect(parseSince("24h", NOW)).toBe(NOW - 24 * HOUR);
    expect(parseSince(" 7d ", NOW)).toBe(NOW - 7 * 24 * HOUR);
  });

  it("refuses anything else", () => {
    for (const bad of [
      "",
      "yesterday",
      "-5",
      "24x",
      "7 d",
      "2026-13-01",
      "2026-11-27T25:00Z",
      "1e9",
      "Infinity",
    ]) {
      expect(parseSince(bad, NOW), bad).toBeUndefined();
    }
  });
});

/** A webhook row as the store keeps it. */
function webhook(webhookId: string): WorkspaceWebhook {
  return testWebhook(webhookId, { createdAtUnix: Math.floor(NOW / 1000) - 86_400 });
}

/** A queued transcription delivery (each its own conversation, so none waits for another). */
function delivery(deliveryId: string, webhookId: string, createdAtMs: number): NewOutgoingDelivery {
  return testDelivery(deliveryId, createdAtMs, { webhookId, maxAttempts: SCHEDULE.length });
}

describe.each(BACKENDS)("the outgoing delivery log on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;
  let store: OutgoingWebhookStore;
  let log: DeliveryLog;
  let now: number;
  let notified: number;

  /**
   * Makes one attempt of each delivery named in `outcomes` (they must be due), recording it as
   * the sender would: claimed by this node, then its outcome and the answer it got.
   */
  async function attempt(
    outcomes: Record<string, { outcome: AttemptOutcome; statusCode: number | null; error: string | null }>,
  ): Promise<void> {
    const claimed = await store.claimDue(NODE, now, 100, 60_000, 100);
    for (const d of claimed) {
      const planned = outcomes[d.deliveryId];
      if (!planned) continue;
      const recorded = await store.recordAttempt(
        NODE,
        {
          deliveryId: d.deliveryId,
          attempt: d.attempts + 1,
          startedAtMs: now,
          url: `https://receiver.example/${d.webhookId}`,
          statusCode: planned.statusCode,
          error: planned.error,
          latencyMs: 42,
          responseHead: planned.statusCode === null ? null : `answer ${planned.statusCode}`,
        },
        planned.outcome,
        RULE,
      );
      expect(recorded).toBe(true);
    }
    await store.releaseNode(NODE);
  }

  const failedFor = (statusCode: number) => ({
    outcome: { status: "failed" } as const,
    statusCode,
    error: `HTTP ${statusCode}`,
  });
  const delivered = { outcome: { status: "delivered" } as const, statusCode: 200, error: null };

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    store = db.outgoingWebhooks;
    now = NOW;
    notified = 0;
    log = new DeliveryLog({
      store,
      retryScheduleMs: SCHEDULE,
      notify: () => {
        notified += 1;
      },
      now: () => now,
    });
    await store.insertWebhook(webhook("wh_a"));
    await store.insertWebhook(webhook("wh_b"));
    // Queued an hour apart, oldest first: d1 (3 h ago) … d4 (now).
    await store.enqueue([
      delivery("d1", "wh_a", NOW - 3 * HOUR),
      delivery("d2", "wh_b", NOW - 2 * HOUR),
      delivery("d3", "wh_a", NOW - HOUR),
      delivery("d4", "wh_a", NOW),
    ]);
    // d1 delivered; d2 failed for good (a 404 is final); d3 failed once and waits 30 s; d4 not tried.
    await attempt({
      d1: delivered,
      d2: failedFor(404),
      d3: {
        outcome: { status: "pending", nextAttemptAtMs: NOW + 30_000 },
        statusCode: 503,
        error: "HTTP 503",
      },
    });
  });

  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  it("lists deliveries newest first in the wire shape, the next attempt only while pending", async () => {
    const page = await log.list({ pageSize: 30 });
    expect(page.has_more).toBe(false);
    expect(page.next_cursor).toBeNull();
    expect(page.deliveries.map((d) => d.delivery_id)).toEqual(["d4", "d3", "d2", "d1"]);
    const [d4, d3, d2, d1] = page.deliveries;
    expect(d3).toEqual({
      delivery_id: "d3",
      webhook_id: "wh_a",
      event_type: "post_call_transcription",
      conversation_id: "conv_d3",
      agent_id: "agent_1",
      status: "pending",
      attempts: 1,
      max_attempts: 4,
      created_at_unix: (NOW - HOUR) / 1000,
      next_attempt_at_unix: (NOW + 30_000) / 1000,
      last_status_code: 503,
      last_error: "HTTP 503",
    });
    expect(d4).toMatchObject({ status: "pending", attempts: 0, next_attempt_at_unix: NOW / 1000 });
    expect(d4?.last_status_code).toBeNull();
    expect(d2).toMatchObject({
      status: "failed",
      attempts: 1,
      last_status_code: 404,
      last_error: "HTTP 404",
    });
    expect(d2).not.toHaveProperty("next_attempt_at_unix");
    expect(d1).toMatchObject({ status: "delivered", attempts: 1, last_status_code: 200, last_error: null });
    expect(d1).not.toHaveProperty("next_attempt_at_unix");
  });

  it("filters by status, webhook, conversation and since (Unix seconds, ISO-8601 or a time ago)", async () => {
    const ids = async (query: Parameters<DeliveryLog["list"]>[0]) =>
      (await log.list(query)).deliveries.map((d) => d.delivery_id);
    expect(await ids({ status: "failed", pageSize: 30 })).toEqual(["d2"]);
    expect(await ids({ status: "pending", pageSize: 30 })).toEqual(["d4", "d3"]);
    expect(await ids({ status: "delivered", pageSize: 30 })).toEqual(["d1"]);
    expect(await ids({ webhookId: "wh_a", pageSize: 30 })).toEqual(["d4", "d3", "d1"]);
    expect(await ids({ conversationId: "conv_d2", pageSize: 30 })).toEqual(["d2"]);
    expect(await ids({ since: "90m", pageSize: 30 })).toEqual(["d4", "d3"]);
    expect(await ids({ since: String((NOW - 2 * HOUR) / 1000), pageSize: 30 })).toEqual(["d4", "d3", "d2"]);
    expect(await ids({ since: "2026-11-28T09:30:00Z", pageSize: 30 })).toEqual(["d4", "d3", "d2"]);
    expect(await ids({ status: "pending", webhookId: "wh_a", since: "30m", pageSize: 30 })).toEqual(["d4"]);
  });

  it("pages with next_cursor until has_more is false", async () => {
    const first = await log.list({ pageSize: 3 });
    expect(first.deliveries.map((d) => d.delivery_id)).toEqual(["d4", "d3", "d2"]);
    expect(first.has_more).toBe(true);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await log.list({ pageSize: 3, cursor: first.next_cursor as string });
    expect(second.deliveries.map((d) => d.delivery_id)).toEqual(["d1"]);
    expect(second).toMatchObject({ has_more: false, next_cursor: null });
    // A filter keeps applying across pages.
    const a1 = await log.list({ webhookId: "wh_a", pageSize: 2 });
    const a2 = await log.list({ webhookId: "wh_a", pageSize: 2, cursor: a1.next_cursor as string });
    expect([...a1.deliveries, ...a2.deliveries].map((d) => d.delivery_id)).toEqual(["d4", "d3", "d1"]);
  });

  it("refuses a cursor it did not make and a since it cannot read, as 422 issues naming them", async () => {
    const refusal = async (query: Parameters<DeliveryLog["list"]>[0]) =>
      log.list(query).then(
        () => undefined,
        (error: unknown) => error,
      );
    const cursorError = await refusal({ pageSize: 3, cursor: "bm90LWEtY3Vyc29y" });
    expect(cursorError).toBeInstanceOf(InvalidInputError);
    expect((cursorError as InvalidInputError).issues[0]?.loc).toEqual(["query", "cursor"]);
    const sinceError = await refusal({ pageSize: 3, since: "last tuesday" });
    expect(sinceError).toBeInstanceOf(InvalidInputError);
    expect((sinceError as InvalidInputError).issues[0]?.loc).toEqual(["query", "since"]);
    expect((sinceError as InvalidInputError).issues[0]?.msg).toMatch(/24h/);
  });

  it("gets a delivery with every attempt, oldest first", async () => {
    // d3's second attempt fails for good.
    now = NOW + 30_000;
    await attempt({ d3: { outcome: { status: "failed" }, statusCode: null, error: "timed out after 15 s" } });
    const detail = await log.get("d3");
    expect(detail).toMatchObject({
      delivery_id: "d3",
      status: "failed",
      max_attempts: 4,
      last_status_code: null,
    });
    expect(detail.last_error).toBe("timed out after 15 s");
    expect(detail.attempts).toEqual([
      {
        attempt: 1,
        started_at_unix_ms: NOW,
        url: "https://receiver.example/wh_a",
        status_code: 503,
        error: "HTTP 503",
        latency_ms: 42,
        response_head: "answer 503",
      },
      {
        attempt: 2,
        started_at_unix_ms: NOW + 30_000,
        url: "https://receiver.example/wh_a",
        status_code: null,
        error: "timed out after 15 s",
        latency_ms: 42,
        response_head: null,
      },
    ]);
    expect((await log.get("d4")).attempts).toEqual([]);
  });

  it("answers NotFoundError (webhook_delivery) for an unknown delivery", async () => {
    for (const call of [() => log.get("nope"), () => log.redeliver("nope")]) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ kind: "webhook_delivery", id: "nope" });
    }
    expect(notified).toBe(0);
  });

  it("redelivers one delivery: pending, due now, as many more attempts as the schedule has, log kept, sender woken", async () => {
    now = NOW + 5 * 60_000;
    expect(await log.redeliver("d2")).toEqual({ redelivered: 1 });
    expect(notified).toBe(1);
    const d2 = await log.get("d2");
    expect(d2).toMatchObject({
      status: "pending",
      max_attempts: 1 + SCHEDULE.length,
      next_attempt_at_unix: now / 1000,
      last_status_code: 404,
    });
    expect(d2.attempts.map((a) => a.status_code)).toEqual([404]);
    // Due now: the sender's next claim takes it, with the same id, as its second attempt.
    const claimed = await store.claimDue(NODE, now, 100, 60_000, 100);
    expect(claimed.find((d) => d.deliveryId === "d2")?.attempts).toBe(1);
    await store.releaseNode(NODE);

    // A delivered one is sent again too (a receiver that lost it asks for it).
    expect(await log.redeliver("d1")).toEqual({ redelivered: 1 });
    expect((await log.get("d1")).status).toBe("pending");
    expect(notified).toBe(2);
  });

  it("does not redeliver a cancelled delivery (its webhook was deleted), and does not wake the sender", async () => {
    // Deleting a webhook cancels its pending deliveries.
    await store.insertWebhook(webhook("wh_c"));
    await store.enqueue([delivery("d6", "wh_c", NOW + 2000)]);
    await store.deleteWebhook("wh_c", NOW + 3000);
    expect((await log.get("d6")).status).toBe("cancelled");
    expect(await log.redeliver("d6")).toEqual({ redelivered: 0 });
    expect(notified).toBe(0);
    expect((await log.get("d6")).status).toBe("cancelled");
  });

  it("redelivers by filter: failed since a time, and only those", async () => {
    // One more failure, of an event older than the window (queued last: the log is in queue order).
    await store.enqueue([delivery("d0", "wh_b", NOW - 30 * HOUR)]);
    await attempt({ d0: failedFor(410) });
    expect((await log.list({ status: "failed", pageSize: 30 })).deliveries.map((d) => d.delivery_id)).toEqual(
      ["d0", "d2"],
    );

    expect(await log.redeliverMatching({ status: "failed", since: "24h" })).toEqual({ redelivered: 1 });
    expect(notified).toBe(1);
    expect((await log.get("d2")).status).toBe("pending");
    expect((await log.get("d0")).status).toBe("failed");
    expect((await log.get("d1")).status).toBe("delivered");

    // Nothing matches: nothing queued, the sender not woken.
    expect(await log.redeliverMatching({ status: "failed", since: "1h" })).toEqual({ redelivered: 0 });
    expect(notified).toBe(1);

    // By webhook: every failed delivery to wh_b, whenever it was queued.
    expect(await log.redeliverMatching({ status: "failed", webhookId: "wh_b" })).toEqual({ redelivered: 1 });
    expect((await log.get("d0")).status).toBe("pending");
  });

  it("refuses a replay by filter without any filter, and an unreadable since", async () => {
    const none = await log.redeliverMatching({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(none).toBeInstanceOf(InvalidInputError);
    expect((none as InvalidInputError).issues[0]?.loc).toEqual(["body"]);
    const bad = await log.redeliverMatching({ since: "soon" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(InvalidInputError);
    expect((bad as InvalidInputError).issues[0]?.loc).toEqual(["body", "since"]);
    expect(notified).toBe(0);
    expect((await log.list({ status: "failed", pageSize: 30 })).deliveries).toHaveLength(1);
  });
});
