import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConversationRecord } from "../src/domain/conversation.js";
import { buildConversationRecord } from "../src/domain/conversation-record.js";
import type { Database } from "../src/store/store.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";

/** A minimal valid conversation record, with optional topic ids and evaluation results. */
function record(
  id: string,
  spec: { agentId?: string; start?: number; topics?: string[]; evaluations?: Record<string, string> } = {},
): ConversationRecord {
  const evaluations = Object.fromEntries(
    Object.entries(spec.evaluations ?? {}).map(([k, result]) => [
      k,
      { criteria_id: k, result, rationale: "" },
    ]),
  );
  return buildConversationRecord({
    agent_id: spec.agentId ?? "agent_a",
    conversation_id: id,
    status: "done",
    metadata: { start_time_unix_secs: spec.start ?? 1_700_000_000, call_duration_secs: 10 },
    transcript: [{ role: "user", message: "Hi", time_in_call_secs: 0 }],
    analysis: { evaluation_criteria_results: evaluations, call_successful: "success" },
    ...(spec.topics ? { topic_ids: spec.topics } : {}),
  });
}

describe.each(BACKENDS)("conversation resource stores on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
  });
  afterEach(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  describe("tags", () => {
    const tag = (tagId: string, createdAtUnixSecs = 1_700_000_000) => ({
      tagId,
      title: `Title ${tagId}`,
      description: null,
      ownerUserId: "default",
      workspaceId: "default",
      createdAtUnixSecs,
    });

    it("creates, reads, updates, lists newest first, and deletes", async () => {
      const a = await db.tags.createTag(tag("tag_a"));
      const b = await db.tags.createTag(tag("tag_b"));
      const c = await db.tags.createTag(tag("tag_c"));
      expect(a).toMatchObject({ tagId: "tag_a", title: "Title tag_a", description: null });
      expect(await db.tags.getTag("tag_b")).toEqual(b);
      expect((await db.tags.listTags(null, 2)).map((t) => t.tagId)).toEqual(["tag_c", "tag_b"]);
      expect((await db.tags.listTags(b.seq, 10)).map((t) => t.tagId)).toEqual(["tag_a"]);
      expect(c.seq).toBeGreaterThan(b.seq);

      expect(await db.tags.updateTag("tag_a", { description: "d" })).toMatchObject({
        title: "Title tag_a",
        description: "d",
      });
      expect(await db.tags.updateTag("tag_a", { title: "New" })).toMatchObject({
        title: "New",
        description: "d",
      });
      expect(await db.tags.updateTag("tag_a", { description: null })).toMatchObject({
        title: "New",
        description: null,
      });
      expect(await db.tags.updateTag("tag_nope", { title: "x" })).toBeUndefined();

      expect([...(await db.tags.findExistingTagIds(["tag_a", "tag_x", "tag_c"]))].sort()).toEqual([
        "tag_a",
        "tag_c",
      ]);
      expect(await db.tags.deleteTag("tag_b")).toMatchObject({ tagId: "tag_b" });
      expect(await db.tags.deleteTag("tag_b")).toBeUndefined();
      expect(await db.tags.getTag("tag_b")).toBeUndefined();
    });

    it("keeps ids with awkward characters distinct and findable", async () => {
      await db.tags.createTag(tag("nul\u0000tag"));
      expect(await db.tags.findExistingTagIds(["nul\u0000tag"])).toEqual(new Set(["nul\u0000tag"]));
      expect(await db.tags.getTag("nul\u0000tag")).toBeDefined();
    });
  });

  describe("files", () => {
    const file = (fileId: string, conversationId: string) => ({
      fileId,
      conversationId,
      blobKey: `files/${conversationId}/${fileId}`,
      fileName: "a.txt",
      contentType: "text/plain",
      size: 3,
      createdAtUnixSecs: 1_700_000_000,
    });

    it("records files only for existing conversations and removes them one at a time", async () => {
      await db.conversations.upsertConversations([record("c1")]);
      expect(await db.conversationFiles.insertFile(file("f1", "c1"))).toEqual(file("f1", "c1"));
      expect(await db.conversationFiles.insertFile(file("f2", "nope"))).toBeUndefined();
      expect(await db.conversationFiles.getFile("c1", "f1")).toEqual(file("f1", "c1"));
      expect(await db.conversationFiles.getFile("c2", "f1")).toBeUndefined();
      expect(await db.conversationFiles.deleteFile("c1", "f1")).toEqual(file("f1", "c1"));
      expect(await db.conversationFiles.deleteFile("c1", "f1")).toBeUndefined();
    });

    it("goes with its conversation: delete returns the blob keys; re-ingest keeps the files", async () => {
      await db.conversations.upsertConversations([record("c1"), record("c2")]);
      await db.conversationFiles.insertFile(file("f1", "c1"));
      await db.conversationFiles.insertFile(file("f2", "c1"));
      await db.conversationFiles.insertFile(file("f3", "c2"));
      await db.conversations.upsertConversations([record("c1", { start: 1_700_000_500 })]);
      expect(await db.conversationFiles.getFile("c1", "f1")).toBeDefined();

      const deleted = await db.conversations.deleteConversation("c1");
      expect(deleted && [...(deleted.fileBlobKeys ?? [])].sort()).toEqual(["files/c1/f1", "files/c1/f2"]);
      expect(await db.conversationFiles.getFile("c1", "f1")).toBeUndefined();
      expect(await db.conversationFiles.getFile("c2", "f3")).toBeDefined();
      expect(await db.conversations.deleteConversation("c2")).toEqual({
        audio: null,
        fileBlobKeys: ["files/c2/f3"],
      });
    });
  });

  describe("SIP messages", () => {
    it("replaces and pages a conversation's log, and goes with the conversation", async () => {
      await db.conversations.upsertConversations([record("c1"), record("nul\u0000c")]);
      const messages = ['{"n":0}', '{"n":1}', '{"n":2}'];
      expect(await db.sipMessages.replaceSipMessages("c1", messages)).toBe(messages.length);
      expect(await db.sipMessages.replaceSipMessages("nope", messages)).toBeUndefined();
      const first = await db.sipMessages.listSipMessages("c1", null, 2);
      expect(first.map((m) => m.json)).toEqual(['{"n":0}', '{"n":1}']);
      const rest = await db.sipMessages.listSipMessages("c1", first[1]?.position ?? null, 2);
      expect(rest.map((m) => m.json)).toEqual(['{"n":2}']);

      expect(await db.sipMessages.replaceSipMessages("c1", ['{"n":9}'])).toBe(1);
      expect((await db.sipMessages.listSipMessages("c1", null, 10)).map((m) => m.json)).toEqual(['{"n":9}']);
      expect(await db.sipMessages.replaceSipMessages("nul\u0000c", ['{"n":5}'])).toBe(1);
      expect(await db.sipMessages.listSipMessages("nul\u0000c", null, 10)).toHaveLength(1);

      await db.conversations.deleteConversation("c1");
      await db.conversations.upsertConversations([record("c1")]);
      expect(await db.sipMessages.listSipMessages("c1", null, 10)).toEqual([]);
    });
  });

  describe("topics", () => {
    it("replaces definitions and counts conversations and evaluations per topic in a window", async () => {
      await db.topics.putTopics("agent_a", [
        { topicId: "t1", json: '{"label":"One"}' },
        { topicId: "t2", json: '{"label":"Two"}' },
      ]);
      expect((await db.topics.getTopics("agent_a")).map((t) => t.topicId)).toEqual(["t1", "t2"]);
      await db.topics.putTopics("agent_a", [
        { topicId: "t2", json: "{}" },
        { topicId: "t1", json: "{}" },
      ]);
      expect((await db.topics.getTopics("agent_a")).map((t) => t.topicId)).toEqual(["t2", "t1"]);
      expect(await db.topics.getTopics("agent_b")).toEqual([]);

      await db.conversations.upsertConversations([
        record("c1", { start: 1000, topics: ["t1", "t2"], evaluations: { solved: "success" } }),
        record("c2", { start: 2000, topics: ["t1"], evaluations: { solved: "failure" } }),
        record("c3", { start: 3000, topics: ["t1"] }),
        record("c4", { start: 1500, topics: ["t1"], agentId: "agent_b" }),
      ]);
      const counts = await db.topics.countTopicConversations("agent_a", {});
      expect(Object.fromEntries(counts.map((c) => [c.topicId, c.conversationCount]))).toEqual({
        t1: 3,
        t2: 1,
      });
      const windowed = await db.topics.countTopicConversations("agent_a", {
        fromUnixSecs: 1500,
        toUnixSecs: 3000,
      });
      expect(windowed).toEqual([{ topicId: "t1", conversationCount: 1 }]);
      const evaluations = await db.topics.countTopicEvaluations("agent_a", {});
      expect(evaluations.map((e) => `${e.topicId}:${e.criteriaId}:${e.result}:${e.count}`).sort()).toEqual([
        "t1:solved:failure:1",
        "t1:solved:success:1",
        "t2:solved:success:1",
      ]);
      expect(await db.topics.topicTimeSpan("agent_a", {})).toEqual({
        firstStartUnixSecs: 1000,
        lastStartUnixSecs: 3000,
      });
      expect(await db.topics.topicTimeSpan("agent_a", { fromUnixSecs: 5000 })).toEqual({
        firstStartUnixSecs: null,
        lastStartUnixSecs: null,
      });
    });
  });
});
