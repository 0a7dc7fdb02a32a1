import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewOutgoingDelivery, WorkspaceWebhook } from "../../src/store/outgoing-webhook-store.js";
import type { Database } from "../../src/store/store.js";
import { createTestStorage, POSTGRES_TEST_URL, type TestStorage } from "../support/backends.js";
import { testDelivery, testWebhook } from "../support/outgoing-webhooks.js";
import { queryTestDatabase } from "../support/postgres-schema.js";

/** Far above every time the suites use: every queued delivery is due. */
const NOW = 10_000_000;
const RULE = { failures: 1_000, quietMs: 0 };
/** A per-webhook limit of a claim no test reaches (each webhook may fill the claim). */
const UNCAPPED = 1_000;

/** An enabled webhook. */
function webhook(webhookId: string): WorkspaceWebhook {
  return testWebhook(webhookId, { secret: "wsec_test" });
}

/** A delivery due at `createdAtMs`. */
function delivery(
  deliveryId: string,
  webhookId: string,
  conversationId: string | null,
  createdAtMs: number,
): NewOutgoingDelivery {
  return testDelivery(deliveryId, createdAtMs, { webhookId, conversationId });
}

/** Yields to the event loop, so the other workers' queries interleave with this one's. */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe.skipIf(!POSTGRES_TEST_URL)("outgoing webhook claims across PostgreSQL nodes", () => {
  let storage: TestStorage;
  /** Two connection pools on one schema: two nodes of one deployment. */
  let nodeA: Database;
  let nodeB: Database;

  beforeAll(async () => {
    storage = createTestStorage("postgres");
    nodeA = await storage.open();
    nodeB = await storage.open();
  });
  afterAll(async () => {
    await nodeA?.close();
    await nodeB?.close();
    await storage?.cleanup();
  });

  it("claims every due delivery exactly once when nodes on two pools claim at the same time", async () => {
    await nodeA.outgoingWebhooks.insertWebhook(webhook("wh_claims"));
    const count = 400;
    const queued = Array.from({ length: count }, (_, i) =>
      // Half belong to no conversation, half to a conversation each: neither waits for another.
      delivery(`dlv_claim_${i}`, "wh_claims", i % 2 === 0 ? null : `conv_claim_${i}`, 1_000 + (i % 37)),
    );
    await nodeA.outgoingWebhooks.enqueue(queued.slice(0, count / 2));
    await nodeB.outgoingWebhooks.enqueue(queued.slice(count / 2));

    const workers = [
      { db: nodeA, nodeId: "node-a1" },
      { db: nodeA, nodeId: "node-a2" },
      { db: nodeB, nodeId: "node-b1" },
      { db: nodeB, nodeId: "node-b2" },
    ];
    const claimedBy = new Map<string, string[]>();
    await Promise.all(
      workers.map(async ({ db, nodeId }) => {
        const mine: string[] = [];
        claimedBy.set(nodeId, mine);
        for (;;) {
          const batch = await db.outgoingWebhooks.claimDue(nodeId, NOW, 7, 600_000, UNCAPPED);
          if (batch.length === 0) break;
          for (const d of batch) mine.push(d.deliveryId);
        }
      }),
    );

    const all = [...claimedBy.values()].flat();
    expect(all).toHaveLength(count);
    expect(new Set(all).size).toBe(count);
    expect(new Set(all)).toEqual(new Set(queued.map((d) => d.deliveryId)));
    // What each node was told it holds is what the table says it holds.
    const rows = await queryTestDatabase(
      storage.databaseUrl ?? "",
      "SELECT delivery_id, lease_node FROM outgoing_deliveries WHERE webhook_id = 'wh_claims'",
    );
    const heldBy = new Map(rows.map((r) => [r.delivery_id as string, r.lease_node as string]));
    for (const [nodeId, ids] of claimedBy) for (const id of ids) expect(heldBy.get(id)).toBe(nodeId);
    // Everything is held: nothing is left to claim.
    expect(await nodeB.outgoingWebhooks.claimDue("node-c", NOW, 100, 600_000, UNCAPPED)).toEqual([]);
  });

  it("claims every due delivery of several webhooks exactly once when nodes claim capped shares at the same time", async () => {
    const webhookIds = ["wh_share_1", "wh_share_2", "wh_share_3"];
    for (const webhookId of webhookIds) await nodeA.outgoingWebhooks.insertWebhook(webhook(webhookId));
    const queued = Array.from({ length: 150 }, (_, i) =>
      delivery(`dlv_share_${i}`, webhookIds[i % 3] ?? "", null, 3_000 + (i % 11)),
    );
    await nodeA.outgoingWebhooks.enqueue(queued);

    const workers = [
      { db: nodeA, nodeId: "node-a1" },
      { db: nodeA, nodeId: "node-a2" },
      { db: nodeB, nodeId: "node-b1" },
      { db: nodeB, nodeId: "node-b2" },
    ];
    const claimedBy = new Map<string, string[]>();
    const oversized: string[] = [];
    await Promise.all(
      workers.map(async ({ db, nodeId }) => {
        const mine: string[] = [];
        claimedBy.set(nodeId, mine);
        for (;;) {
          // Each claim reads (and locks) up to two of each webhook and keeps five of those six.
          const batch = await db.outgoingWebhooks.claimDue(nodeId, NOW, 5, 600_000, 2);
          if (batch.length === 0) break;
          const perWebhook = new Map<string, number>();
          for (const d of batch) perWebhook.set(d.webhookId, (perWebhook.get(d.webhookId) ?? 0) + 1);
          if (batch.length > 5 || [...perWebhook.values()].some((n) => n > 2)) oversized.push(nodeId);
          for (const d of batch) mine.push(d.deliveryId);
          await yieldTurn();
        }
      }),
    );

    expect(oversized).toEqual([]);
    const all = [...claimedBy.values()].flat();
    expect(all).toHaveLength(queued.length);
    expect(new Set(all)).toEqual(new Set(queued.map((d) => d.deliveryId)));
    const rows = await queryTestDatabase(
      storage.databaseUrl ?? "",
      "SELECT delivery_id, lease_node FROM outgoing_deliveries WHERE webhook_id LIKE 'wh_share_%'",
    );
    const heldBy = new Map(rows.map((r) => [r.delivery_id as string, r.lease_node as string]));
    for (const [nodeId, ids] of claimedBy) for (const id of ids) expect(heldBy.get(id)).toBe(nodeId);
  });

  it("never lets two nodes hold deliveries of one conversation at once, and sends them in queue order", async () => {
    await nodeA.outgoingWebhooks.insertWebhook(webhook("wh_order"));
    const conversations = 12;
    const perConversation = 8;
    const queued: NewOutgoingDelivery[] = [];
    for (let n = 0; n < perConversation; n++) {
      for (let c = 0; c < conversations; c++) {
        queued.push(delivery(`dlv_order_${c}_${n}`, "wh_order", `conv_order_${c}`, 2_000 + n));
      }
    }
    await nodeA.outgoingWebhooks.enqueue(queued);

    const inFlight = new Set<string>();
    const sentOrder = new Map<string, string[]>();
    const overlaps: string[] = [];
    let delivered = 0;
    const workers = [
      { db: nodeA, nodeId: "node-a1" },
      { db: nodeA, nodeId: "node-a2" },
      { db: nodeB, nodeId: "node-b1" },
      { db: nodeB, nodeId: "node-b2" },
    ];
    await Promise.all(
      workers.map(async ({ db, nodeId }) => {
        while (delivered < queued.length) {
          const batch = await db.outgoingWebhooks.claimDue(nodeId, NOW, 3, 600_000, UNCAPPED);
          if (batch.length === 0) {
            await new Promise((resolve) => setTimeout(resolve, 2));
            continue;
          }
          for (const d of batch) {
            const conversationId = d.conversationId ?? "";
            if (inFlight.has(conversationId)) overlaps.push(d.deliveryId);
            inFlight.add(conversationId);
            sentOrder.set(conversationId, [...(sentOrder.get(conversationId) ?? []), d.deliveryId]);
          }
          await yieldTurn();
          for (const d of batch) {
            // Out of flight before the attempt is recorded: its successor becomes due only then.
            inFlight.delete(d.conversationId ?? "");
            const recorded = await db.outgoingWebhooks.recordAttempt(
              nodeId,
              {
                deliveryId: d.deliveryId,
                attempt: d.attempts + 1,
                startedAtMs: NOW,
                url: "https://receiver.example/wh_order",
                statusCode: 200,
                error: null,
                latencyMs: 3,
                responseHead: "ok",
              },
              { status: "delivered" },
              RULE,
            );
            expect(recorded).toBe(true);
            delivered++;
          }
        }
      }),
    );

    expect(overlaps).toEqual([]);
    for (let c = 0; c < conversations; c++) {
      expect(sentOrder.get(`conv_order_${c}`)).toEqual(
        Array.from({ length: perConversation }, (_, n) => `dlv_order_${c}_${n}`),
      );
    }
    const pending = await nodeB.outgoingWebhooks.listDeliveries({
      webhookId: "wh_order",
      status: "pending",
      limit: 10,
    });
    expect(pending).toEqual([]);
  });

  it("lets another node take a delivery whose hold expired, and then ignores the first node's attempt", async () => {
    await nodeA.outgoingWebhooks.insertWebhook(webhook("wh_expiry"));
    await nodeA.outgoingWebhooks.enqueue([delivery("dlv_expiry", "wh_expiry", "conv_expiry", 5_000)]);

    const [first] = await nodeA.outgoingWebhooks.claimDue("node-a", 5_000, 10, 1_000, UNCAPPED);
    expect(first?.deliveryId).toBe("dlv_expiry");
    expect(await nodeB.outgoingWebhooks.claimDue("node-b", 5_999, 10, 1_000, UNCAPPED)).toEqual([]);
    const [second] = await nodeB.outgoingWebhooks.claimDue("node-b", 6_000, 10, 1_000, UNCAPPED);
    expect(second?.deliveryId).toBe("dlv_expiry");

    const attempt = {
      deliveryId: "dlv_expiry",
      attempt: 1,
      startedAtMs: 6_000,
      url: "https://receiver.example/wh_expiry",
      statusCode: 500,
      error: "HTTP 500",
      latencyMs: 10,
      responseHead: null,
    };
    expect(
      await nodeA.outgoingWebhooks.recordAttempt(
        "node-a",
        attempt,
        { status: "pending", nextAttemptAtMs: 9_000 },
        RULE,
      ),
    ).toBe(false);
    expect((await nodeB.outgoingWebhooks.getDelivery("dlv_expiry"))?.attempts).toEqual([]);
    expect((await nodeA.outgoingWebhooks.getWebhook("wh_expiry"))?.consecutiveFailures).toBe(0);

    expect(
      await nodeB.outgoingWebhooks.recordAttempt(
        "node-b",
        attempt,
        { status: "pending", nextAttemptAtMs: 9_000 },
        RULE,
      ),
    ).toBe(true);
    const stored = await nodeA.outgoingWebhooks.getDelivery("dlv_expiry");
    expect(stored?.delivery).toMatchObject({
      status: "pending",
      attempts: 1,
      nextAttemptAtMs: 9_000,
      lastStatusCode: 500,
    });
    expect(stored?.attempts).toEqual([attempt]);
    expect((await nodeA.outgoingWebhooks.getWebhook("wh_expiry"))?.consecutiveFailures).toBe(1);
  });
});
