/**
 * The retention job on a fake clock, on every backend: the server's default period, agents'
 * `platform_settings.privacy` (their own period, unlimited, delete_audio, delete_transcript_and_pii,
 * zero retention, apply_to_existing_conversations), the job lock, and start/stop.
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { newAudioBlobKey } from "../../src/blobs/blob-keys.js";
import { FsBlobStore } from "../../src/blobs/fs/fs-blob-store.js";
import { ConversationService } from "../../src/conversations/conversation-service.js";
import { FULL_SWEEP_INTERVAL_MS, RETENTION_JOB, RetentionJob } from "../../src/retention/retention-job.js";
import type { Database } from "../../src/store/store.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { listQuery } from "../support/list-query.js";
import { testDelivery, testWebhook } from "../support/outgoing-webhooks.js";

const DAY = 86_400;
/** The fake clock's "now", in Unix seconds. */
const NOW = 1_760_000_000;
const MODEL = "test-embeddings";
const silentLogger = { info: () => undefined, warn: () => undefined };

describe.each(BACKENDS)("the retention job (%s)", (backend) => {
  let storage: TestStorage;
  let db: Database;
  let blobs: FsBlobStore;
  let service: ConversationService;
  let nowMs: number;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    blobs = new FsBlobStore(path.join(storage.dataDir, "blobs"));
    service = new ConversationService(db.conversations, blobs);
    nowMs = NOW * 1000;
  });
  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  const job = (defaultDays: number | null, intervalMs = 60_000) =>
    new RetentionJob({
      store: db.retention,
      agents: db.agents,
      jobLocks: db.jobLocks,
      conversations: service,
      blobs,
      defaultDays,
      intervalMs,
      clock: { now: () => nowMs },
      logger: silentLogger,
      batchSize: 2, // several pages even with a handful of conversations
    });

  /** A conversation of `agentId` that started `daysAgo` days before the fake now. */
  const put = async (id: string, agentId: string, daysAgo: number, extra: Record<string, unknown> = {}) => {
    const doc = buildConversation({
      id,
      agentId,
      startTime: NOW - daysAgo * DAY,
      userId: `user_${id}`,
      summary: `The caller of ${id} gave their card number.`,
      messages: ["My card number is 4111.", "Thanks, noted."],
      ...extra,
    });
    await service.putConversation(doc);
  };
  const withAudio = async (id: string) => {
    const key = newAudioBlobKey(id);
    await blobs.put(key, Buffer.from("mp3 bytes"));
    await db.conversations.setAudio(id, { blobKey: key, contentType: "audio/mpeg", size: 9 });
    return key;
  };
  const withFile = async (id: string) => {
    const blobKey = `files/${id}/f1`;
    await blobs.put(blobKey, Buffer.from("a file"));
    await db.conversationFiles.insertFile({
      fileId: `f_${id}`,
      conversationId: id,
      blobKey,
      fileName: "id.png",
      contentType: "image/png",
      size: 6,
      createdAtUnixSecs: NOW,
    });
    return blobKey;
  };
  const withSip = (id: string) => db.sipMessages.replaceSipMessages(id, ["INVITE sip:+1555"]);
  const withEmbeddings = async (id: string) => {
    const pending = (await db.messageSearch.findPendingEmbeddings(MODEL, 100)).find(
      (p) => p.conversationId === id,
    );
    if (!pending) throw new Error(`no pending embedding for ${id}`);
    const row = {
      transcriptIndex: 0,
      chunk: 0,
      chunkText: "My card number",
      vector: new Float32Array([1, 0]),
    };
    expect(
      await db.messageSearch.replaceEmbeddings(
        id,
        { model: MODEL, updatedAt: pending.updatedAt, textHash: "h" },
        [row],
      ),
    ).toBe(true);
  };
  /**
   * An agent with these privacy settings, created `createdDaysAgo` days before the fake now and
   * last edited `editedDaysAgo` days before it (by default when it was created).
   */
  const agent = async (
    agentId: string,
    privacy: Record<string, unknown> | null,
    createdDaysAgo = 1000,
    editedDaysAgo = createdDaysAgo,
  ) => {
    const doc = privacy ? { name: agentId, platform_settings: { privacy } } : { name: agentId };
    await db.agents.restoreAgent({
      seq: 0,
      agentId,
      json: JSON.stringify(doc),
      searchName: agentId,
      createdAtUnixSecs: NOW - createdDaysAgo * DAY,
      updatedAtUnixSecs: NOW - editedDaysAgo * DAY,
    });
  };
  const exists = async (id: string) => (await db.conversations.getConversation(id)) !== undefined;
  const docOf = async (id: string) =>
    JSON.parse((await db.conversations.getConversation(id))?.json ?? "null");

  it("the server's default deletes old conversations with their audio, files, SIP messages and embeddings; young ones stay", async () => {
    await put("c_old", "agent_x", 40);
    const audioKey = await withAudio("c_old");
    const fileKey = await withFile("c_old");
    await withSip("c_old");
    await withEmbeddings("c_old");
    await put("c_young", "agent_x", 10);
    const youngAudio = await withAudio("c_young");
    for (const id of ["c_old_2", "c_old_3"]) await put(id, "agent_y", 31);
    expect(await db.messageSearch.countEmbeddedConversations(MODEL)).toBe(1);

    const retention = job(30);
    expect(await retention.runOnce()).toEqual({ deleted: 3, trimmed: 0, failed: 0 });
    for (const id of ["c_old", "c_old_2", "c_old_3"]) expect(await exists(id)).toBe(false);
    expect(await blobs.size(audioKey)).toBeUndefined();
    expect(await blobs.size(fileKey)).toBeUndefined();
    expect(await db.sipMessages.listSipMessages("c_old", null, 10)).toEqual([]);
    expect(await db.messageSearch.countEmbeddedConversations(MODEL)).toBe(0);
    expect(await exists("c_young")).toBe(true);
    expect(await blobs.size(youngAudio)).toBe(9);

    // Twenty-one days on, the young one is thirty-one days old.
    nowMs += 21 * DAY * 1000;
    expect(await retention.runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("c_young")).toBe(false);
    expect(await blobs.size(youngAudio)).toBeUndefined();
  });

  it("keeps everything without a default, and an agent's retention_days wins over the default (-1: unlimited)", async () => {
    await agent("agent_short", { retention_days: 5, apply_to_existing_conversations: true });
    await agent("agent_forever", { retention_days: -1, apply_to_existing_conversations: true });
    await put("short_old", "agent_short", 6);
    await put("short_young", "agent_short", 4);
    await put("forever_old", "agent_forever", 400);
    await put("other_old", "agent_other", 40);
    await put("other_young", "agent_other", 20);

    expect(await job(null).runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("short_old")).toBe(false);
    expect(await exists("other_old")).toBe(true);

    expect(await job(30).runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("other_old")).toBe(false);
    for (const id of ["short_young", "forever_old", "other_young"]) expect(await exists(id)).toBe(true);
  });

  it("delete_audio deletes only the audio at expiry, and delete_transcript_and_pii only the transcript and what holds personal data", async () => {
    await agent("agent_audio", {
      retention_days: 7,
      delete_audio: true,
      apply_to_existing_conversations: true,
    });
    await agent("agent_text", {
      retention_days: 7,
      delete_transcript_and_pii: true,
      apply_to_existing_conversations: true,
    });
    await put("audio_old", "agent_audio", 8);
    const audioKey = await withAudio("audio_old");
    await put("audio_young", "agent_audio", 6);
    const youngKey = await withAudio("audio_young");
    await put("text_old", "agent_text", 8, { phoneDirection: "inbound" });
    const textAudio = await withAudio("text_old");
    const fileKey = await withFile("text_old");
    await withSip("text_old");
    await withEmbeddings("text_old");

    const retention = job(null);
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 2, failed: 0 });

    // delete_audio: the conversation and its transcript stay, the audio is gone.
    const audioRow = await db.conversations.getConversation("audio_old");
    expect(audioRow?.audio).toBeNull();
    expect(await blobs.size(audioKey)).toBeUndefined();
    const audioDoc = await docOf("audio_old");
    expect(audioDoc.transcript).toHaveLength(2);
    expect(audioDoc.metadata.deletion_settings).toMatchObject({
      delete_audio: true,
      deleted_audio_at_time_unix_secs: NOW,
    });
    expect(audioDoc.metadata.deletion_settings.deleted_transcript_at_time_unix_secs).toBeUndefined();
    expect((await db.conversations.getConversation("audio_young"))?.audio?.blobKey).toBe(youngKey);

    // delete_transcript_and_pii: the audio stays, the transcript and personal data are gone.
    const textRow = await db.conversations.getConversation("text_old");
    expect(textRow?.audio?.blobKey).toBe(textAudio);
    const textDoc = await docOf("text_old");
    expect(textDoc.transcript).toEqual([]);
    expect(textDoc.user_id).toBeNull();
    expect(textDoc.analysis.transcript_summary).toBe("");
    expect(textDoc.analysis.call_successful).toBe("success");
    expect(textDoc.metadata.phone_call).toBeNull();
    expect(textDoc.metadata.deletion_settings).toMatchObject({
      delete_transcript_and_pii: true,
      deleted_transcript_at_time_unix_secs: NOW,
      deleted_logs_at_time_unix_secs: NOW,
    });
    expect(textRow?.json).not.toContain("4111");
    expect(await blobs.size(fileKey)).toBeUndefined();
    expect(await db.conversationFiles.getFile("text_old", "f_text_old")).toBeUndefined();
    expect(await db.sipMessages.listSipMessages("text_old", null, 10)).toEqual([]);
    expect(await db.messageSearch.countEmbeddedConversations(MODEL)).toBe(0);
    // The search index was rebuilt from what is left: the others still hold the number, it does not.
    const found = await db.conversations.listConversations(listQuery({ search: "4111" }));
    const foundIds = found.items.map((item) => JSON.parse(item.listItemJson).conversation_id).sort();
    expect(foundIds).toEqual(["audio_old", "audio_young"]);

    // The next round starts where this one stopped; the young one expires in its time.
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 0, failed: 0 });
    nowMs += 2 * DAY * 1000;
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 1, failed: 0 });
    expect(await blobs.size(youngKey)).toBeUndefined();
    expect(await exists("audio_young")).toBe(true);
  });

  it("zero retention deletes a finished conversation once its webhook deliveries are final, not before", async () => {
    await agent("agent_zero", { zero_retention_mode: true, apply_to_existing_conversations: true });
    await db.outgoingWebhooks.insertWebhook(testWebhook("wh_1"));
    await put("z_live", "agent_zero", 0, { status: "in-progress" });
    await put("z_pending", "agent_zero", 0);
    const audioKey = await withAudio("z_pending");
    await put("z_failed", "agent_zero", 0, { status: "failed" });
    await put("z_plain", "agent_other", 0);
    const queuedAt = Date.now();
    await db.outgoingWebhooks.enqueue([
      testDelivery("d_1", queuedAt, { conversationId: "z_pending", agentId: "agent_zero" }),
    ]);

    const retention = job(null);
    expect(await retention.runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("z_failed")).toBe(false);
    for (const id of ["z_live", "z_pending", "z_plain"]) expect(await exists(id)).toBe(true);

    // In flight (claimed by a sender): still not final.
    const [claimed] = await db.outgoingWebhooks.claimDue("node-a", queuedAt + 1, 10, 60_000, 10);
    expect(claimed?.deliveryId).toBe("d_1");
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 0, failed: 0 });
    expect(await exists("z_pending")).toBe(true);

    const attempt = {
      deliveryId: "d_1",
      attempt: 1,
      startedAtMs: queuedAt + 1,
      url: "https://receiver.example/wh_1",
      statusCode: 200,
      error: null,
      latencyMs: 5,
      responseHead: null,
    };
    expect(await db.outgoingWebhooks.recordAttempt("node-a", attempt, { status: "delivered" }, null)).toBe(
      true,
    );
    expect(await retention.runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("z_pending")).toBe(false);
    expect(await blobs.size(audioKey)).toBeUndefined();

    // Finished later: deleted at the next round.
    await service.changeConversation("z_live", (doc) => ({ ...doc, status: "done" }));
    expect(await retention.runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("z_plain")).toBe(true);
  });

  it("apply_to_existing_conversations false spares conversations that started before the settings took effect", async () => {
    // The settings changed ten days ago.
    await agent("agent_new", { retention_days: 1 }, 10);
    await put("before_old", "agent_new", 40);
    await put("before_recent", "agent_new", 12);
    await put("after", "agent_new", 5);
    await put("after_today", "agent_new", 0.5);

    expect(await job(null).runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("after")).toBe(false);
    for (const id of ["before_old", "before_recent", "after_today"]) expect(await exists(id)).toBe(true);

    // The conversations the settings spare fall to the server's default.
    expect(await job(30).runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("before_old")).toBe(false);
    expect(await exists("before_recent")).toBe(true);

    // Applied to existing conversations from now on: the rest of the agent's expired ones go too.
    await db.agents.updateAgent("agent_new", () => ({
      json: JSON.stringify({
        name: "agent_new",
        platform_settings: { privacy: { retention_days: 1, apply_to_existing_conversations: true } },
      }),
      searchName: "agent_new",
      updatedAtUnixSecs: NOW,
    }));
    expect(await job(null).runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("before_recent")).toBe(false);
    expect(await exists("after_today")).toBe(true);
  });

  it("records settings seen first as held since the agent was created, a later change from the round that sees it", async () => {
    // Created ten days ago, edited yesterday: the settings count from the creation.
    await agent("agent_a", { retention_days: 3 }, 10, 1);
    await agent("agent_plain", null, 20);
    const retention = job(null);
    await retention.runOnce();
    expect((await db.retention.listAgentMarks()).map((m) => [m.agentId, m.effectiveAt])).toEqual([
      ["agent_a", NOW - 10 * DAY],
      ["agent_plain", NOW - 20 * DAY],
    ]);
    // A change of name only: the settings' time stays.
    await db.agents.updateAgent("agent_a", (current) => ({
      json: current.json.replace('"name":"agent_a"', '"name":"renamed"'),
      searchName: "renamed",
      updatedAtUnixSecs: NOW - DAY,
    }));
    await retention.runOnce();
    expect((await db.retention.listAgentMarks())[0]?.effectiveAt).toBe(NOW - 10 * DAY);
    // Settings added to an agent seen without them, and settings changed: from the round that sees it.
    nowMs += 3_600_000;
    await db.agents.updateAgent("agent_plain", () => ({
      json: JSON.stringify({ name: "p", platform_settings: { privacy: { retention_days: 5 } } }),
      searchName: "p",
      updatedAtUnixSecs: NOW - DAY,
    }));
    await db.agents.updateAgent("agent_a", () => ({
      json: JSON.stringify({ name: "a", platform_settings: { privacy: { retention_days: 4 } } }),
      searchName: "a",
      updatedAtUnixSecs: NOW - DAY,
    }));
    await retention.runOnce();
    expect((await db.retention.listAgentMarks()).map((m) => [m.agentId, m.effectiveAt])).toEqual([
      ["agent_a", NOW + 3600],
      ["agent_plain", NOW + 3600],
    ]);
    // Deleted agents lose their marks.
    await db.agents.deleteAgent("agent_a");
    await db.agents.deleteAgent("agent_plain");
    await retention.runOnce();
    expect(await db.retention.listAgentMarks()).toEqual([]);
  });

  it("an agent edited recently keeps its older conversations under its own settings (unlimited, audio only), not the default", async () => {
    await agent("agent_forever", { retention_days: -1 }, 400, 1);
    await agent("agent_audio", { delete_audio: true }, 400, 1);
    await put("forever_old", "agent_forever", 100);
    await put("audio_old", "agent_audio", 100);
    const audioKey = await withAudio("audio_old");

    expect(await job(30).runOnce()).toEqual({ deleted: 0, trimmed: 1, failed: 0 });
    expect(await exists("forever_old")).toBe(true);
    expect(await exists("audio_old")).toBe(true);
    expect(await blobs.size(audioKey)).toBeUndefined();
  });

  it("ignores a retention_days of 0 or a fraction (the default applies) and warns once", async () => {
    const warnings: string[] = [];
    await agent("agent_zero_days", { retention_days: 0, apply_to_existing_conversations: true });
    await agent("agent_fraction", { retention_days: 0.5, apply_to_existing_conversations: true });
    await put("zero_young", "agent_zero_days", 0.01);
    await put("fraction_young", "agent_fraction", 2);
    await put("fraction_old", "agent_fraction", 40);
    const retention = new RetentionJob({
      store: db.retention,
      agents: db.agents,
      jobLocks: db.jobLocks,
      conversations: service,
      blobs,
      defaultDays: 30,
      intervalMs: 60_000,
      clock: { now: () => nowMs },
      logger: { info: () => undefined, warn: (_fields, msg) => warnings.push(msg) },
    });
    expect(await retention.runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("fraction_old")).toBe(false);
    for (const id of ["zero_young", "fraction_young"]) expect(await exists(id)).toBe(true);
    await retention.runOnce();
    expect(warnings.filter((w) => w.includes("retention_days"))).toHaveLength(2);
  });

  it("deletes and trims only conversations that are done or failed and whose webhook deliveries are final", async () => {
    await agent("agent_text", {
      retention_days: 7,
      delete_transcript_and_pii: true,
      apply_to_existing_conversations: true,
    });
    await db.outgoingWebhooks.insertWebhook(testWebhook("wh_1"));
    await put("old_processing", "agent_x", 40, { status: "processing" });
    await put("old_pending", "agent_x", 40);
    await put("old_done", "agent_x", 40);
    await put("text_live", "agent_text", 8, { status: "in-progress" });
    await put("text_pending", "agent_text", 8);
    const queuedAt = Date.now();
    await db.outgoingWebhooks.enqueue([
      testDelivery("d_1", queuedAt, { conversationId: "old_pending", agentId: "agent_x" }),
      testDelivery("d_2", queuedAt, { conversationId: "text_pending", agentId: "agent_text" }),
    ]);

    const retention = job(30);
    expect(await retention.runOnce()).toEqual({ deleted: 1, trimmed: 0, failed: 0 });
    expect(await exists("old_done")).toBe(false);
    for (const id of ["old_processing", "old_pending"]) expect(await exists(id)).toBe(true);
    for (const id of ["text_live", "text_pending"]) expect((await docOf(id)).transcript).toHaveLength(2);

    // Finished, and the deliveries final: the next round takes them.
    for (const id of ["old_processing", "text_live"])
      await service.changeConversation(id, (doc) => ({ ...doc, status: "done" }));
    const claimed = await db.outgoingWebhooks.claimDue("node-a", queuedAt + 1, 10, 60_000, 10);
    expect(claimed.map((d) => d.deliveryId).sort()).toEqual(["d_1", "d_2"]);
    for (const delivery of claimed) {
      const attempt = {
        deliveryId: delivery.deliveryId,
        attempt: 1,
        startedAtMs: queuedAt + 1,
        url: "https://receiver.example/wh_1",
        statusCode: 200,
        error: null,
        latencyMs: 5,
        responseHead: null,
      };
      await db.outgoingWebhooks.recordAttempt("node-a", attempt, { status: "delivered" }, null);
    }
    expect(await retention.runOnce()).toEqual({ deleted: 2, trimmed: 2, failed: 0 });
    for (const id of ["text_live", "text_pending"]) expect((await docOf(id)).transcript).toEqual([]);
  });

  it("trims what a skipped conversation's mark left behind, and a conversation written later with an older start at the next full sweep", async () => {
    await agent("agent_audio", {
      retention_days: 7,
      delete_audio: true,
      apply_to_existing_conversations: true,
    });
    await put("a1", "agent_audio", 20);
    await put("a2_live", "agent_audio", 15, { status: "in-progress" });
    await put("a3", "agent_audio", 10);
    const keys = [await withAudio("a1"), await withAudio("a2_live"), await withAudio("a3")];

    const retention = job(null);
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 2, failed: 0 });
    expect(await blobs.size(keys[1] ?? "")).toBe(9);
    // The mark stopped before the skipped one.
    expect((await db.retention.listAgentMarks())[0]?.sweptThrough?.conversationId).toBe("a1");

    await service.changeConversation("a2_live", (doc) => ({ ...doc, status: "done" }));
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 1, failed: 0 });
    for (const key of keys) expect(await blobs.size(key)).toBeUndefined();
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 0, failed: 0 });

    // Imported later with an older start time: behind the mark, so found by the daily full sweep.
    await put("a0_imported", "agent_audio", 30);
    const importedKey = await withAudio("a0_imported");
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 0, failed: 0 });
    nowMs += FULL_SWEEP_INTERVAL_MS;
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 1, failed: 0 });
    expect(await blobs.size(importedKey)).toBeUndefined();
    // Already trimmed ones are not trimmed again by a full sweep.
    nowMs += FULL_SWEEP_INTERVAL_MS;
    expect(await retention.runOnce()).toEqual({ deleted: 0, trimmed: 0, failed: 0 });
  });

  it("skips a round while another process holds the lock, and runs rounds from start until stop", async () => {
    await put("c_old", "agent_x", 40);
    const retention = job(30, 10);
    const inner = await db.jobLocks.runExclusive(RETENTION_JOB, () => retention.runOnce());
    expect(inner).toEqual({ ran: true, value: undefined });
    expect(await exists("c_old")).toBe(true);

    retention.start();
    await vi.waitFor(async () => expect(await exists("c_old")).toBe(false), { timeout: 5_000, interval: 20 });
    await retention.stop();
    await put("c_old_2", "agent_x", 40);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await exists("c_old_2")).toBe(true);
  });
});
