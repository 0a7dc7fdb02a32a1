import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConversationRecord } from "../src/domain/conversation-record.js";
import type { ListQuery } from "../src/domain/list-query.js";
import type { Database } from "../src/store/store.js";
import { buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";
import { listQuery } from "./support/list-query.js";

const QUERY: ListQuery = listQuery();

function record(
  id: string,
  startTime: number,
  agentId = "agent_a",
  messages = ["hello there", "general kenobi"],
) {
  return buildConversationRecord(buildConversation({ id, startTime, agentId, messages }));
}

function vector(...values: number[]): Float32Array {
  return Float32Array.from(values);
}

describe.each(BACKENDS)("message search and analysis settings stores on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    await db.conversations.upsertConversations([
      record("c1", 100),
      record("c2", 200, "agent_b", ["kenobi again"]),
      record("c3", 200),
      record("c4", 300),
    ]);
  });
  afterEach(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  it("finds candidates newest first, from a position included or not, with the list's filters and search", async () => {
    const all = await db.messageSearch.findCandidates(QUERY, null, 10);
    expect(all.map((c) => c.conversationId)).toEqual(["c4", "c3", "c2", "c1"]);
    expect(all[0]).toMatchObject({ startTime: 300, agentId: "agent_a" });
    expect(JSON.parse(all[0]?.json ?? "{}").conversation_id).toBe("c4");
    const from = { startTime: 200, conversationId: "c3" };
    expect(
      (await db.messageSearch.findCandidates(QUERY, { ...from, inclusive: true }, 2)).map(
        (c) => c.conversationId,
      ),
    ).toEqual(["c3", "c2"]);
    expect(
      (await db.messageSearch.findCandidates(QUERY, { ...from, inclusive: false }, 10)).map(
        (c) => c.conversationId,
      ),
    ).toEqual(["c2", "c1"]);
    const filtered = await db.messageSearch.findCandidates(
      { ...QUERY, agentId: "agent_a", search: "kenobi" },
      null,
      10,
    );
    expect(filtered.map((c) => c.conversationId)).toEqual(["c4", "c3", "c1"]);
  });

  it("lists conversations to embed, replaces embeddings in one go, and keeps them only while current", async () => {
    const pending = await db.messageSearch.findPendingEmbeddings("m1", 10);
    expect(pending.map((p) => p.conversationId)).toEqual(["c1", "c2", "c3", "c4"]);
    const c1 = pending[0];
    if (!c1) throw new Error("no pending conversation");
    expect(c1.textHash).toBeNull();
    const rows = [
      { transcriptIndex: 0, chunk: 0, chunkText: "hello there", vector: vector(1, 0) },
      { transcriptIndex: 1, chunk: 0, chunkText: "general kenobi", vector: vector(0, 1) },
    ];
    // A document changed since it was read is not written.
    expect(
      await db.messageSearch.replaceEmbeddings(
        "c1",
        { model: "m1", updatedAt: c1.updatedAt - 1, textHash: "h" },
        rows,
      ),
    ).toBe(false);
    expect(
      await db.messageSearch.replaceEmbeddings("nope", { model: "m1", updatedAt: 0, textHash: "h" }, rows),
    ).toBe(false);
    expect(
      await db.messageSearch.replaceEmbeddings(
        "c1",
        { model: "m1", updatedAt: c1.updatedAt, textHash: "h" },
        rows,
      ),
    ).toBe(true);
    expect(await db.messageSearch.countEmbeddedConversations("m1")).toBe(1);
    expect(await db.messageSearch.countEmbeddedConversations("m2")).toBe(0);

    const scanned = await db.messageSearch.scanEmbeddings("m1", {}, null, 10);
    expect(
      scanned.map((r) => [r.conversationId, r.transcriptIndex, r.chunkText, Array.from(r.vector)]),
    ).toEqual([
      ["c1", 0, "hello there", [1, 0]],
      ["c1", 1, "general kenobi", [0, 1]],
    ]);
    expect(scanned[0]).toMatchObject({ startTime: 100, agentId: "agent_a" });
    const page2 = await db.messageSearch.scanEmbeddings(
      "m1",
      {},
      { conversationId: "c1", transcriptIndex: 0, chunk: 0 },
      10,
    );
    expect(page2.map((r) => r.transcriptIndex)).toEqual([1]);
    expect(await db.messageSearch.scanEmbeddings("m1", { agentId: "agent_b" }, null, 10)).toEqual([]);
    expect(await db.messageSearch.scanEmbeddings("m2", {}, null, 10)).toEqual([]);

    // Another model makes it pending again; null rows keep the vectors and record the new state.
    const again = await db.messageSearch.findPendingEmbeddings("m2", 10);
    expect(again.find((p) => p.conversationId === "c1")).toMatchObject({ textHash: "h", model: "m1" });
    expect(
      await db.messageSearch.replaceEmbeddings(
        "c1",
        { model: "m2", updatedAt: c1.updatedAt, textHash: "h" },
        null,
      ),
    ).toBe(true);
    expect((await db.messageSearch.scanEmbeddings("m2", {}, null, 10)).length).toBe(2);

    // Deleting the conversation deletes its embeddings.
    await db.conversations.deleteConversation("c1");
    expect(await db.messageSearch.scanEmbeddings("m2", {}, null, 10)).toEqual([]);
    expect(await db.messageSearch.countEmbeddedConversations("m2")).toBe(0);
  });

  it("stores analysis settings per agent", async () => {
    expect(await db.analysisSettings.getAnalysisSettings("agent_a")).toBeUndefined();
    expect(await db.analysisSettings.putAnalysisSettings("agent_a", '{"a":1}')).toBe("created");
    expect(await db.analysisSettings.putAnalysisSettings("agent_a", '{"a":2}')).toBe("replaced");
    expect(await db.analysisSettings.getAnalysisSettings("agent_a")).toBe('{"a":2}');
    expect(await db.analysisSettings.getAnalysisSettings("agent_b")).toBeUndefined();
  });
});
