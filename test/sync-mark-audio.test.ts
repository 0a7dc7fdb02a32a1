import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkIncomingDocument } from "../src/conversations/document-validator.js";
import type { ConversationRecord } from "../src/domain/conversation.js";
import { HttpConversationSource } from "../src/sync/http-conversation-source.js";
import { syncConversations } from "../src/sync/sync-conversations.js";
import { syntheticConversation } from "./fixtures/synthetic-conversations.js";
import { BACKENDS } from "./support/backends.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const CONVERSATIONS = 5;
/** Synthetic conversations start 97 s apart from this time. */
const FIRST_START = 1_735_689_600;

describe("incremental sync at the high-water mark", () => {
  let a: TestServer;

  beforeAll(async () => {
    a = await startTestServer("sqlite");
    const records: ConversationRecord[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const checked = checkIncomingDocument(syntheticConversation(i, 4), undefined);
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      records.push(checked.record);
    }
    await a.server.services.conversations.putRecords(records);
    // Every conversation has a recording but the newest, which sets the mark.
    for (const r of records.slice(0, -1))
      await a.server.services.conversations.putAudio(
        r.index.conversationId,
        Buffer.from("ID3-rec"),
        "audio/mpeg",
      );
  }, 60_000);

  afterAll(async () => a?.stop());

  it.each(BACKENDS)(
    "finds nothing to fetch when nothing changed, even for a conversation without a recording at the mark (%s)",
    async (backend) => {
      const b = await startTestServer(backend);
      try {
        const requests: string[] = [];
        const source = new HttpConversationSource({
          baseUrl: a.url,
          apiKey: a.apiKey,
          fetch: (input, init) => {
            requests.push(new URL(String(input)).pathname);
            return fetch(input, init);
          },
        });
        const options = {
          source,
          db: b.server.services.db,
          conversations: b.server.services.conversations,
          audio: true,
        };
        const first = await syncConversations(options);
        expect(first).toMatchObject({
          listed: CONVERSATIONS,
          fetched: CONVERSATIONS,
          // The newest says has_audio: false, so its recording is not asked for.
          audioFetched: CONVERSATIONS - 1,
          audioMissing: 0,
          failed: 0,
          markAfter: FIRST_START + (CONVERSATIONS - 1) * 97,
        });

        // Nothing changed upstream: the conversation at the mark is listed again (the list overlaps
        // the mark by a second), but there is nothing to fetch.
        const dry = await syncConversations({ ...options, dryRun: true });
        expect(dry).toMatchObject({ listed: 1, fetched: 0, skipped: 1 });

        requests.length = 0;
        const again = await syncConversations(options);
        expect(again).toMatchObject({ listed: 1, fetched: 0, skipped: 1, audioFetched: 0, audioMissing: 0 });
        expect(requests.filter((p) => p.endsWith("/audio"))).toEqual([]);
        expect(again.markAfter).toBe(first.markAfter);

        // --full still fetches everything again.
        const full = await syncConversations({ ...options, full: true });
        expect(full).toMatchObject({ listed: CONVERSATIONS, fetched: CONVERSATIONS, failed: 0 });
      } finally {
        await b.stop();
      }
    },
    60_000,
  );
});
