/**
 * `ConversationService.putRecording` when it cannot finish, on every backend: an unknown
 * conversation, an aborted signal, a recording without audio, a conversation deleted while its
 * recording was encoded, a failed blob write. Each keeps no blob and leaves the row as it was.
 */
import { describe, expect, it } from "vitest";
import type { BlobStore } from "../src/blobs/blob-store.js";
import { ConversationService } from "../src/conversations/conversation-service.js";
import { NotFoundError } from "../src/domain/errors.js";
import type { Database } from "../src/store/store.js";
import { BACKENDS } from "./support/backends.js";
import { buildCallRecording } from "./support/call-recording-fixture.js";
import { NO_TRACKS, useRecordingService } from "./support/recording-service.js";

describe.each(BACKENDS)("putRecording that cannot finish on %s", (backend) => {
  const t = useRecordingService(backend);
  const audioFiles = (id: string) => t.audioFiles(id);
  const namedFiles = (id: string) => t.namedFiles(id);

  it("throws NotFoundError for an unknown conversation, encoding and keeping nothing", async () => {
    const recording = buildCallRecording();
    await expect(t.service.putRecording("conv_unknown", recording)).rejects.toBeInstanceOf(NotFoundError);
    expect(recording.hasUser).toBe(true);
    expect(audioFiles("conv_unknown")).toEqual([]);
  });

  it("an aborted signal rejects with its reason and keeps nothing", async () => {
    const controller = new AbortController();
    controller.abort(new Error("the server is shutting down"));
    await expect(
      t.service.putRecording("conv_1", buildCallRecording(), { signal: controller.signal }),
    ).rejects.toThrow("the server is shutting down");
    expect(audioFiles("conv_1")).toEqual([]);
    expect((await t.db.conversations.getConversation("conv_1"))?.audio).toBeNull();
  });

  it("a recording without audio stores nothing and leaves the audio there was", async () => {
    await t.service.putAudio("conv_1", Buffer.from([1, 2, 3]), "audio/wav");
    const before = await namedFiles("conv_1");
    expect(await t.service.putRecording("conv_1", buildCallRecording({ user: false, agent: false }))).toEqual(
      NO_TRACKS,
    );
    expect(audioFiles("conv_1")).toEqual(before);
  });

  it("a conversation deleted while its recording was encoded keeps none of it", async () => {
    // The row is gone by the time the recording is switched in.
    const racing = Object.create(t.db.conversations) as Database["conversations"];
    racing.setAudio = async () => undefined;
    const withRace = new ConversationService(racing, t.blobs);
    await expect(
      withRace.putRecording("conv_1", buildCallRecording({ agent: false })),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(audioFiles("conv_1")).toEqual([]);
  });

  it("a database that refuses the switch leaves none of the recording's blobs", async () => {
    const refusing = Object.create(t.db.conversations) as Database["conversations"];
    refusing.setAudio = async () => {
      throw new Error("database is locked");
    };
    const withRefusal = new ConversationService(refusing, t.blobs);
    await expect(withRefusal.putRecording("conv_1", buildCallRecording())).rejects.toThrow(
      "database is locked",
    );
    expect(audioFiles("conv_1")).toEqual([]);
  });

  it("a failed blob write deletes the blobs already written and leaves the row as it was", async () => {
    const failing: BlobStore = {
      put: (key, body) =>
        key.includes("/user-") ? Promise.reject(new Error("disk full")) : t.blobs.put(key, body),
      get: (key, range) => t.blobs.get(key, range),
      size: (key) => t.blobs.size(key),
      delete: (key) => t.blobs.delete(key),
      checkReachable: () => t.blobs.checkReachable(),
    };
    const withFailingBlobs = new ConversationService(t.db.conversations, failing);
    // The mix is written first, then the user's track fails.
    const recording = buildCallRecording({ agent: false });
    await expect(withFailingBlobs.putRecording("conv_1", recording)).rejects.toThrow("disk full");
    expect(audioFiles("conv_1")).toEqual([]);
    expect((await t.db.conversations.getConversation("conv_1"))?.audio).toBeNull();
  });
});
