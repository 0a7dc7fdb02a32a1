/**
 * A live session can be finished by several writers at once (the session's own last write, a
 * restarting node's recovery, another node's stale-session recovery). With
 * `finishesLiveSession.onlyFrom` the stored status is checked on the locked row, so exactly one of
 * them writes and queues the post-call webhooks; the others write nothing.
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsBlobStore } from "../src/blobs/fs/fs-blob-store.js";
import { ConversationService } from "../src/conversations/conversation-service.js";
import type { ConversationRef, PostCallWebhooks } from "../src/conversations/post-call-webhooks.js";
import type { ConversationDoc } from "../src/domain/conversation.js";
import type { NewOutgoingDelivery } from "../src/store/outgoing-webhook-store.js";
import type { Database } from "../src/store/store.js";
import { buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";

/** A planner that queues one delivery, with an id of its own, each time it is asked. */
class CountingPlanner implements PostCallWebhooks {
  readonly relay = false;
  private planned = 0;

  async planFinished(ref: ConversationRef): Promise<NewOutgoingDelivery[]> {
    this.planned++;
    // Both finishers have planned (read the status) before either one writes.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return [
      {
        deliveryId: `d_${ref.conversationId}_${this.planned}`,
        webhookId: "wh",
        eventType: "post_call_transcription",
        conversationId: ref.conversationId,
        agentId: "agent_1",
        eventTimestamp: 1_780_000_000,
        payload: null,
        excludeTranscript: false,
        maxAttempts: 8,
        createdAtMs: 1_780_000_000_000,
      },
    ];
  }

  async planAudio(): Promise<NewOutgoingDelivery[]> {
    return [];
  }

  notify(): void {}
}

describe.each(BACKENDS)("a live session finished by two writers at once (%s)", (backend) => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
  });
  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  it("is finished, and its post-call webhooks queued, exactly once", async () => {
    const service = new ConversationService(
      db.conversations,
      new FsBlobStore(path.join(storage.dataDir, "blobs")),
      new CountingPlanner(),
    );
    const ids = ["c_a", "c_b", "c_c"];
    for (const id of ids) {
      await service.putConversation(buildConversation({ id, agentId: "agent_1", status: "processing" }));
    }
    const changed: string[] = [];
    // Recovery (fails or finishes what was cut off) against the session's own `done` write.
    const recover = (id: string) =>
      service.changeConversation(
        id,
        (doc: ConversationDoc) => {
          changed.push(`recover ${id}`);
          return { ...doc, status: "done" };
        },
        { finishesLiveSession: { onlyFrom: ["initiated", "in-progress", "processing"] } },
      );
    const markDone = (id: string) =>
      service.changeConversation(
        id,
        (doc: ConversationDoc) => {
          changed.push(`done ${id}`);
          return { ...doc, status: "done" };
        },
        { finishesLiveSession: { agentId: "agent_1", onlyFrom: ["processing"] } },
      );

    const results = await Promise.all(ids.flatMap((id) => [recover(id), markDone(id)]));

    // One change per conversation was written; the loser got the record as the winner left it.
    expect(changed).toHaveLength(ids.length);
    for (const id of ids) expect(changed.filter((c) => c.endsWith(` ${id}`))).toHaveLength(1);
    for (const record of results) expect(record.index.status).toBe("done");
    const deliveries = await db.outgoingWebhooks.listDeliveries({ limit: 100 });
    expect(deliveries.map((d) => d.conversationId).sort()).toEqual(ids);
    for (const id of ids) {
      const stored = await db.conversations.getConversation(id);
      expect((JSON.parse(stored?.json ?? "{}") as ConversationDoc).status).toBe("done");
    }
  });
});
