/**
 * The outgoing webhook store on every backend: the workspace's webhooks and ConvAI settings, the
 * outbox (claiming with holds, the order of one conversation's deliveries to one webhook, the
 * attempt log and the auto-disable rule), the delivery log and replay, and the deliveries a
 * conversation write queues in its own transaction.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConversationRecord } from "../../src/domain/conversation.js";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import type {
  AutoDisableRule,
  DeliveryAttempt,
  NewOutgoingDelivery,
  OutgoingDelivery,
  WorkspaceWebhook,
} from "../../src/store/outgoing-webhook-store.js";
import { type Database, RecordsRefusedError } from "../../src/store/store.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { testDelivery, testWebhook } from "../support/outgoing-webhooks.js";

/** A moment in Unix ms past 2^32 (the columns must keep it whole). */
const T0 = Date.parse("2026-06-01T10:00:00.000Z");
const LEASE_MS = 30_000;
/** A per-webhook limit of a claim no test reaches unless it means to (each webhook may fill the claim). */
const UNCAPPED = 1_000;
/** An auto-disable rule no test reaches unless it means to. */
const LENIENT: AutoDisableRule = { failures: 1_000, quietMs: 86_400_000 };

/** A webhook with plain defaults. */
function webhook(webhookId: string, change: Partial<WorkspaceWebhook> = {}): WorkspaceWebhook {
  return testWebhook(webhookId, { name: `hook ${webhookId}`, createdAtUnix: 1_780_000_000, ...change });
}

/** A transcription delivery with plain defaults, queued at T0. */
function delivery(deliveryId: string, change: Partial<NewOutgoingDelivery> = {}): NewOutgoingDelivery {
  return testDelivery(deliveryId, T0, { maxAttempts: 5, ...change });
}

/** An attempt of a delivery with plain defaults: a 200 at `startedAtMs`. */
function attempt(deliveryId: string, n: number, startedAtMs: number, change: Partial<DeliveryAttempt> = {}) {
  return {
    deliveryId,
    attempt: n,
    startedAtMs,
    url: "https://receiver.example/wh_1",
    statusCode: 200,
    error: null,
    latencyMs: 42,
    responseHead: "ok",
    ...change,
  } satisfies DeliveryAttempt;
}

/** A conversation record from the fixture document. */
function record(id: string, status: "in-progress" | "done" = "done"): ConversationRecord {
  return buildConversationRecord(buildConversation({ id, status }));
}

const ids = (deliveries: readonly OutgoingDelivery[]) => deliveries.map((d) => d.deliveryId);

describe.each(BACKENDS)("outgoing webhook store (%s)", (backend) => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
  });
  afterEach(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  /** The stored delivery (it must exist). */
  async function stored(deliveryId: string): Promise<OutgoingDelivery> {
    const found = await db.outgoingWebhooks.getDelivery(deliveryId);
    if (!found) throw new Error(`no delivery ${deliveryId}`);
    return found.delivery;
  }

  /** Every delivery, oldest first. */
  async function all(): Promise<OutgoingDelivery[]> {
    return (await db.outgoingWebhooks.listDeliveries({ limit: 1_000 })).reverse();
  }

  describe("webhooks", () => {
    it("stores a webhook with every field and lists them oldest first", async () => {
      const full = webhook("wh_full", {
        name: "Ünïcode name",
        requestHeaders: { "X-Team": "blue", Authorization: "Bearer t" },
        events: ["transcript", "audio"],
        retryEnabled: false,
        isDisabled: true,
        isAutoDisabled: true,
        createdAtUnix: 1_780_000_300,
        mostRecentFailureErrorCode: 503,
        mostRecentFailureTimestamp: 1_780_000_200,
        consecutiveFailures: 7,
        lastSuccessAtMs: T0,
      });
      await db.outgoingWebhooks.insertWebhook(full);
      await db.outgoingWebhooks.insertWebhook(webhook("wh_old", { createdAtUnix: 1_780_000_100 }));
      await db.outgoingWebhooks.insertWebhook(webhook("wh_mid", { createdAtUnix: 1_780_000_200 }));

      expect(await db.outgoingWebhooks.getWebhook("wh_full")).toEqual(full);
      expect(await db.outgoingWebhooks.getWebhook("wh_none")).toBeUndefined();
      expect((await db.outgoingWebhooks.listWebhooks()).map((w) => w.webhookId)).toEqual([
        "wh_old",
        "wh_mid",
        "wh_full",
      ]);
      expect((await db.outgoingWebhooks.listWebhooks())[2]).toEqual(full);
    });

    it("changes only the fields a change names, and answers undefined for an unknown webhook", async () => {
      const original = webhook("wh_1", {
        requestHeaders: { A: "1" },
        events: ["transcript"],
        consecutiveFailures: 2,
      });
      await db.outgoingWebhooks.insertWebhook(original);

      const renamed = await db.outgoingWebhooks.updateWebhook("wh_1", { name: "renamed" });
      expect(renamed).toEqual({ ...original, name: "renamed" });
      const changed = await db.outgoingWebhooks.updateWebhook("wh_1", {
        isDisabled: true,
        retryEnabled: false,
        requestHeaders: { B: "2" },
        events: [],
      });
      const expected = {
        ...original,
        name: "renamed",
        isDisabled: true,
        retryEnabled: false,
        requestHeaders: { B: "2" },
        events: [],
      };
      expect(changed).toEqual(expected);
      expect(await db.outgoingWebhooks.getWebhook("wh_1")).toEqual(expected);
      expect(await db.outgoingWebhooks.updateWebhook("wh_none", { name: "x" })).toBeUndefined();
      expect(await db.outgoingWebhooks.getWebhook("wh_none")).toBeUndefined();
    });

    it("resets the count of failures when a change enables the webhook, and only then", async () => {
      await db.outgoingWebhooks.insertWebhook(
        webhook("wh_1", { isAutoDisabled: true, consecutiveFailures: 9 }),
      );

      // Clearing the manual switch alone leaves the auto-disable and its count.
      const half = await db.outgoingWebhooks.updateWebhook("wh_1", { isDisabled: false });
      expect(half).toMatchObject({ isDisabled: false, isAutoDisabled: true, consecutiveFailures: 9 });

      const enabled = await db.outgoingWebhooks.updateWebhook("wh_1", {
        isDisabled: false,
        isAutoDisabled: false,
      });
      expect(enabled).toMatchObject({ isDisabled: false, isAutoDisabled: false, consecutiveFailures: 0 });
      expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({ consecutiveFailures: 0 });
    });

    it("deletes a webhook and cancels its pending deliveries in the same step, keeping their log", async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_1"));
      await db.outgoingWebhooks.insertWebhook(webhook("wh_2"));
      await db.outgoingWebhooks.enqueue([
        delivery("d_done"),
        delivery("d_held"),
        delivery("d_later", { createdAtMs: T0 + 60_000 }),
        delivery("d_other", { webhookId: "wh_2" }),
      ]);
      const claimed = await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED);
      expect(ids(claimed).sort()).toEqual(["d_done", "d_held", "d_other"]);
      expect(
        await db.outgoingWebhooks.recordAttempt(
          "node-a",
          attempt("d_done", 1, T0),
          { status: "delivered" },
          LENIENT,
        ),
      ).toBe(true);

      expect(await db.outgoingWebhooks.deleteWebhook("wh_1", T0 + 1_000)).toBe(true);
      expect(await db.outgoingWebhooks.getWebhook("wh_1")).toBeUndefined();
      expect((await db.outgoingWebhooks.listWebhooks()).map((w) => w.webhookId)).toEqual(["wh_2"]);

      expect(await stored("d_done")).toMatchObject({ status: "delivered", attempts: 1 });
      expect(await stored("d_held")).toMatchObject({ status: "cancelled", updatedAtMs: T0 + 1_000 });
      expect(await stored("d_later")).toMatchObject({ status: "cancelled", updatedAtMs: T0 + 1_000 });
      expect(await stored("d_other")).toMatchObject({ status: "pending" });
      expect((await db.outgoingWebhooks.getDelivery("d_done"))?.attempts).toHaveLength(1);
      // Cancelled deliveries are never claimed, even once their time comes.
      expect(
        ids(await db.outgoingWebhooks.claimDue("node-b", T0 + 10 * LEASE_MS, 10, LEASE_MS, UNCAPPED)),
      ).toEqual(["d_other"]);

      expect(await db.outgoingWebhooks.deleteWebhook("wh_1", T0 + 2_000)).toBe(false);
      expect(await db.outgoingWebhooks.deleteWebhook("wh_none", T0 + 2_000)).toBe(false);
    });
  });

  describe("settings", () => {
    it("has no settings before the first put, then keeps the last document put", async () => {
      expect(await db.outgoingWebhooks.getSettings()).toBeUndefined();
      await db.outgoingWebhooks.putSettings('{"webhooks":{"post_call_webhook_id":"wh_1"}}');
      expect(await db.outgoingWebhooks.getSettings()).toBe('{"webhooks":{"post_call_webhook_id":"wh_1"}}');
      await db.outgoingWebhooks.putSettings('{"webhooks":{}}');
      expect(await db.outgoingWebhooks.getSettings()).toBe('{"webhooks":{}}');
    });
  });

  describe("the outbox", () => {
    beforeEach(async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_1"));
    });

    it("queues deliveries as pending, due when queued, with every field kept", async () => {
      const fixed = delivery("d_fail", {
        eventType: "call_initiation_failure",
        conversationId: null,
        agentId: null,
        payload: '{"failure_reason":"capacity","metadata":{"type":"websocket"}}',
        excludeTranscript: true,
        maxAttempts: 1,
        eventTimestamp: 1_780_000_001,
        createdAtMs: T0 + 5,
      });
      await db.outgoingWebhooks.enqueue([delivery("d_1"), fixed]);
      await db.outgoingWebhooks.enqueue([]);

      const found = await db.outgoingWebhooks.getDelivery("d_fail");
      expect(found?.attempts).toEqual([]);
      expect(found?.delivery).toEqual({
        ...fixed,
        seq: found?.delivery.seq,
        status: "pending",
        attempts: 0,
        nextAttemptAtMs: T0 + 5,
        lastStatusCode: null,
        lastError: null,
        updatedAtMs: expect.any(Number),
      });
      expect(await stored("d_1")).toMatchObject({
        ...delivery("d_1"),
        status: "pending",
        nextAttemptAtMs: T0,
      });
      expect((await stored("d_fail")).seq).toBeGreaterThan((await stored("d_1")).seq);
      expect(await db.outgoingWebhooks.getDelivery("d_none")).toBeUndefined();
    });

    it("queues a batch in one transaction: a duplicate delivery id queues none of it", async () => {
      await db.outgoingWebhooks.enqueue([delivery("d_1")]);
      await expect(db.outgoingWebhooks.enqueue([delivery("d_2"), delivery("d_1")])).rejects.toThrow();
      expect(ids(await all())).toEqual(["d_1"]);
    });

    it("claims what is due, oldest due first then in queue order, up to the limit, and holds it", async () => {
      await db.outgoingWebhooks.enqueue([
        delivery("d_late", { createdAtMs: T0 + 300 }),
        delivery("d_a", { createdAtMs: T0 + 100 }),
        delivery("d_b", { createdAtMs: T0 + 100 }),
        delivery("d_first", { createdAtMs: T0 }),
        delivery("d_future", { createdAtMs: T0 + 1_000 }),
      ]);

      // Due means at or before now.
      const first = await db.outgoingWebhooks.claimDue("node-a", T0 + 300, 3, LEASE_MS, UNCAPPED);
      expect(ids(first)).toEqual(["d_first", "d_a", "d_b"]);
      expect(first[0]).toMatchObject({ status: "pending", attempts: 0, nextAttemptAtMs: T0 });
      const second = await db.outgoingWebhooks.claimDue("node-a", T0 + 300, 3, LEASE_MS, UNCAPPED);
      expect(ids(second)).toEqual(["d_late"]);
      // Held deliveries are not claimed again, by this node or another, while the hold lasts.
      expect(await db.outgoingWebhooks.claimDue("node-b", T0 + 999, 10, LEASE_MS, UNCAPPED)).toEqual([]);
      expect(ids(await db.outgoingWebhooks.claimDue("node-b", T0 + 1_000, 10, LEASE_MS, UNCAPPED))).toEqual([
        "d_future",
      ]);
      expect(await db.outgoingWebhooks.claimDue("node-a", T0 + 1_000, 0, LEASE_MS, UNCAPPED)).toEqual([]);
    });

    it("lets another node claim a delivery whose hold expired, and then refuses the first node's attempt", async () => {
      await db.outgoingWebhooks.enqueue([delivery("d_1")]);
      expect(ids(await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED))).toEqual(["d_1"]);
      expect(await db.outgoingWebhooks.claimDue("node-b", T0 + LEASE_MS - 1, 10, LEASE_MS, UNCAPPED)).toEqual(
        [],
      );
      expect(
        ids(await db.outgoingWebhooks.claimDue("node-b", T0 + LEASE_MS + 1, 10, LEASE_MS, UNCAPPED)),
      ).toEqual(["d_1"]);

      const late = attempt("d_1", 1, T0 + 1);
      expect(await db.outgoingWebhooks.recordAttempt("node-a", late, { status: "delivered" }, LENIENT)).toBe(
        false,
      );
      const found = await db.outgoingWebhooks.getDelivery("d_1");
      expect(found?.attempts).toEqual([]);
      expect(found?.delivery).toMatchObject({ status: "pending", attempts: 0 });
      expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({ lastSuccessAtMs: null });

      const mine = attempt("d_1", 1, T0 + LEASE_MS + 2);
      expect(await db.outgoingWebhooks.recordAttempt("node-b", mine, { status: "delivered" }, LENIENT)).toBe(
        true,
      );
      expect(await stored("d_1")).toMatchObject({ status: "delivered", attempts: 1 });
    });

    it("never claims for a disabled, auto-disabled or deleted webhook, and claims again once enabled", async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_off", { isDisabled: true }));
      await db.outgoingWebhooks.insertWebhook(webhook("wh_auto", { isAutoDisabled: true }));
      await db.outgoingWebhooks.enqueue([
        delivery("d_off", { webhookId: "wh_off" }),
        delivery("d_auto", { webhookId: "wh_auto" }),
        delivery("d_gone", { webhookId: "wh_never_existed" }),
        delivery("d_on"),
      ]);
      expect(ids(await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED))).toEqual(["d_on"]);

      await db.outgoingWebhooks.updateWebhook("wh_off", { isDisabled: false });
      await db.outgoingWebhooks.updateWebhook("wh_auto", { isDisabled: false, isAutoDisabled: false });
      expect(ids(await db.outgoingWebhooks.claimDue("node-a", T0 + 1, 10, LEASE_MS, UNCAPPED))).toEqual([
        "d_off",
        "d_auto",
      ]);
      expect(
        await db.outgoingWebhooks.claimDue("node-a", T0 + 10 * LEASE_MS, 10, LEASE_MS, UNCAPPED),
      ).toEqual(expect.not.arrayContaining([expect.objectContaining({ deliveryId: "d_gone" })]));
      expect(await stored("d_gone")).toMatchObject({ status: "pending", attempts: 0 });
    });

    it("claims another webhook's delivery past a disabled webhook's backlog, never returning the backlog", async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_auto", { isAutoDisabled: true }));
      await db.outgoingWebhooks.insertWebhook(webhook("wh_off", { isDisabled: true }));
      // The backlogs are older than the one delivery that may go, and far more than a claim takes.
      const backlog = (webhookId: string, count: number) =>
        Array.from({ length: count }, (_, i) =>
          delivery(`d_${webhookId}_${i}`, { webhookId, createdAtMs: T0 - 100_000 + i }),
        );
      await db.outgoingWebhooks.enqueue(backlog("wh_auto", 300));
      await db.outgoingWebhooks.enqueue(backlog("wh_off", 100));
      await db.outgoingWebhooks.enqueue([delivery("d_live")]);

      expect(ids(await db.outgoingWebhooks.claimDue("node-a", T0, 5, LEASE_MS, 5))).toEqual(["d_live"]);
      const sent = attempt("d_live", 1, T0);
      expect(await db.outgoingWebhooks.recordAttempt("node-a", sent, { status: "delivered" }, LENIENT)).toBe(
        true,
      );
      // Nothing else is ever claimed for them, however late and however much room there is.
      expect(
        await db.outgoingWebhooks.claimDue("node-b", T0 + 10 * LEASE_MS, 1_000, LEASE_MS, 1_000),
      ).toEqual([]);
      const waiting = await db.outgoingWebhooks.listDeliveries({ status: "pending", limit: 1_000 });
      expect(waiting.filter((d) => d.webhookId !== "wh_1")).toHaveLength(400);
      expect(waiting.every((d) => d.attempts === 0)).toBe(true);

      // Enabled again, the backlog goes oldest first, a claim's per-webhook share at a time.
      await db.outgoingWebhooks.updateWebhook("wh_auto", { isDisabled: false, isAutoDisabled: false });
      expect(ids(await db.outgoingWebhooks.claimDue("node-c", T0 + 11 * LEASE_MS, 64, LEASE_MS, 3))).toEqual([
        "d_wh_auto_0",
        "d_wh_auto_1",
        "d_wh_auto_2",
      ]);
    });

    it("claims at most the per-webhook limit of each webhook and at most the limit in all, oldest due first", async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_2"));
      await db.outgoingWebhooks.insertWebhook(webhook("wh_3"));
      // Four of each webhook, interleaved in due time: w1_0 < w2_0 < w3_0 < w1_1 < …
      const webhookIds = ["wh_1", "wh_2", "wh_3"];
      await db.outgoingWebhooks.enqueue(
        [0, 1, 2, 3].flatMap((n) =>
          webhookIds.map((webhookId, w) =>
            delivery(`d_${webhookId}_${n}`, { webhookId, createdAtMs: T0 + n * 10 + w }),
          ),
        ),
      );

      expect(await db.outgoingWebhooks.claimDue("node-a", T0 + 100, 10, LEASE_MS, 0)).toEqual([]);
      // Room for all twelve, but two of each webhook.
      const first = await db.outgoingWebhooks.claimDue("node-a", T0 + 100, 100, LEASE_MS, 2);
      expect(ids(first)).toEqual(["d_wh_1_0", "d_wh_2_0", "d_wh_3_0", "d_wh_1_1", "d_wh_2_1", "d_wh_3_1"]);
      // Three of each may go, five in all: the five oldest due of what is left.
      const second = await db.outgoingWebhooks.claimDue("node-a", T0 + 100, 5, LEASE_MS, 3);
      expect(ids(second)).toEqual(["d_wh_1_2", "d_wh_2_2", "d_wh_3_2", "d_wh_1_3", "d_wh_2_3"]);
      // A delivery read but not kept is not held: another node claims it at once.
      expect(ids(await db.outgoingWebhooks.claimDue("node-b", T0 + 100, 100, LEASE_MS, 100))).toEqual([
        "d_wh_3_3",
      ]);
    });

    it("shares a claim between webhooks: a backlog of older deliveries leaves room for another webhook's", async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_b"));
      await db.outgoingWebhooks.enqueue(
        Array.from({ length: 10 }, (_, i) => delivery(`d_a_${i}`, { createdAtMs: T0 + i })),
      );
      await db.outgoingWebhooks.enqueue([delivery("d_b_0", { webhookId: "wh_b", createdAtMs: T0 + 50 })]);

      expect(ids(await db.outgoingWebhooks.claimDue("node-a", T0 + 100, 3, LEASE_MS, 2))).toEqual([
        "d_a_0",
        "d_a_1",
        "d_b_0",
      ]);
    });

    it("sends one conversation's deliveries to one webhook in queue order, one at a time", async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_2"));
      await db.outgoingWebhooks.enqueue([
        delivery("d_text", { conversationId: "conv_1" }),
        delivery("d_audio", { conversationId: "conv_1", eventType: "post_call_audio" }),
        delivery("d_text_2", { conversationId: "conv_1", webhookId: "wh_2" }),
        delivery("d_other", { conversationId: "conv_2" }),
        delivery("d_none_1", { conversationId: null, eventType: "call_initiation_failure" }),
        delivery("d_none_2", { conversationId: null, eventType: "call_initiation_failure" }),
      ]);

      // The audio waits for the transcription of its conversation to the same webhook; the other
      // webhook, the other conversation and deliveries of no conversation do not wait.
      const first = await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED);
      expect(ids(first)).toEqual(["d_text", "d_text_2", "d_other", "d_none_1", "d_none_2"]);

      // A failed attempt due again later still keeps the audio waiting, even past its own hold.
      const retry = { status: "pending", nextAttemptAtMs: T0 + 5 * LEASE_MS } as const;
      expect(
        await db.outgoingWebhooks.recordAttempt(
          "node-a",
          attempt("d_text", 1, T0, { statusCode: 500 }),
          retry,
          LENIENT,
        ),
      ).toBe(true);
      expect(await db.outgoingWebhooks.claimDue("node-a", T0 + 2 * LEASE_MS, 10, LEASE_MS, UNCAPPED)).toEqual(
        expect.not.arrayContaining([expect.objectContaining({ deliveryId: "d_audio" })]),
      );

      const next = await db.outgoingWebhooks.claimDue("node-b", T0 + 5 * LEASE_MS, 10, LEASE_MS, UNCAPPED);
      expect(ids(next)).toContain("d_text");
      expect(ids(next)).not.toContain("d_audio");
      expect(
        await db.outgoingWebhooks.recordAttempt(
          "node-b",
          attempt("d_text", 2, T0 + 5 * LEASE_MS),
          { status: "delivered" },
          LENIENT,
        ),
      ).toBe(true);
      const last = await db.outgoingWebhooks.claimDue("node-b", T0 + 5 * LEASE_MS, 10, LEASE_MS, UNCAPPED);
      expect(ids(last)).toEqual(["d_audio"]);
    });

    it("lets a delivery go once the one queued before it has failed for good", async () => {
      await db.outgoingWebhooks.enqueue([
        delivery("d_1", { conversationId: "conv_1", maxAttempts: 1 }),
        delivery("d_2", { conversationId: "conv_1" }),
      ]);
      expect(ids(await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED))).toEqual(["d_1"]);
      const failed = attempt("d_1", 1, T0, { statusCode: null, error: "timeout", responseHead: null });
      expect(await db.outgoingWebhooks.recordAttempt("node-a", failed, { status: "failed" }, LENIENT)).toBe(
        true,
      );
      expect(ids(await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED))).toEqual(["d_2"]);
    });

    it("never hands one delivery to two nodes claiming at once", async () => {
      const second = await storage.open();
      try {
        await db.outgoingWebhooks.enqueue(
          Array.from({ length: 40 }, (_, i) => delivery(`d_${String(i).padStart(2, "0")}`)),
        );
        const claims = await Promise.all([
          db.outgoingWebhooks.claimDue("node-a", T0, 15, LEASE_MS, UNCAPPED),
          second.outgoingWebhooks.claimDue("node-b", T0, 15, LEASE_MS, UNCAPPED),
          db.outgoingWebhooks.claimDue("node-c", T0, 15, LEASE_MS, UNCAPPED),
          second.outgoingWebhooks.claimDue("node-d", T0, 15, LEASE_MS, UNCAPPED),
        ]);
        for (const claim of claims) expect(claim.length).toBeLessThanOrEqual(15);
        // Whatever the claims at once left is claimed after them; no delivery is claimed twice.
        const rest = await db.outgoingWebhooks.claimDue("node-e", T0, 40, LEASE_MS, UNCAPPED);
        const claimed = [...claims, rest].flatMap(ids);
        expect(new Set(claimed).size).toBe(claimed.length);
        expect(claimed).toHaveLength(40);
      } finally {
        await second.close();
      }
    });

    it("records a delivered attempt: the log, the delivery's state and the webhook's success", async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_3", { consecutiveFailures: 2 }));
      await db.outgoingWebhooks.enqueue([delivery("d_1", { webhookId: "wh_3" })]);
      await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED);
      const made = attempt("d_1", 1, T0 + 10, {
        url: "https://receiver.example/wh_3",
        responseHead: "thanks ✓",
      });
      expect(await db.outgoingWebhooks.recordAttempt("node-a", made, { status: "delivered" }, LENIENT)).toBe(
        true,
      );

      const found = await db.outgoingWebhooks.getDelivery("d_1");
      expect(found?.attempts).toEqual([made]);
      expect(found?.delivery).toMatchObject({
        status: "delivered",
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
      });
      expect(found?.delivery.updatedAtMs).toBeGreaterThanOrEqual(T0 + 10);
      expect(await db.outgoingWebhooks.getWebhook("wh_3")).toMatchObject({
        consecutiveFailures: 0,
        lastSuccessAtMs: T0 + 10,
        isAutoDisabled: false,
      });
      // The hold is released with the attempt: a second record of it is refused, nothing claims it.
      expect(
        await db.outgoingWebhooks.recordAttempt(
          "node-a",
          attempt("d_1", 2, T0 + 20),
          { status: "delivered" },
          LENIENT,
        ),
      ).toBe(false);
      expect((await db.outgoingWebhooks.getDelivery("d_1"))?.attempts).toHaveLength(1);
      expect(
        await db.outgoingWebhooks.claimDue("node-a", T0 + 10 * LEASE_MS, 10, LEASE_MS, UNCAPPED),
      ).toEqual([]);
    });

    it("records failed attempts: retry time, last error, the webhook's count and most recent failure", async () => {
      await db.outgoingWebhooks.enqueue([delivery("d_1", { maxAttempts: 2 })]);
      await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED);
      const first = attempt("d_1", 1, T0 + 1_500, {
        statusCode: 503,
        error: "HTTP 503",
        responseHead: "busy",
      });
      const retry = { status: "pending", nextAttemptAtMs: T0 + 60_000 } as const;
      expect(await db.outgoingWebhooks.recordAttempt("node-a", first, retry, LENIENT)).toBe(true);
      expect(await stored("d_1")).toMatchObject({
        status: "pending",
        attempts: 1,
        nextAttemptAtMs: T0 + 60_000,
        lastStatusCode: 503,
        lastError: "HTTP 503",
      });
      expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
        consecutiveFailures: 1,
        mostRecentFailureErrorCode: 503,
        mostRecentFailureTimestamp: Math.floor((T0 + 1_500) / 1000),
        isAutoDisabled: false,
      });
      // Not due before its retry time.
      expect(await db.outgoingWebhooks.claimDue("node-a", T0 + 59_999, 10, LEASE_MS, UNCAPPED)).toEqual([]);
      expect(ids(await db.outgoingWebhooks.claimDue("node-a", T0 + 60_000, 10, LEASE_MS, UNCAPPED))).toEqual([
        "d_1",
      ]);

      const second = attempt("d_1", 2, T0 + 60_000, {
        statusCode: null,
        error: "connect ECONNREFUSED",
        latencyMs: 3,
        responseHead: null,
      });
      expect(await db.outgoingWebhooks.recordAttempt("node-a", second, { status: "failed" }, LENIENT)).toBe(
        true,
      );
      const found = await db.outgoingWebhooks.getDelivery("d_1");
      expect(found?.attempts).toEqual([first, second]);
      expect(found?.delivery).toMatchObject({
        status: "failed",
        attempts: 2,
        lastStatusCode: null,
        lastError: "connect ECONNREFUSED",
      });
      expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
        consecutiveFailures: 2,
        mostRecentFailureErrorCode: null,
        mostRecentFailureTimestamp: Math.floor((T0 + 60_000) / 1000),
      });
      expect(
        await db.outgoingWebhooks.claimDue("node-a", T0 + 10 * LEASE_MS, 10, LEASE_MS, UNCAPPED),
      ).toEqual([]);
    });

    it("refuses an attempt of a delivery the node does not hold, writing nothing", async () => {
      await db.outgoingWebhooks.enqueue([delivery("d_1"), delivery("d_unclaimed", { createdAtMs: T0 + 1 })]);
      await db.outgoingWebhooks.claimDue("node-a", T0, 1, LEASE_MS, UNCAPPED);
      const failing = attempt("d_1", 1, T0, { statusCode: 500 });
      const strict: AutoDisableRule = { failures: 1, quietMs: 0 };
      expect(await db.outgoingWebhooks.recordAttempt("node-b", failing, { status: "failed" }, strict)).toBe(
        false,
      );
      expect(
        await db.outgoingWebhooks.recordAttempt(
          "node-a",
          attempt("d_unclaimed", 1, T0),
          { status: "failed" },
          strict,
        ),
      ).toBe(false);
      expect(
        await db.outgoingWebhooks.recordAttempt(
          "node-a",
          attempt("d_none", 1, T0),
          { status: "delivered" },
          strict,
        ),
      ).toBe(false);
      expect(await db.outgoingWebhooks.getDelivery("d_1")).toMatchObject({
        delivery: { status: "pending", attempts: 0, lastStatusCode: null },
        attempts: [],
      });
      expect(await stored("d_unclaimed")).toMatchObject({ status: "pending", attempts: 0 });
      expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
        consecutiveFailures: 0,
        mostRecentFailureErrorCode: null,
        isAutoDisabled: false,
      });
    });

    describe("auto-disable", () => {
      const rule: AutoDisableRule = { failures: 3, quietMs: 3_600_000 };

      /** Queues, claims and fails one delivery of `wh_1` at `atMs`. */
      async function fail(deliveryId: string, atMs: number): Promise<void> {
        await db.outgoingWebhooks.enqueue([delivery(deliveryId, { createdAtMs: atMs })]);
        expect(ids(await db.outgoingWebhooks.claimDue("node-a", atMs, 1, LEASE_MS, UNCAPPED))).toEqual([
          deliveryId,
        ]);
        const made = attempt(deliveryId, 1, atMs, { statusCode: 500, error: "HTTP 500" });
        expect(await db.outgoingWebhooks.recordAttempt("node-a", made, { status: "failed" }, rule)).toBe(
          true,
        );
      }

      /** Queues, claims and delivers one delivery of `wh_1` at `atMs`. */
      async function succeed(deliveryId: string, atMs: number): Promise<void> {
        await db.outgoingWebhooks.enqueue([delivery(deliveryId, { createdAtMs: atMs })]);
        expect(ids(await db.outgoingWebhooks.claimDue("node-a", atMs, 1, LEASE_MS, UNCAPPED))).toEqual([
          deliveryId,
        ]);
        const made = attempt(deliveryId, 1, atMs);
        expect(await db.outgoingWebhooks.recordAttempt("node-a", made, { status: "delivered" }, rule)).toBe(
          true,
        );
      }

      it("disables a webhook that never succeeded at the rule's count of failures, and stops claiming for it", async () => {
        await fail("d_1", T0);
        await fail("d_2", T0 + 1_000);
        expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
          consecutiveFailures: 2,
          isAutoDisabled: false,
        });
        await fail("d_3", T0 + 2_000);
        expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
          consecutiveFailures: 3,
          isAutoDisabled: true,
          isDisabled: false,
        });

        await db.outgoingWebhooks.enqueue([delivery("d_waiting", { createdAtMs: T0 + 3_000 })]);
        expect(await db.outgoingWebhooks.claimDue("node-a", T0 + 3_000, 10, LEASE_MS, UNCAPPED)).toEqual([]);
        // Enabled again: the count starts over and the waiting delivery goes.
        await db.outgoingWebhooks.updateWebhook("wh_1", { isDisabled: false, isAutoDisabled: false });
        expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
          consecutiveFailures: 0,
          isAutoDisabled: false,
        });
        expect(ids(await db.outgoingWebhooks.claimDue("node-a", T0 + 3_000, 10, LEASE_MS, UNCAPPED))).toEqual(
          ["d_waiting"],
        );
      });

      it("keeps a webhook enabled while its last success is within the quiet period", async () => {
        await succeed("d_ok", T0);
        await fail("d_1", T0 + 1_000);
        await fail("d_2", T0 + 2_000);
        await fail("d_3", T0 + 3_000);
        await fail("d_4", T0 + rule.quietMs - 1);
        expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
          consecutiveFailures: 4,
          lastSuccessAtMs: T0,
          isAutoDisabled: false,
        });
        // The first failure past the quiet period disables it.
        await fail("d_5", T0 + rule.quietMs + 1);
        expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
          consecutiveFailures: 5,
          isAutoDisabled: true,
        });
      });

      it("starts the count over after a success", async () => {
        await fail("d_1", T0);
        await fail("d_2", T0 + 1_000);
        await succeed("d_ok", T0 + 2_000);
        expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
          consecutiveFailures: 0,
          lastSuccessAtMs: T0 + 2_000,
          // A success leaves the most recent failure as it was.
          mostRecentFailureErrorCode: 500,
          mostRecentFailureTimestamp: Math.floor((T0 + 1_000) / 1000),
        });
        await fail("d_3", T0 + rule.quietMs * 2);
        await fail("d_4", T0 + rule.quietMs * 2 + 1);
        expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
          consecutiveFailures: 2,
          isAutoDisabled: false,
        });
      });
    });

    it("defers a held delivery without counting an attempt, and only for the node holding it", async () => {
      await db.outgoingWebhooks.enqueue([delivery("d_audio", { eventType: "post_call_audio" })]);
      await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED);

      // Another node's defer changes nothing.
      await db.outgoingWebhooks.defer("node-b", "d_audio", T0 + 99_000);
      expect(await stored("d_audio")).toMatchObject({ nextAttemptAtMs: T0, attempts: 0 });

      await db.outgoingWebhooks.defer("node-a", "d_audio", T0 + 5_000);
      expect(await stored("d_audio")).toMatchObject({
        status: "pending",
        attempts: 0,
        nextAttemptAtMs: T0 + 5_000,
      });
      expect((await db.outgoingWebhooks.getDelivery("d_audio"))?.attempts).toEqual([]);
      // The hold is released: any node claims it once it is due again, well within the old hold.
      expect(await db.outgoingWebhooks.claimDue("node-b", T0 + 4_999, 10, LEASE_MS, UNCAPPED)).toEqual([]);
      expect(ids(await db.outgoingWebhooks.claimDue("node-b", T0 + 5_000, 10, LEASE_MS, UNCAPPED))).toEqual([
        "d_audio",
      ]);
      await db.outgoingWebhooks.defer("node-b", "d_unknown", T0);
    });

    it("releases every hold of a node, and only that node's", async () => {
      await db.outgoingWebhooks.enqueue([delivery("d_1"), delivery("d_2"), delivery("d_3")]);
      await db.outgoingWebhooks.claimDue("node-a", T0, 2, LEASE_MS, UNCAPPED);
      await db.outgoingWebhooks.claimDue("node-b", T0, 2, LEASE_MS, UNCAPPED);

      expect(await db.outgoingWebhooks.releaseNode("node-a")).toBe(2);
      expect(await db.outgoingWebhooks.releaseNode("node-a")).toBe(0);
      expect(await db.outgoingWebhooks.releaseNode("node-never")).toBe(0);
      // Released ones are claimable at once; node-b's is still held.
      expect(ids(await db.outgoingWebhooks.claimDue("node-c", T0 + 1, 10, LEASE_MS, UNCAPPED))).toEqual([
        "d_1",
        "d_2",
      ]);
      expect(await stored("d_3")).toMatchObject({ status: "pending", attempts: 0 });
      expect(
        await db.outgoingWebhooks.recordAttempt(
          "node-b",
          attempt("d_3", 1, T0),
          { status: "delivered" },
          LENIENT,
        ),
      ).toBe(true);
      expect(
        await db.outgoingWebhooks.recordAttempt(
          "node-a",
          attempt("d_1", 1, T0),
          { status: "delivered" },
          LENIENT,
        ),
      ).toBe(false);
    });
  });

  describe("the outbox's depth", () => {
    it("counts pending deliveries (due, held, waiting for a retry), not delivered or failed ones", async () => {
      expect(await db.outgoingWebhooks.countQueuedDeliveries()).toBe(0);
      await db.outgoingWebhooks.insertWebhook(webhook("wh_1"));
      await db.outgoingWebhooks.enqueue([
        delivery("d_done", { conversationId: "conv_1" }),
        delivery("d_fail", { conversationId: "conv_2" }),
        delivery("d_retry", { conversationId: "conv_3" }),
        delivery("d_held", { conversationId: "conv_4" }),
        delivery("d_later", { conversationId: "conv_5", createdAtMs: T0 + 3_600_000 }),
      ]);
      expect(await db.outgoingWebhooks.countQueuedDeliveries()).toBe(5);
      await db.outgoingWebhooks.claimDue("node-a", T0, 10, LEASE_MS, UNCAPPED);
      const outcomes = {
        d_done: { status: "delivered" },
        d_fail: { status: "failed" },
        d_retry: { status: "pending", nextAttemptAtMs: T0 + 60_000 },
      } as const;
      for (const [id, outcome] of Object.entries(outcomes))
        await db.outgoingWebhooks.recordAttempt("node-a", attempt(id, 1, T0), outcome, LENIENT);
      // d_retry waits for its retry, d_held is still held, d_later is not due yet.
      expect(await db.outgoingWebhooks.countQueuedDeliveries()).toBe(3);
    });
  });

  describe("the log and replay", () => {
    /** d_1…d_6, alternating webhooks and conversations, queued a second apart; d_2 delivered, d_3 failed. */
    beforeEach(async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_1"));
      await db.outgoingWebhooks.insertWebhook(webhook("wh_2"));
      await db.outgoingWebhooks.enqueue(
        [1, 2, 3, 4, 5, 6].map((n) =>
          delivery(`d_${n}`, {
            webhookId: n % 2 === 0 ? "wh_2" : "wh_1",
            conversationId: `conv_${n % 3}`,
            createdAtMs: T0 + n * 1_000,
          }),
        ),
      );
      await db.outgoingWebhooks.claimDue("node-a", T0 + 3_000, 10, LEASE_MS, UNCAPPED);
      await db.outgoingWebhooks.recordAttempt(
        "node-a",
        attempt("d_2", 1, T0 + 3_000),
        { status: "delivered" },
        LENIENT,
      );
      const failed = attempt("d_3", 1, T0 + 3_000, { statusCode: 410, error: "HTTP 410" });
      await db.outgoingWebhooks.recordAttempt("node-a", failed, { status: "failed" }, LENIENT);
    });

    it("lists deliveries newest first, filtered, a page at a time", async () => {
      const list = async (filter: Parameters<typeof db.outgoingWebhooks.listDeliveries>[0]) =>
        ids(await db.outgoingWebhooks.listDeliveries(filter));
      expect(await list({ limit: 10 })).toEqual(["d_6", "d_5", "d_4", "d_3", "d_2", "d_1"]);
      expect(await list({ limit: 2 })).toEqual(["d_6", "d_5"]);
      expect(await list({ status: "delivered", limit: 10 })).toEqual(["d_2"]);
      expect(await list({ status: "failed", limit: 10 })).toEqual(["d_3"]);
      expect(await list({ status: "pending", limit: 10 })).toEqual(["d_6", "d_5", "d_4", "d_1"]);
      expect(await list({ status: "cancelled", limit: 10 })).toEqual([]);
      expect(await list({ webhookId: "wh_2", limit: 10 })).toEqual(["d_6", "d_4", "d_2"]);
      expect(await list({ conversationId: "conv_1", limit: 10 })).toEqual(["d_4", "d_1"]);
      expect(await list({ sinceMs: T0 + 4_000, limit: 10 })).toEqual(["d_6", "d_5", "d_4"]);
      expect(await list({ webhookId: "wh_1", status: "pending", sinceMs: T0 + 2_000, limit: 10 })).toEqual([
        "d_5",
      ]);

      // Paging: each page starts below the last seq of the one before.
      const page1 = await db.outgoingWebhooks.listDeliveries({ limit: 4 });
      const page2 = await db.outgoingWebhooks.listDeliveries({ limit: 4, beforeSeq: page1.at(-1)?.seq });
      expect(ids(page1)).toEqual(["d_6", "d_5", "d_4", "d_3"]);
      expect(ids(page2)).toEqual(["d_2", "d_1"]);
      const seqOf2 = (await stored("d_2")).seq;
      expect(await list({ webhookId: "wh_2", beforeSeq: seqOf2, limit: 10 })).toEqual([]);
      expect(await list({ webhookId: "wh_2", beforeSeq: seqOf2 + 1, limit: 10 })).toEqual(["d_2"]);
    });

    it("replays chosen deliveries: pending, due now, with more attempts; cancelled ones stay cancelled", async () => {
      await db.outgoingWebhooks.insertWebhook(webhook("wh_gone"));
      await db.outgoingWebhooks.enqueue([delivery("d_cancelled", { webhookId: "wh_gone" })]);
      await db.outgoingWebhooks.deleteWebhook("wh_gone", T0 + 7_000);

      const now = T0 + 100_000;
      const queued = await db.outgoingWebhooks.redeliver(
        { deliveryIds: ["d_2", "d_3", "d_cancelled", "d_unknown"] },
        now,
        3,
      );
      expect(queued).toBe(2);
      for (const id of ["d_2", "d_3"]) {
        expect(await stored(id)).toMatchObject({
          status: "pending",
          attempts: 1,
          maxAttempts: 4,
          nextAttemptAtMs: now,
          updatedAtMs: now,
        });
        // The log stays, and so does the id.
        expect((await db.outgoingWebhooks.getDelivery(id))?.attempts).toHaveLength(1);
      }
      expect(await stored("d_cancelled")).toMatchObject({ status: "cancelled" });
      expect(await db.outgoingWebhooks.redeliver({ deliveryIds: [] }, now, 3)).toBe(0);

      // Replayed deliveries are claimed like any other.
      const claimed = ids(await db.outgoingWebhooks.claimDue("node-b", now, 10, LEASE_MS, UNCAPPED));
      expect(claimed).toContain("d_3");
      expect(claimed).not.toContain("d_cancelled");
    });

    it("replays the deliveries a filter selects, skipping cancelled ones", async () => {
      await db.outgoingWebhooks.enqueue([delivery("d_7", { webhookId: "wh_2", createdAtMs: T0 + 7_000 })]);
      await db.outgoingWebhooks.deleteWebhook("wh_2", T0 + 8_000);
      expect(
        (await db.outgoingWebhooks.listDeliveries({ status: "cancelled", limit: 10 })).map(
          (d) => d.deliveryId,
        ),
      ).toEqual(["d_7", "d_6", "d_4"]);

      const now = T0 + 200_000;
      expect(await db.outgoingWebhooks.redeliver({ filter: { webhookId: "wh_2", limit: 10 } }, now, 2)).toBe(
        1,
      );
      expect(await stored("d_2")).toMatchObject({ status: "pending", maxAttempts: 3, nextAttemptAtMs: now });
      expect(await stored("d_4")).toMatchObject({ status: "cancelled" });

      expect(await db.outgoingWebhooks.redeliver({ filter: { status: "failed", limit: 10 } }, now, 1)).toBe(
        1,
      );
      expect(await stored("d_3")).toMatchObject({ status: "pending", attempts: 1, maxAttempts: 2 });
      expect(await db.outgoingWebhooks.redeliver({ filter: { status: "failed", limit: 10 } }, now, 1)).toBe(
        0,
      );
    });

    it("leaves a delivery a node holds alone (its attempt is under way), and replays it once the hold expired", async () => {
      // d_1 is held by node-a (claimed in the set-up, no attempt recorded).
      const now = T0 + 4_000;
      expect(await db.outgoingWebhooks.redeliver({ deliveryIds: ["d_1"] }, now, 2)).toBe(0);
      expect(ids(await db.outgoingWebhooks.claimDue("node-b", now, 10, LEASE_MS, UNCAPPED))).not.toContain(
        "d_1",
      );
      const later = T0 + LEASE_MS + 10_000;
      expect(await db.outgoingWebhooks.redeliver({ deliveryIds: ["d_1"] }, later, 2)).toBe(1);
      expect(await stored("d_1")).toMatchObject({ status: "pending", attempts: 0, maxAttempts: 2 });
      expect(ids(await db.outgoingWebhooks.claimDue("node-b", later, 10, LEASE_MS, UNCAPPED))).toContain(
        "d_1",
      );
    });
  });

  describe("deliveries queued by a conversation write", () => {
    it("queues them with putConversation and upsertConversations", async () => {
      await db.conversations.putConversation(record("c_put"), [
        delivery("d_put", { conversationId: "c_put" }),
      ]);
      await db.conversations.upsertConversations(
        [record("c_up1"), record("c_up2")],
        [delivery("d_up1", { conversationId: "c_up1" }), delivery("d_up2", { conversationId: "c_up2" })],
      );
      await db.conversations.putConversation(record("c_plain"));
      await db.conversations.putConversation(record("c_empty"), []);
      expect(
        await db.conversations.upsertConversations([], [delivery("d_alone", { conversationId: null })]),
      ).toEqual([]);
      expect(ids(await all())).toEqual(["d_put", "d_up1", "d_up2", "d_alone"]);
      expect(await stored("d_up2")).toMatchObject({
        status: "pending",
        conversationId: "c_up2",
        attempts: 0,
      });
      expect(await db.conversations.countConversations()).toBe(5);
    });

    it("queues them with updateConversation and setAudio only when the conversation exists", async () => {
      await db.conversations.putConversation(record("c_1", "in-progress"));
      const updated = await db.conversations.updateConversation("c_1", () => record("c_1", "done"), [
        delivery("d_text", { conversationId: "c_1" }),
      ]);
      expect(updated?.index.status).toBe("done");
      const audio = { blobKey: "audio/c_1", contentType: "audio/mpeg", size: 10 };
      expect(
        await db.conversations.setAudio("c_1", audio, [
          delivery("d_audio", { conversationId: "c_1", eventType: "post_call_audio" }),
        ]),
      ).toEqual({ replaced: null });
      expect(ids(await all())).toEqual(["d_text", "d_audio"]);

      expect(
        await db.conversations.updateConversation("c_none", () => record("c_none"), [
          delivery("d_lost_text", { conversationId: "c_none" }),
        ]),
      ).toBeUndefined();
      expect(
        await db.conversations.setAudio("c_none", audio, [
          delivery("d_lost_audio", { conversationId: "c_none", eventType: "post_call_audio" }),
        ]),
      ).toBeUndefined();
      expect(ids(await all())).toEqual(["d_text", "d_audio"]);
      expect(await db.conversations.getConversation("c_none")).toBeUndefined();
    });

    it("writes neither the conversation nor its deliveries when the write fails", async () => {
      await db.conversations.putConversation(record("c_1", "in-progress"));
      await db.outgoingWebhooks.enqueue([delivery("d_taken")]);

      // The change throws inside the transaction: no delivery, the conversation as it was.
      await expect(
        db.conversations.updateConversation("c_1", () => {
          throw new Error("change refused");
        }, [delivery("d_never", { conversationId: "c_1" })]),
      ).rejects.toThrow("change refused");
      // A delivery the outbox refuses (its id is taken) takes the conversation write down with it.
      await expect(
        db.conversations.updateConversation("c_1", () => record("c_1", "done"), [
          delivery("d_new", { conversationId: "c_1" }),
          delivery("d_taken", { conversationId: "c_1" }),
        ]),
      ).rejects.toThrow();
      await expect(db.conversations.putConversation(record("c_2"), [delivery("d_taken")])).rejects.toThrow();
      // The records were fine: the batch's failure is not theirs (an importer would blame its lines).
      const upsert = db.conversations.upsertConversations(
        [record("c_3")],
        [delivery("d_3"), delivery("d_taken")],
      );
      await expect(upsert).rejects.toThrow();
      await expect(upsert).rejects.not.toBeInstanceOf(RecordsRefusedError);
      const audio = { blobKey: "audio/c_1", contentType: "audio/mpeg", size: 10 };
      await expect(db.conversations.setAudio("c_1", audio, [delivery("d_taken")])).rejects.toThrow();

      expect(ids(await all())).toEqual(["d_taken"]);
      expect(JSON.parse((await db.conversations.getConversation("c_1"))?.json ?? "{}").status).toBe(
        "in-progress",
      );
      expect((await db.conversations.getConversation("c_1"))?.audio).toBeNull();
      expect(await db.conversations.getConversation("c_2")).toBeUndefined();
      expect(await db.conversations.getConversation("c_3")).toBeUndefined();
    });
  });
});
