/**
 * The served document as the store hands it over (`getServedConversationBytes`), on every backend:
 * the exact bytes `renderStoredDocument` makes of the stored text, for every combination of the
 * audio a row can hold, with multibyte characters kept whole. SQLite renders it in its SELECT; this
 * holds that rendering to the one in TypeScript.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import { renderStoredDocument } from "../../src/domain/stored-document.js";
import { type AudioInfo, audioFlagsOf } from "../../src/store/audio-info.js";
import type { Database } from "../../src/store/store.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";

const MIX = { blobKey: "audio/s/mix", contentType: "audio/mpeg", size: 10 };
const USER = { blobKey: "audio/s/user", size: 4 };
const AGENT = { blobKey: "audio/s/agent", size: 6 };

const AUDIO: [string, AudioInfo | null][] = [
  ["no audio", null],
  ["an uploaded file", MIX],
  ["a recording with both tracks", { ...MIX, tracks: { user: USER, agent: AGENT } }],
  ["a recording with the user's track", { ...MIX, tracks: { user: USER } }],
  ["a recording with the agent's track", { ...MIX, tracks: { agent: AGENT } }],
];

describe.each(BACKENDS)("the served document from the %s store", (backend) => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    const doc = buildConversation({
      id: "c1",
      messages: ["こんにちは、予約を変更したいです 🙂", "Claro — ¿qué día le viene bien? Grüße"],
    });
    await db.conversations.putConversation(buildConversationRecord(doc));
  });
  afterEach(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  it.each(AUDIO)("is renderStoredDocument's text, byte for byte, with %s", async (_, audio) => {
    if (audio) await db.conversations.setAudio("c1", audio);
    const stored = await db.conversations.getConversation("c1");
    const served = await db.conversations.getServedConversationBytes("c1");
    if (!stored || !served) throw new Error("c1 is missing");
    expect(served.audio).toEqual(audio);
    const expected = renderStoredDocument(stored.json, audioFlagsOf(audio));
    expect(served.bytes.equals(Buffer.from(expected, "utf8"))).toBe(true);
    const doc = JSON.parse(served.bytes.toString("utf8")) as Record<string, unknown>;
    expect(doc).toMatchObject({
      conversation_id: "c1",
      has_audio: audio !== null,
      has_user_audio: audio?.tracks?.user !== undefined,
      has_response_audio: audio?.tracks?.agent !== undefined,
      has_auxiliary_audio: false,
    });
    expect((doc.transcript as { message: string }[])[0]?.message).toBe("こんにちは、予約を変更したいです 🙂");
  });

  it("is undefined for a conversation that does not exist", async () => {
    expect(await db.conversations.getServedConversationBytes("missing")).toBeUndefined();
  });
});
