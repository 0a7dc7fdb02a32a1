import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/store/store.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";

describe.each(BACKENDS)("webhook and sync state stores (%s)", (backend) => {
  let storage: TestStorage;
  let db: Database;
  beforeAll(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
  });
  afterAll(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  it("records a delivery once, keeping the first record", async () => {
    const delivery = {
      bodySha256: "a".repeat(64),
      type: "post_call_transcription",
      conversationId: "conv_1",
      outcome: "stored" as const,
      receivedAtUnixSecs: 100,
    };
    expect(await db.webhooks.findDelivery(delivery.bodySha256)).toBeUndefined();
    await db.webhooks.recordDelivery(delivery);
    await db.webhooks.recordDelivery({ ...delivery, outcome: "ignored", receivedAtUnixSecs: 200 });
    expect(await db.webhooks.findDelivery(delivery.bodySha256)).toEqual(delivery);
  });

  it("keeps dead letters once each, in arrival order, and records them as deliveries", async () => {
    const letter = (n: number) => ({
      bodySha256: String(n).repeat(64),
      type: `type_${n}`,
      reason: `reason ${n}`,
      body: `{"n":${n}}`,
      receivedAtUnixSecs: 1000 - n,
    });
    await db.webhooks.addDeadLetter(letter(2));
    await db.webhooks.addDeadLetter(letter(1));
    await db.webhooks.addDeadLetter(letter(2));
    expect(await db.webhooks.listDeadLetters(10)).toEqual([letter(2), letter(1)]);
    expect(await db.webhooks.listDeadLetters(1)).toEqual([letter(2)]);
    expect(await db.webhooks.findDelivery(letter(1).bodySha256)).toMatchObject({
      outcome: "dead_letter",
      type: "type_1",
    });
  });

  it("keeps, replaces, lists and drops pending audio", async () => {
    const pending = (id: string, size: number, at: number) => ({
      conversationId: id,
      audio: { blobKey: `audio/${id}`, contentType: "audio/mpeg", size },
      receivedAtUnixSecs: at,
    });
    await db.webhooks.putPendingAudio(pending("conv_b", 10, 5));
    await db.webhooks.putPendingAudio(pending("conv_a", 20, 6));
    await db.webhooks.putPendingAudio(pending("conv_b", 30, 7));
    expect(await db.webhooks.getPendingAudio("conv_b")).toEqual(pending("conv_b", 30, 7));
    expect(await db.webhooks.listPendingAudio(10)).toEqual([
      pending("conv_a", 20, 6),
      pending("conv_b", 30, 7),
    ]);
    await db.webhooks.deletePendingAudio("conv_a");
    expect(await db.webhooks.getPendingAudio("conv_a")).toBeUndefined();
    expect(await db.webhooks.listPendingAudio(10)).toHaveLength(1);
  });

  it("keeps one sync state per source", async () => {
    expect(await db.syncState.getSyncState("https://api.example")).toBeUndefined();
    await db.syncState.putSyncState({
      source: "https://api.example",
      highWaterUnixSecs: null,
      lastRunUnixSecs: null,
    });
    await db.syncState.putSyncState({
      source: "https://other.example",
      highWaterUnixSecs: 5,
      lastRunUnixSecs: 6,
    });
    await db.syncState.putSyncState({
      source: "https://api.example",
      highWaterUnixSecs: 1_735_689_600.5,
      lastRunUnixSecs: 1_735_700_000,
    });
    expect(await db.syncState.getSyncState("https://api.example")).toEqual({
      source: "https://api.example",
      highWaterUnixSecs: 1_735_689_600.5,
      lastRunUnixSecs: 1_735_700_000,
    });
    expect((await db.syncState.getSyncState("https://other.example"))?.highWaterUnixSecs).toBe(5);
  });
});
