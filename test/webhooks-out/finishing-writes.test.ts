/**
 * Which conversation writes queue post-call webhooks, through the one write path: a live
 * session's finishing write does, a turn's write does not, recovery does only for a conversation
 * it actually finishes (with the audio webhook when the recording had been stored), and a relay
 * only in relay mode for a finished conversation.
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newAudioBlobKey } from "../../src/blobs/blob-keys.js";
import { FsBlobStore } from "../../src/blobs/fs/fs-blob-store.js";
import { ConversationService } from "../../src/conversations/conversation-service.js";
import type {
  ConversationRef,
  PostCallWebhooks,
  WebhookOrigin,
} from "../../src/conversations/post-call-webhooks.js";
import type { NewOutgoingDelivery } from "../../src/store/outgoing-webhook-store.js";
import type { Database } from "../../src/store/store.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";

type Planned = { ref: ConversationRef; origin: WebhookOrigin; expectAudio: boolean };

/** A planner that queues one transcription delivery a call and remembers what it was asked. */
class RecordingPlanner implements PostCallWebhooks {
  readonly planned: Planned[] = [];
  notified = 0;
  constructor(readonly relay: boolean) {}

  async planFinished(ref: ConversationRef, origin: WebhookOrigin, options: { expectAudio?: boolean } = {}) {
    this.planned.push({ ref, origin, expectAudio: options.expectAudio === true });
    return [delivery(ref.conversationId, this.planned.length)];
  }

  async planAudio(ref: ConversationRef, origin: WebhookOrigin) {
    this.planned.push({ ref, origin, expectAudio: true });
    return [delivery(ref.conversationId, this.planned.length)];
  }

  notify(): void {
    this.notified++;
  }
}

function delivery(conversationId: string, n: number): NewOutgoingDelivery {
  return {
    deliveryId: `d_${conversationId}_${n}`,
    webhookId: "wh",
    eventType: "post_call_transcription",
    conversationId,
    agentId: "agent_1",
    eventTimestamp: 1_780_000_000,
    payload: null,
    excludeTranscript: false,
    maxAttempts: 8,
    createdAtMs: 1_780_000_000_000,
  };
}

describe.each(BACKENDS)("the writes that queue post-call webhooks (%s)", (backend) => {
  let storage: TestStorage;
  let db: Database;
  let blobs: FsBlobStore;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    blobs = new FsBlobStore(path.join(storage.dataDir, "blobs"));
  });
  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  const queued = async () =>
    (await db.outgoingWebhooks.listDeliveries({ limit: 100 })).map((d) => d.deliveryId);
  const doc = (id: string, status: string) =>
    buildConversation({ id, agentId: "agent_1", status: status as never });

  it("queues with a live session's finishing write only, in its transaction", async () => {
    const planner = new RecordingPlanner(false);
    const service = new ConversationService(db.conversations, blobs, planner);
    await service.putConversation(doc("c1", "in-progress"), { deferSearchText: true });
    await service.changeConversation("c1", (d) => ({ ...d, transcript: [] }), { deferSearchText: true });
    expect(planner.planned).toEqual([]);
    await service.changeConversation("c1", (d) => ({ ...d, status: "done" }), {
      finishesLiveSession: { agentId: "agent_1", expectAudio: true },
    });
    expect(planner.planned).toEqual([
      { ref: { conversationId: "c1", agentId: "agent_1" }, origin: "live", expectAudio: true },
    ]);
    expect(await queued()).toEqual(["d_c1_1"]);
    expect(planner.notified).toBe(1);
    // A change that throws writes neither the conversation nor its deliveries.
    await expect(
      service.changeConversation(
        "c1",
        () => {
          throw new Error("refused");
        },
        { finishesLiveSession: { agentId: "agent_1" } },
      ),
    ).rejects.toThrow("refused");
    expect(await queued()).toEqual(["d_c1_1"]);
  });

  it("recovery queues only for a conversation it finishes, with the audio webhook when the recording was stored", async () => {
    const planner = new RecordingPlanner(false);
    const service = new ConversationService(db.conversations, blobs, planner);
    const recovered = {
      finishesLiveSession: { onlyFrom: ["in-progress", "processing"], expectAudio: "if-stored" as const },
    };
    await service.putConversation(doc("c_processing", "processing"));
    const key = newAudioBlobKey("c_processing");
    await blobs.put(key, Buffer.from("mp3"));
    await db.conversations.setAudio("c_processing", { blobKey: key, contentType: "audio/mpeg", size: 3 });
    await service.putConversation(doc("c_running", "in-progress"));
    await service.putConversation(doc("c_done", "done"));

    for (const id of ["c_processing", "c_running", "c_done"]) {
      await service.changeConversation(id, (d) => ({ ...d, status: "done" }), recovered);
    }
    expect(planner.planned).toEqual([
      { ref: { conversationId: "c_processing", agentId: "agent_1" }, origin: "live", expectAudio: true },
      { ref: { conversationId: "c_running", agentId: "agent_1" }, origin: "live", expectAudio: false },
    ]);
  });

  it("relays finished conversations and their audio in relay mode only", async () => {
    const off = new RecordingPlanner(false);
    await new ConversationService(db.conversations, blobs, off).putConversation(doc("c_off", "done"));
    expect(off.planned).toEqual([]);

    const on = new RecordingPlanner(true);
    const service = new ConversationService(db.conversations, blobs, on);
    await service.putConversation(doc("c_running", "in-progress"));
    await service.putConversation(doc("c_finished", "failed"));
    await service.putAudio("c_finished", Buffer.from("mp3"), "audio/mpeg");
    expect(on.planned.map((p) => [p.ref.conversationId, p.origin])).toEqual([
      ["c_finished", "relay"],
      ["c_finished", "relay"],
    ]);
    expect(await queued()).toHaveLength(2);
  });
});
