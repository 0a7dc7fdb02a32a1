/**
 * `ConversationService.putRecording` when it cannot finish, on every backend: an unknown
 * conversation, an aborted signal, a recording without audio, a conversation deleted while its
 * recording was encoded, a failed blob write. Each keeps no blob and leaves the row as it was.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { audioBlobKey } from "../src/blobs/blob-keys.js";
import type { BlobStore } from "../src/blobs/blob-store.js";
import { FsBlobStore } from "../src/blobs/fs/fs-blob-store.js";
import { ConversationService } from "../src/conversations/conversation-service.js";
import { NotFoundError } from "../src/domain/errors.js";
import { audioBlobKeys } from "../src/store/audio-info.js";
import type { Database } from "../src/store/store.js";
import { buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";
import { buildCallRecording } from "./support/call-recording-fixture.js";

const NO_TRACKS = { hasAudio: true, hasUserAudio: false, hasResponseAudio: false };
const _BOTH_TRACKS = { hasAudio: true, hasUserAudio: true, hasResponseAudio: true };

describe.each(BACKENDS)("putRecording that cannot finish on %s", (backend) => {
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

  it("throws NotFoundError for an unknown conversation, encoding and keeping nothing", async () => {
    const recording = buildCallRecording();
    await expect(service.putRecording("conv_unknown", recording)).rejects.toBeInstanceOf(NotFoundError);
    expect(recording.hasUser).toBe(true);
    expect(audioFiles("conv_unknown")).toEqual([]);
  });

  it("an aborted signal rejects with its reason and keeps nothing", async () => {
    const controller = new AbortController();
    controller.abort(new Error("the server is shutting down"));
    await expect(
      service.putRecording("conv_1", buildCallRecording(), { signal: controller.signal }),
    ).rejects.toThrow("the server is shutting down");
    expect(audioFiles("conv_1")).toEqual([]);
    expect((await db.conversations.getConversation("conv_1"))?.audio).toBeNull();
  });

  it("a recording without audio stores nothing and leaves the audio there was", async () => {
    await service.putAudio("conv_1", Buffer.from([1, 2, 3]), "audio/wav");
    const before = await namedFiles("conv_1");
    expect(await service.putRecording("conv_1", buildCallRecording({ user: false, agent: false }))).toEqual(
      NO_TRACKS,
    );
    expect(audioFiles("conv_1")).toEqual(before);
  });

  it("a conversation deleted while its recording was encoded keeps none of it", async () => {
    // The row is gone by the time the recording is switched in.
    const racing = Object.create(db.conversations) as Database["conversations"];
    racing.setAudio = async () => undefined;
    const withRace = new ConversationService(racing, blobs);
    await expect(
      withRace.putRecording("conv_1", buildCallRecording({ agent: false })),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(audioFiles("conv_1")).toEqual([]);
  });

  it("a failed blob write deletes the blobs already written and leaves the row as it was", async () => {
    const failing: BlobStore = {
      put: (key, body) =>
        key.includes("/user-") ? Promise.reject(new Error("disk full")) : blobs.put(key, body),
      get: (key, range) => blobs.get(key, range),
      size: (key) => blobs.size(key),
      delete: (key) => blobs.delete(key),
    };
    const withFailingBlobs = new ConversationService(db.conversations, failing);
    // The mix is written first, then the user's track fails.
    const recording = buildCallRecording({ agent: false });
    await expect(withFailingBlobs.putRecording("conv_1", recording)).rejects.toThrow("disk full");
    expect(audioFiles("conv_1")).toEqual([]);
    expect((await db.conversations.getConversation("conv_1"))?.audio).toBeNull();
  });
});
