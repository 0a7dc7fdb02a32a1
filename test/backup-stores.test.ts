import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RestoredAgent } from "../src/store/agent-store.js";
import type { Database } from "../src/store/store.js";
import type { TagRow } from "../src/store/tag-store.js";
import { buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";

// The store reads and writes a backup uses, on every backend.

const tag = (seq: number, tagId: string, title = tagId): TagRow => ({
  seq,
  tagId,
  title,
  description: null,
  ownerUserId: "default",
  workspaceId: "default",
  createdAtUnixSecs: 1_750_000_000 + seq,
});

const agent = (seq: number, agentId: string, name = agentId): RestoredAgent => ({
  seq,
  agentId,
  json: `{"name":"${name}","conversation_config":{},"x":[1.5,null]}`,
  searchName: name.toLowerCase(),
  createdAtUnixSecs: 1_750_000_000 + seq,
  updatedAtUnixSecs: 1_760_000_000 + seq,
});

/** An agent row as read back (the folded name is not). */
const row = ({ searchName: _, ...rest }: RestoredAgent) => rest;

describe.each(BACKENDS)("backup store methods (%s)", (backend) => {
  let storage: TestStorage;
  let db: Database;
  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
  });
  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  it("restoreTag keeps a free place, takes the next one when taken, replaces by id; new tags come after", async () => {
    expect(await db.tags.restoreTag(tag(7, "tag_a"))).toEqual(tag(7, "tag_a"));
    expect(await db.tags.restoreTag(tag(3, "tag_b"))).toEqual(tag(3, "tag_b"));
    // seq 7 is tag_a's: tag_c goes after every tag.
    const moved = await db.tags.restoreTag(tag(7, "tag_c"));
    expect(moved.seq).toBeGreaterThan(7);
    // The same id again replaces it in place.
    expect(await db.tags.restoreTag({ ...tag(99, "tag_a", "renamed") })).toEqual({
      ...tag(7, "tag_a", "renamed"),
      createdAtUnixSecs: tag(99, "tag_a").createdAtUnixSecs,
    });
    const created = await db.tags.createTag({
      tagId: "tag_new",
      title: "new",
      description: null,
      ownerUserId: "default",
      workspaceId: "default",
      createdAtUnixSecs: 1,
    });
    expect(created.seq).toBeGreaterThan(moved.seq);
    expect((await db.tags.listTags(null, 10)).map((t) => t.tagId)).toEqual([
      "tag_new",
      "tag_c",
      "tag_a",
      "tag_b",
    ]);
  });

  it("restoreAgent keeps a free place, times and document, takes the next place when taken, replaces by id; new agents come after", async () => {
    expect(await db.agents.restoreAgent(agent(7, "agent_a"))).toEqual(row(agent(7, "agent_a")));
    expect(await db.agents.restoreAgent(agent(3, "agent_b"))).toEqual(row(agent(3, "agent_b")));
    // seq 7 is agent_a's: agent_c goes after every agent.
    const moved = await db.agents.restoreAgent(agent(7, "agent_c", "Carol"));
    expect(moved.seq).toBeGreaterThan(7);
    // The same id again replaces it in place, its folded name with it.
    const renamed = agent(99, "agent_a", "Renamed");
    expect(await db.agents.restoreAgent(renamed)).toEqual({ ...row(renamed), seq: 7 });
    expect((await db.agents.listAgents({ beforeSeq: null, limit: 10, searchName: "renamed" })).length).toBe(
      1,
    );
    expect(await db.agents.listAgents({ beforeSeq: null, limit: 10, searchName: "agent_a" })).toEqual([]);
    const created = await db.agents.createAgent({
      agentId: "agent_new",
      json: "{}",
      searchName: "",
      createdAtUnixSecs: 1,
    });
    expect(created.seq).toBeGreaterThan(moved.seq);
    const ids = ["agent_b", "agent_a", "agent_c", "agent_new"];
    expect((await db.agents.scanAgents(null, 10)).map((a) => a.agentId)).toEqual(ids);
    expect((await db.agents.scanAgents(3, 2)).map((a) => a.agentId)).toEqual(ids.slice(1, 3));
    expect((await db.agents.scanAgents(moved.seq, 10)).map((a) => a.agentId)).toEqual(["agent_new"]);
  });

  it("lists topic agents, analysis settings, files and SIP conversations in id order, a page at a time", async () => {
    for (const agentId of ["agent_b", "agent_a", "agent_c"]) {
      await db.topics.putTopics(agentId, [{ topicId: "t", json: '{"label":"T","description":"d"}' }]);
      await db.analysisSettings.putAnalysisSettings(agentId, `{"agent":"${agentId}"}`);
    }
    expect(await db.topics.listTopicAgentIds(null, 2)).toEqual(["agent_a", "agent_b"]);
    expect(await db.topics.listTopicAgentIds("agent_b", 2)).toEqual(["agent_c"]);
    expect(await db.analysisSettings.listAnalysisSettings("agent_a", 1)).toEqual([
      { agentId: "agent_b", json: '{"agent":"agent_b"}' },
    ]);

    const { ConversationService } = await import("../src/conversations/conversation-service.js");
    const service = new ConversationService(db.conversations, {
      put: async () => 0,
      get: async () => undefined,
      size: async () => undefined,
      delete: async () => {},
      checkReachable: async () => {},
    });
    for (const id of ["conv_2", "conv_1"]) await service.putConversation(buildConversation({ id }));
    for (const id of ["conv_2", "conv_1"]) await db.sipMessages.replaceSipMessages(id, ['{"n":1}']);
    expect(await db.sipMessages.listSipConversationIds(null, 10)).toEqual(["conv_1", "conv_2"]);
    expect(await db.sipMessages.listSipConversationIds("conv_1", 10)).toEqual(["conv_2"]);

    for (const fileId of ["file_b", "file_a"]) {
      await db.conversationFiles.insertFile({
        fileId,
        conversationId: "conv_1",
        blobKey: `files/conv_1/${fileId}`,
        fileName: null,
        contentType: "text/plain",
        size: 3,
        createdAtUnixSecs: 5,
      });
    }
    expect((await db.conversationFiles.scanFiles(null, 1)).map((f) => f.fileId)).toEqual(["file_a"]);
    expect(await db.conversationFiles.scanFiles("file_a", 5)).toEqual([
      {
        fileId: "file_b",
        conversationId: "conv_1",
        blobKey: "files/conv_1/file_b",
        fileName: null,
        contentType: "text/plain",
        size: 3,
        createdAtUnixSecs: 5,
      },
    ]);
  });
});
