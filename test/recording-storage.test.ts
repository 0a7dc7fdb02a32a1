/**
 * `ConversationService.putRecording` on every backend, at the service: what it writes to the
 * store and the blob store, how a new recording or uploaded audio replaces one (every replaced
 * blob deleted), and what it keeps when it cannot finish (unknown conversation, abort, a failed
 * blob write, a recording without audio: recording-storage-failures.test.ts).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildConversation } from "./fixtures/conversations.js";
import { BACKENDS } from "./support/backends.js";
import { buildCallRecording } from "./support/call-recording-fixture.js";
import { BOTH_TRACKS, NO_TRACKS, useRecordingService } from "./support/recording-service.js";

describe.each(BACKENDS)("putRecording on %s", (backend) => {
  const t = useRecordingService(backend);
  const audioFiles = (id: string) => t.audioFiles(id);
  const namedFiles = (id: string) => t.namedFiles(id);

  it("stores the mix and both tracks as MP3 in the conversation's audio folder, and a delete removes them all", async () => {
    const recording = buildCallRecording();
    expect(await t.service.putRecording("conv_1", recording)).toEqual(BOTH_TRACKS);
    // The recording's audio was taken.
    expect(recording.durationMs).toBe(0);
    const audio = (await t.db.conversations.getConversation("conv_1"))?.audio;
    expect(audio?.contentType).toBe("audio/mpeg");
    expect(audio?.tracks?.user?.blobKey).toMatch(/\/user-[0-9a-f-]+$/);
    expect(audio?.tracks?.agent?.blobKey).toMatch(/\/agent-[0-9a-f-]+$/);
    for (const blob of [audio, audio?.tracks?.user, audio?.tracks?.agent]) {
      expect(blob?.size).toBeGreaterThan(1000);
      expect(await t.blobs.size(blob?.blobKey ?? "")).toBe(blob?.size);
    }
    expect(audioFiles("conv_1")).toHaveLength(3);
    expect(audioFiles("conv_1")).toEqual(await namedFiles("conv_1"));
    // A document write keeps the recording and its tracks, and says so.
    expect(await t.service.putConversation(buildConversation({ id: "conv_1" }))).toMatchObject(BOTH_TRACKS);
    expect((await t.db.conversations.getConversation("conv_1"))?.audio).toEqual(audio);

    await t.service.deleteConversation("conv_1");
    expect(audioFiles("conv_1")).toEqual([]);
  });

  it("each write replaces the audio whole, deleting every blob it replaced", async () => {
    await t.service.putAudio("conv_1", Buffer.from([1, 2, 3]), "audio/wav");
    const uploaded = await namedFiles("conv_1");

    // A recording replaces uploaded audio.
    await t.service.putRecording("conv_1", buildCallRecording());
    const first = await namedFiles("conv_1");
    expect(first).toHaveLength(3);
    expect(first).not.toContain(uploaded[0]);
    expect(audioFiles("conv_1")).toEqual(first);

    // A new recording replaces the old one, and keeps only the tracks of who was heard.
    expect(await t.service.putRecording("conv_1", buildCallRecording({ agent: false }))).toEqual({
      hasAudio: true,
      hasUserAudio: true,
      hasResponseAudio: false,
    });
    const second = await namedFiles("conv_1");
    expect(second).toHaveLength(2);
    expect(second.some((name) => first.includes(name))).toBe(false);
    expect(audioFiles("conv_1")).toEqual(second);
    expect(Object.keys((await t.db.conversations.getConversation("conv_1"))?.audio?.tracks ?? {})).toEqual([
      "user",
    ]);

    // Uploaded audio replaces a recording and clears its tracks.
    expect(await t.service.putAudio("conv_1", Buffer.from([4, 5]), "audio/ogg")).toMatchObject({
      hasAudio: true,
    });
    const audio = (await t.db.conversations.getConversation("conv_1"))?.audio;
    expect(audio).toEqual({ blobKey: expect.any(String), contentType: "audio/ogg", size: 2 });
    expect(audioFiles("conv_1")).toEqual([path.basename(audio?.blobKey ?? "")]);
    expect(await t.service.putConversation(buildConversation({ id: "conv_1" }))).toMatchObject(NO_TRACKS);
  });
});
