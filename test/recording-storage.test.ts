/**
 * `ConversationService.putRecording` on every backend, at the service: what it writes to the
 * store and the blob store, how a new recording or uploaded audio replaces one (every replaced
 * blob deleted), and what it keeps when it cannot finish (unknown conversation, abort, a failed
 * blob write, a recording without audio: recording-storage-failures.test.ts).
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { audioBlobKey } from "../src/blobs/blob-keys.js";
import { FsBlobStore } from "../src/blobs/fs/fs-blob-store.js";
import { ConversationService } from "../src/conversations/conversation-service.js";
import { audioBlobKeys } from "../src/store/audio-info.js";
import type { Database } from "../src/store/store.js";
import { buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";
import { buildCallRecording } from "./support/call-recording-fixture.js";

const NO_TRACKS = { hasAudio: true, hasUserAudio: false, hasResponseAudio: false };
const BOTH_TRACKS = { hasAudio: true, hasUserAudio: true, hasResponseAudio: true };

describe.each(BACKENDS)("putRecording on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;
  let blobs: FsBlobStore;
  let service: ConversationService;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    blobs = new FsBlobStore(path.join(storage.dataDir, "blobs"));
    service = new ConversationService(db.conversations, blobs);
    await service.putConversation(buildConversation({ id: "conv_1" }));
  });
  afterEach(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  /** The files the blob store holds in a conversation's audio folder. */
  const audioFiles = (id: string): string[] => {
    const folder = path.join(storage.dataDir, "blobs", audioBlobKey(id));
    return existsSync(folder) ? readdirSync(folder).sort() : [];
  };
  /** The blob file names the row names, sorted. */
  const namedFiles = async (id: string): Promise<string[]> => {
    const audio = (await db.conversations.getConversation(id))?.audio;
    return audio
      ? audioBlobKeys(audio)
          .map((key) => path.basename(key))
          .sort()
      : [];
  };

  it("stores the mix and both tracks as MP3 in the conversation's audio folder, and a delete removes them all", async () => {
    const recording = buildCallRecording();
    expect(await service.putRecording("conv_1", recording)).toEqual(BOTH_TRACKS);
    // The recording's audio was taken.
    expect(recording.durationMs).toBe(0);
    const audio = (await db.conversations.getConversation("conv_1"))?.audio;
    expect(audio?.contentType).toBe("audio/mpeg");
    expect(audio?.tracks?.user?.blobKey).toMatch(/\/user-[0-9a-f-]+$/);
    expect(audio?.tracks?.agent?.blobKey).toMatch(/\/agent-[0-9a-f-]+$/);
    for (const blob of [audio, audio?.tracks?.user, audio?.tracks?.agent]) {
      expect(blob?.size).toBeGreaterThan(1000);
      expect(await blobs.size(blob?.blobKey ?? "")).toBe(blob?.size);
    }
    expect(audioFiles("conv_1")).toHaveLength(3);
    expect(audioFiles("conv_1")).toEqual(await namedFiles("conv_1"));
    // A document write keeps the recording and its tracks, and says so.
    expect(await service.putConversation(buildConversation({ id: "conv_1" }))).toMatchObject(BOTH_TRACKS);
    expect((await db.conversations.getConversation("conv_1"))?.audio).toEqual(audio);

    await service.deleteConversation("conv_1");
    expect(audioFiles("conv_1")).toEqual([]);
  });

  it("each write replaces the audio whole, deleting every blob it replaced", async () => {
    await service.putAudio("conv_1", Buffer.from([1, 2, 3]), "audio/wav");
    const uploaded = await namedFiles("conv_1");

    // A recording replaces uploaded audio.
    await service.putRecording("conv_1", buildCallRecording());
    const first = await namedFiles("conv_1");
    expect(first).toHaveLength(3);
    expect(first).not.toContain(uploaded[0]);
    expect(audioFiles("conv_1")).toEqual(first);

    // A new recording replaces the old one, and keeps only the tracks of who was heard.
    expect(await service.putRecording("conv_1", buildCallRecording({ agent: false }))).toEqual({
      hasAudio: true,
      hasUserAudio: true,
      hasResponseAudio: false,
    });
    const second = await namedFiles("conv_1");
    expect(second).toHaveLength(2);
    expect(second.some((name) => first.includes(name))).toBe(false);
    expect(audioFiles("conv_1")).toEqual(second);
    expect(Object.keys((await db.conversations.getConversation("conv_1"))?.audio?.tracks ?? {})).toEqual([
      "user",
    ]);

    // Uploaded audio replaces a recording and clears its tracks.
    expect(await service.putAudio("conv_1", Buffer.from([4, 5]), "audio/ogg")).toMatchObject({
      hasAudio: true,
    });
    const audio = (await db.conversations.getConversation("conv_1"))?.audio;
    expect(audio).toEqual({ blobKey: expect.any(String), contentType: "audio/ogg", size: 2 });
    expect(audioFiles("conv_1")).toEqual([path.basename(audio?.blobKey ?? "")]);
    expect(await service.putConversation(buildConversation({ id: "conv_1" }))).toMatchObject(NO_TRACKS);
  });
});
