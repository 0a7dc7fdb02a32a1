import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ConversationDoc } from "../../src/domain/conversation.js";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import { buildDemoConversations } from "../../src/ingest/demo-conversations.js";
import { DISABLE_LOCK_TIMEOUT_MS } from "../../src/store/postgres/postgres-trace-push-store.js";
import type { Database } from "../../src/store/store.js";
import { retryDelayMs, TRACE_PUSH_JOB, TracePushJob } from "../../src/telemetry/trace-push-job.js";
import type { TraceSender, TraceSendResult } from "../../src/telemetry/trace-push-sender.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";

const CONFIG = { batchSize: 3, intervalMs: 60_000, firstRetryMs: 1000, maxRetryMs: 8000 };
const SILENT = { info: () => {}, warn: () => {}, error: () => {} };

/** A collector stand-in at the sender boundary: records what is sent, answers what it is told. */
class ScriptedSender implements TraceSender {
  constructor(private readonly name: (conversationId: string) => string) {}
  sent: string[][] = [];
  answer: (conversationIds: string[]) => TraceSendResult = () => ({ ok: true });
  onSend: () => Promise<void> = async () => {};

  async send(spans: ReadableSpan[]): Promise<TraceSendResult> {
    // The spans that name their conversation (the call's and the turns').
    const named = spans
      .map((s) => s.attributes["elevenlabs.conversation_id"])
      .filter((id) => id !== undefined);
    const ids = [...new Set(named.map((n) => this.name(String(n))))].sort();
    this.sent.push(ids);
    await this.onSend();
    return this.answer(ids);
  }

  async shutdown(): Promise<void> {}
}

function doc(id: string, status = "done"): ConversationDoc {
  const base = buildDemoConversations(1_760_000_000)[0] as Record<string, unknown>;
  return { ...base, conversation_id: id, status } as ConversationDoc;
}

describe.each(BACKENDS)("the trace push job on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;
  let sender: ScriptedSender;
  let now: number;
  let job: TracePushJob;
  // One database for the suite (a fresh PostgreSQL schema costs seconds): each test names its
  // conversations with a prefix of its own and starts with pushing off and the queue empty.
  let tests = 0;
  let prefix = "";
  const id = (name: string) => `${prefix}${name}`;

  beforeAll(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
  });
  afterAll(async () => {
    await db?.close();
    await storage?.cleanup();
  });
  beforeEach(async () => {
    tests += 1;
    prefix = `t${tests}_`;
    await db.tracePushes.disable();
    sender = new ScriptedSender((conversationId) => conversationId.slice(prefix.length));
    now = 1_000_000;
    job = new TracePushJob({
      store: db.tracePushes,
      conversations: db.conversations,
      jobLocks: db.jobLocks,
      sender,
      config: CONFIG,
      logger: SILENT,
      now: () => now,
    });
  });

  const write = (...docs: ConversationDoc[]) =>
    db.conversations.upsertConversations(
      docs.map((d) => buildConversationRecord({ ...d, conversation_id: id(String(d.conversation_id)) })),
    );
  const queued = async () =>
    (await db.tracePushes.claimDue(Number.MAX_SAFE_INTEGER, 10)).map((r) => ({
      ...r,
      conversationId: r.conversationId.slice(prefix.length),
    }));

  it("queues nothing while pushing is off", async () => {
    await write(doc("c1"));
    expect(await db.tracePushes.countQueued()).toBe(0);
    expect(await job.runRound()).toEqual({ pushed: 0, spans: 0, failed: 0, dropped: 0 });
  });

  it("sends in batches, deletes what was acknowledged, and backs off what was not", async () => {
    await db.tracePushes.enable();
    await write(doc("c1"), doc("c2"), doc("c3"), doc("c4"), doc("live", "in-progress"));
    expect(await db.tracePushes.countQueued()).toBe(4);
    sender.answer = (ids) => (ids.includes("c4") ? { ok: false, refused: false, status: 503 } : { ok: true });
    const counts = await job.runRound();
    expect(sender.sent).toEqual([["c1", "c2", "c3"], ["c4"]]);
    expect(counts).toMatchObject({ pushed: 3, failed: 1, dropped: 0 });
    const [row] = await queued();
    expect(row).toMatchObject({ conversationId: "c4", attempts: 1 });
    expect(row?.nextAttemptAtMs).toBeGreaterThanOrEqual(now + 900);
    expect(row?.nextAttemptAtMs).toBeLessThanOrEqual(now + 1100);

    // Not due yet: nothing is sent. Due: sent again.
    sender.sent = [];
    await job.runRound();
    expect(sender.sent).toEqual([]);
    now += 1100;
    sender.answer = () => ({ ok: true });
    expect(await job.runRound()).toMatchObject({ pushed: 1 });
    expect(await db.tracePushes.countQueued()).toBe(0);
  });

  it("sends a batch the collector refused one conversation at a time, so one bad trace holds no other back", async () => {
    await db.tracePushes.enable();
    await write(doc("c1"), doc("bad"), doc("c3"));
    sender.answer = (ids) => (ids.includes("bad") ? { ok: false, refused: true, status: 413 } : { ok: true });
    expect(await job.runRound()).toMatchObject({ pushed: 2, failed: 1 });
    expect(sender.sent).toEqual([["bad", "c1", "c3"], ["bad"], ["c1"], ["c3"]]);
    expect((await queued()).map((r) => r.conversationId)).toEqual(["bad"]);
  });

  it("keeps the row of a conversation that finished again while its earlier trace was being sent", async () => {
    await db.tracePushes.enable();
    await write(doc("c1"));
    sender.onSend = async () => {
      // Reopened and finished again while the push is in flight: a new version of the row.
      await write(doc("c1", "in-progress"));
      await write(doc("c1", "done"));
    };
    await job.runRound();
    sender.onSend = async () => {};
    const rows = await queued();
    expect(rows).toMatchObject([{ conversationId: "c1", attempts: 0 }]);
    await job.runRound();
    expect(await db.tracePushes.countQueued()).toBe(0);
  });

  it("drops a queued conversation that was deleted, and skips a round while another holds the lock", async () => {
    await db.tracePushes.enable();
    await write(doc("gone"));
    await db.conversations.deleteConversation(id("gone"));
    const held = await db.jobLocks.runExclusive(TRACE_PUSH_JOB, () => job.runRound());
    expect(held).toEqual({ ran: true, value: undefined });
    expect(await db.tracePushes.countQueued()).toBe(1);
    expect(await job.runRound()).toMatchObject({ dropped: 1, pushed: 0 });
    expect(sender.sent).toEqual([]);
    expect(await db.tracePushes.countQueued()).toBe(0);
  });

  it("empties the queue and stops queueing when disabled", async () => {
    await db.tracePushes.enable();
    await write(doc("c1"));
    await db.tracePushes.disable();
    expect(await db.tracePushes.isEnabled()).toBe(false);
    expect(await db.tracePushes.countQueued()).toBe(0);
    await write(doc("c2"));
    expect(await db.tracePushes.countQueued()).toBe(0);
  });

  it.runIf(backend === "postgres")(
    "gives up turning pushing off after the lock timeout while another session holds the settings, changing nothing",
    async () => {
      await db.tracePushes.enable();
      await write(doc("c1"));
      // Another node's conversation write, its trigger having read the settings, still in flight.
      const other = new pg.Client({ connectionString: storage.databaseUrl });
      await other.connect();
      try {
        await other.query("BEGIN");
        await other.query("LOCK TABLE trace_push_settings IN ACCESS SHARE MODE");
        const startedAt = Date.now();
        expect(await db.tracePushes.disable()).toBe(false);
        const waitedMs = Date.now() - startedAt;
        expect(waitedMs).toBeGreaterThanOrEqual(DISABLE_LOCK_TIMEOUT_MS - 200);
        expect(waitedMs).toBeLessThan(DISABLE_LOCK_TIMEOUT_MS + 2_000);
        expect(await db.tracePushes.isEnabled()).toBe(true);
        expect(await db.tracePushes.countQueued()).toBe(1);
      } finally {
        await other.query("ROLLBACK");
        await other.end();
      }
      expect(await db.tracePushes.disable()).toBe(true);
      expect(await db.tracePushes.isEnabled()).toBe(false);
    },
    15_000,
  );
});

describe("the retry delay", () => {
  it("doubles from the first retry, is capped, and moves by at most a tenth", () => {
    const exact = () => 0.5;
    expect([0, 1, 2, 3, 4, 40].map((a) => retryDelayMs(a, CONFIG, exact))).toEqual([
      1000, 2000, 4000, 8000, 8000, 8000,
    ]);
    expect(retryDelayMs(0, CONFIG, () => 0)).toBe(900);
    expect(retryDelayMs(0, CONFIG, () => 1)).toBe(1100);
  });
});
