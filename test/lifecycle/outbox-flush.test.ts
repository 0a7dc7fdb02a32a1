/**
 * The webhook sender at shutdown, on every backend: `stop` alone only finishes the attempts in
 * flight (a delivery queued since the last look stays queued), `flush` first sends what is due,
 * verified by the official SDK at a local receiver; and `flush` gives up after its time limit
 * when the receiver does not answer.
 */
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsBlobStore } from "../../src/blobs/fs/fs-blob-store.js";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import type { Database } from "../../src/store/store.js";
import { WebhookDispatcher } from "../../src/webhooks-out/webhook-dispatcher.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { testDelivery, testWebhook } from "../support/outgoing-webhooks.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const SECRET = "wsec_flush_test";

describe.each(BACKENDS)("flushing the outbox at shutdown on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;
  let receiver: WebhookReceiver;
  let clock: number;
  let sender: WebhookDispatcher;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    receiver = await startWebhookReceiver();
    clock = Date.now();
    await db.outgoingWebhooks.insertWebhook(testWebhook("wh_1", { url: receiver.url, secret: SECRET }));
    for (const id of ["a", "b", "c"]) {
      await db.conversations.putConversation(
        buildConversationRecord(buildConversation({ id: `conv_${id}`, agentId: "agent_1" })),
      );
    }
    sender = new WebhookDispatcher({
      store: db.outgoingWebhooks,
      conversations: db.conversations,
      blobs: new FsBlobStore(`${storage.dataDir}/blobs`),
      // It looks by itself only once a minute: what is sent here, the flush sent.
      config: {
        allowPrivate: true,
        retryScheduleMs: [0, 60_000],
        jitter: 0,
        timeoutMs: 1_000,
        concurrencyPerEndpoint: 4,
        relay: false,
        pollMs: 60_000,
      },
      nodeId: "node-a",
      logger: pino({ level: "silent" }),
      now: () => clock,
    });
    await sender.start();
    // Queued after the sender's first look (due in the future then), as a session ending would.
    await db.outgoingWebhooks.enqueue(["a", "b", "c"].map((id) => testDelivery(id, clock + 10_000)));
    clock += 20_000;
  });
  afterEach(async () => {
    await sender.stop();
    await receiver.close();
    await db.close();
    await storage.cleanup();
  });

  it("stop alone finishes what is in flight and leaves what was queued since the last look", async () => {
    await sender.stop();
    expect(receiver.requests).toHaveLength(0);
    expect((await db.outgoingWebhooks.getDelivery("a"))?.delivery.status).toBe("pending");
  });

  it("flush sends what is due before the stop, each verified by the SDK", async () => {
    await sender.flush();
    await sender.stop();
    const verified = await receiver.verified(SECRET);
    expect(verified.map((v) => (v.event.data as { conversation_id: string }).conversation_id).sort()).toEqual(
      ["conv_a", "conv_b", "conv_c"],
    );
    for (const id of ["a", "b", "c"])
      expect((await db.outgoingWebhooks.getDelivery(id))?.delivery.status).toBe("delivered");
  });

  it("gives up after its time limit when the receiver does not answer", async () => {
    receiver.fallback = { hang: true };
    const started = Date.now();
    await sender.flush(200);
    expect(Date.now() - started).toBeLessThan(900);
    // The attempts in flight end by the sender's own timeout (1 s), then stop hands them back.
    await sender.stop();
    expect(receiver.requests.length).toBeGreaterThan(0);
  });
});
