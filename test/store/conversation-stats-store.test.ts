import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConversationDoc } from "../../src/domain/conversation.js";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import type { StatsDayRange } from "../../src/store/conversation-stats-store.js";
import { postgresConversationStatsMigration } from "../../src/store/postgres/migration-conversation-stats.js";
import { sqliteConversationStatsMigration } from "../../src/store/sqlite/migration-conversation-stats.js";
import { SQLITE_FILE_NAME } from "../../src/store/sqlite/sqlite-database.js";
import type { Database } from "../../src/store/store.js";
import { buildConversation, type ConversationSpec } from "../fixtures/conversations.js";
import { BACKENDS, type Backend, createTestStorage, type TestStorage } from "../support/backends.js";
import { queryTestDatabase } from "../support/postgres-schema.js";

const DAY = 86_400;
/** A UTC midnight (2026-11-01), and its day number. */
const D0 = 1_793_491_200;
const DAY0 = D0 / DAY;
const ALL: StatsDayRange = { fromDay: DAY0 - 5, toDay: DAY0 + 5, agentId: null };

function record(spec: ConversationSpec) {
  return buildConversationRecord(buildConversation(spec) as ConversationDoc);
}

describe.each(BACKENDS)("conversation stats store on %s", (backend: Backend) => {
  let storage: TestStorage;
  let db: Database;

  /** Runs SQL past the store (to look at the dirty days, or to undo the migration). */
  async function rawQuery(sql: string): Promise<Record<string, unknown>[]> {
    if (backend === "postgres") return queryTestDatabase(storage.databaseUrl as string, sql);
    const raw = new BetterSqlite3(path.join(storage.dataDir, SQLITE_FILE_NAME));
    try {
      if (/^\s*select/i.test(sql)) return raw.prepare(sql).all() as Record<string, unknown>[];
      raw.exec(sql);
      return [];
    } finally {
      raw.close();
    }
  }
  const dirtyDays = async () =>
    (await rawQuery("SELECT day FROM stats_dirty_days ORDER BY day")).map((r) => Number(r.day));

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
  });
  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  it("counts finished conversations by the UTC day they started, per agent or for all", async () => {
    await db.conversations.upsertConversations([
      record({ id: "a1", agentId: "agent_a", startTime: D0 + 10, duration: 30, callSuccessful: "success" }),
      record({
        id: "a2",
        agentId: "agent_a",
        startTime: D0 + DAY - 1,
        duration: 90.4,
        callSuccessful: "failure",
      }),
      record({
        id: "a3",
        agentId: "agent_a",
        startTime: D0 + DAY,
        duration: 12.5,
        status: "failed",
        callSuccessful: "unknown",
      }),
      record({ id: "b1", agentId: "agent_b", startTime: D0 + 20, duration: 12.5, callSuccessful: "success" }),
      record({ id: "live", agentId: "agent_a", startTime: D0 + 30, duration: 5, status: "in-progress" }),
      record({ id: "post", agentId: "agent_a", startTime: D0 + 40, duration: 5, status: "processing" }),
    ]);
    const all = await db.conversationStats.readRollups(ALL, 10);
    expect(all.days).toEqual([
      { day: DAY0, conversations: 3, successful: 2, failed: 1, unknown: 0, durationSum: 30 + 90.4 + 12.5 },
      { day: DAY0 + 1, conversations: 1, successful: 0, failed: 0, unknown: 1, durationSum: 12.5 },
    ]);
    // 12.5 rounds up (not to even) on both backends, 90.4 down; nearest rank of 3 values is the 3rd.
    expect(all.dayPercentiles).toEqual([
      { day: DAY0, p90DurationSecs: 90 },
      { day: DAY0 + 1, p90DurationSecs: 13 },
    ]);
    expect(all.p90DurationSecs).toBe(90);
    const agentB = await db.conversationStats.readRollups({ ...ALL, agentId: "agent_b" }, 10);
    expect(agentB.days).toEqual([
      { day: DAY0, conversations: 1, successful: 1, failed: 0, unknown: 0, durationSum: 12.5 },
    ]);
    const firstDayOnly = await db.conversationStats.readRollups({ ...ALL, toDay: DAY0 }, 10);
    expect(firstDayOnly.days.map((d) => d.conversations)).toEqual([3]);
  });

  it("takes the nearest-rank 90th percentile of the durations, per day and over the range", async () => {
    // Day 0: 1…20 s (rank 18 of 20); day 1: 100 s five times.
    const records = Array.from({ length: 20 }, (_, i) =>
      record({ id: `d${i}`, startTime: D0 + i, duration: i + 1 }),
    );
    for (let i = 0; i < 5; i++) records.push(record({ id: `e${i}`, startTime: D0 + DAY + i, duration: 100 }));
    await db.conversations.upsertConversations(records);
    const rollups = await db.conversationStats.readRollups(ALL, 10);
    expect(rollups.dayPercentiles).toEqual([
      { day: DAY0, p90DurationSecs: 18 },
      { day: DAY0 + 1, p90DurationSecs: 100 },
    ]);
    // 25 values: rank 23 is the third of the 100 s ones.
    expect(rollups.p90DurationSecs).toBe(100);
    const firstDay = await db.conversationStats.readRollups({ ...ALL, toDay: DAY0 }, 10);
    expect(firstDay.p90DurationSecs).toBe(18);
  });

  it("counts evaluation results per criterion and the conversations each tool ran in", async () => {
    await db.conversations.upsertConversations([
      record({
        id: "c1",
        startTime: D0 + 100,
        evaluations: { solved: "success", polite: "failure" },
        tools: [{ name: "lookup_order" }, { name: "refund" }, { name: "lookup_order" }],
      }),
      record({
        id: "c2",
        startTime: D0 + DAY + 100,
        evaluations: { solved: "unknown" },
        tools: [{ name: "lookup_order" }, { name: "never_ran", called: false }],
      }),
      record({ id: "c3", startTime: D0 + 200, status: "in-progress", tools: [{ name: "refund" }] }),
    ]);
    const rollups = await db.conversationStats.readRollups(ALL, 10);
    expect(rollups.evaluations).toEqual([
      { criteriaId: "polite", result: "failure", n: 1 },
      { criteriaId: "solved", result: "success", n: 1 },
      { criteriaId: "solved", result: "unknown", n: 1 },
    ]);
    expect(rollups.tools).toEqual([
      { toolName: "lookup_order", n: 2 },
      { toolName: "refund", n: 1 },
    ]);
    expect((await db.conversationStats.readRollups(ALL, 1)).tools).toEqual([
      { toolName: "lookup_order", n: 2 },
    ]);
  });

  it("leaves the stats tables alone for in-progress writes, and marks the day when a call finishes", async () => {
    const spec: ConversationSpec = { id: "live", startTime: D0 + 50, status: "in-progress", duration: 3 };
    await db.conversations.putConversation(record(spec));
    await db.conversations.putConversation(
      record({ ...spec, duration: 9, messages: ["Hi.", "Hello.", "More."] }),
    );
    expect(await dirtyDays()).toEqual([]);
    await db.conversations.putConversation(record({ ...spec, status: "done", duration: 20 }));
    expect(await dirtyDays()).toEqual([DAY0]);
    const rollups = await db.conversationStats.readRollups(ALL, 10);
    expect(await dirtyDays()).toEqual([]);
    expect(rollups.days.map((d) => [d.day, d.conversations, d.durationSum])).toEqual([[DAY0, 1, 20]]);
  });

  it("shows a finished conversation's changed evaluations and tools, its move, its replacement and its deletion", async () => {
    const base: ConversationSpec = { id: "c1", startTime: D0 + 100, duration: 40 };
    await db.conversations.upsertConversations([
      record({ ...base, evaluations: { solved: "success" }, tools: [{ name: "lookup_order" }] }),
      record({ id: "c2", startTime: D0 + 300, duration: 10, callSuccessful: "failure" }),
    ]);
    expect((await db.conversationStats.readRollups(ALL, 10)).days[0]?.conversations).toBe(2);

    // New evaluation results and tools: the facets change with the row.
    await db.conversations.putConversation(
      record({ ...base, evaluations: { solved: "failure", polite: "success" }, tools: [{ name: "refund" }] }),
    );
    let rollups = await db.conversationStats.readRollups(ALL, 10);
    expect(rollups.evaluations).toEqual([
      { criteriaId: "polite", result: "success", n: 1 },
      { criteriaId: "solved", result: "failure", n: 1 },
    ]);
    expect(rollups.tools).toEqual([{ toolName: "refund", n: 1 }]);

    // Through the read-modify-write path (as feedback, tags and analysis change a conversation).
    await db.conversations.updateConversation("c1", (json) => {
      const doc = JSON.parse(json) as { analysis: { call_successful: string } };
      doc.analysis.call_successful = "failure";
      return buildConversationRecord(doc as unknown as ConversationDoc);
    });
    rollups = await db.conversationStats.readRollups(ALL, 10);
    expect(rollups.days).toEqual([
      { day: DAY0, conversations: 2, successful: 0, failed: 2, unknown: 0, durationSum: 50 },
    ]);

    // Replaced with a start time two days later: counted there, gone from its old day.
    await db.conversations.putConversation(record({ ...base, startTime: D0 + 2 * DAY + 5, duration: 70 }));
    rollups = await db.conversationStats.readRollups(ALL, 10);
    expect(rollups.days.map((d) => [d.day, d.conversations, d.durationSum])).toEqual([
      [DAY0, 1, 10],
      [DAY0 + 2, 1, 70],
    ]);
    expect(rollups.evaluations).toEqual([]);
    expect(rollups.tools).toEqual([]);

    // Replaced by an unfinished one: no longer counted.
    await db.conversations.putConversation(record({ id: "c2", startTime: D0 + 300, status: "processing" }));
    // Deleted.
    await db.conversations.deleteConversation("c1");
    rollups = await db.conversationStats.readRollups(ALL, 10);
    expect(rollups).toEqual({
      days: [],
      dayPercentiles: [],
      p90DurationSecs: null,
      evaluations: [],
      tools: [],
    });
  });

  it("recomputes only the dirty days inside the range asked for", async () => {
    await db.conversations.upsertConversations([
      record({ id: "in", startTime: D0 + 100 }),
      record({ id: "out", startTime: D0 + 3 * DAY }),
    ]);
    await db.conversationStats.readRollups({ ...ALL, toDay: DAY0 }, 10);
    expect(await dirtyDays()).toEqual([DAY0 + 3]);
  });

  it("answers concurrent cold reads of the same days alike, without errors", async () => {
    const records = [];
    for (let i = 0; i < 60; i++) {
      records.push(
        record({
          id: `c${i}`,
          startTime: D0 + (i % 4) * DAY + i,
          duration: i,
          tools: [{ name: `t${i % 3}` }],
        }),
      );
    }
    await db.conversations.upsertConversations(records);
    const reads = await Promise.all(
      Array.from({ length: 6 }, () => db.conversationStats.readRollups(ALL, 10)),
    );
    for (const r of reads) expect(r).toEqual(reads[0]);
    expect(reads[0]?.days.map((d) => d.conversations)).toEqual([15, 15, 15, 15]);
    expect(await dirtyDays()).toEqual([]);
  });

  it("marks every day with finished conversations dirty when the migration runs on existing data", async () => {
    await db.conversations.upsertConversations([
      record({ id: "old1", startTime: D0 + 100, duration: 20 }),
      record({ id: "old2", startTime: D0 + DAY + 100, duration: 40, status: "failed" }),
      record({ id: "old3", startTime: D0 + 2 * DAY + 100, status: "in-progress" }),
    ]);
    await db.close();
    // Back to the schema before the statistics, with the conversations still there, then the
    // statistics migration itself (later migrations stay as they are).
    if (backend === "postgres") {
      await rawQuery(`DROP FUNCTION stats_mark_dirty_days() CASCADE;
        DROP TABLE stats_dirty_days, stats_daily, stats_daily_p90, stats_daily_durations, stats_daily_evaluations, stats_daily_tools`);
      await rawQuery(postgresConversationStatsMigration);
    } else {
      await rawQuery(`DROP TABLE stats_dirty_days; DROP TABLE stats_daily; DROP TABLE stats_daily_durations; DROP TABLE stats_daily_p90;
        DROP TABLE stats_daily_evaluations; DROP TABLE stats_daily_tools;
        DROP TRIGGER conversations_stats_insert; DROP TRIGGER conversations_stats_update;
        DROP TRIGGER conversations_stats_delete`);
      await rawQuery(sqliteConversationStatsMigration);
    }
    db = await storage.open();
    expect(await dirtyDays()).toEqual([DAY0, DAY0 + 1]);
    const rollups = await db.conversationStats.readRollups(ALL, 10);
    expect(rollups.days.map((d) => [d.day, d.conversations, d.durationSum])).toEqual([
      [DAY0, 1, 20],
      [DAY0 + 1, 1, 40],
    ]);
  });
});
