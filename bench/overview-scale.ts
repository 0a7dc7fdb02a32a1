/**
 * How long the console overview (`GET /v1/convai/analytics/overview`) takes at scale on SQLite:
 * seeds N small finished conversations (default 1,000,000) over 365 days straight into a
 * temporary database (one transaction of plain INSERTs into `conversations` and `facets`, the
 * stats triggers firing as they do for any write), then times the overview service for 30 and
 * 365 days, cold (every day dirty: the rollups are computed on this read) and warm.
 *
 *   node --import tsx bench/overview-scale.ts [--count N] [--trigger-cost N]
 *
 * `--trigger-cost N` also times N plain inserts with and without the stats triggers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import { OverviewService } from "../src/analytics/overview-service.js";
import { openDatabase } from "../src/store/open-database.js";
import { SQLITE_FILE_NAME } from "../src/store/sqlite/sqlite-database.js";

const DAY = 86_400;
/** 2026-01-01 00:00 UTC: the seeded year starts here. */
const YEAR_START = 1_767_225_600;
const DAYS = 365;
const AGENTS = 12;
const TOOLS = ["lookup_order", "refund", "cancel_order", "track_parcel", "update_address", "send_invoice"];
const CRITERIA = ["solved", "polite", "on_brand"];

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "1000000" },
    "trigger-cost": { type: "string", default: "0" },
  },
});
const count = Number(values.count);
const triggerCost = Number(values["trigger-cost"]);

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Inserts `n` small conversations (ids from `offset`) and their eval and tool facets; returns the seconds taken. */
function seed(db: BetterSqlite3.Database, n: number, offset: number): number {
  const next = random(42 + offset);
  const insert =
    db.prepare(`INSERT INTO conversations (conversation_id, sort_key, agent_id, status, start_time,
      duration, call_successful, has_feedback_comment, doc, list_item, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, 0, '{}', '{}', 0)`);
  const facet = db.prepare(
    "INSERT OR IGNORE INTO facets (seq, kind, key, value, num) VALUES (?, ?, ?, ?, NULL)",
  );
  const started = performance.now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = offset + i;
      const startTime = YEAR_START + Math.floor(next() * DAYS * DAY);
      const r = next();
      const seq = Number(
        insert.run(
          `conv_${id}`,
          id, // unique; the list order is not what this measures
          `agent_${Math.floor(next() * AGENTS)}`,
          r < 0.97 ? "done" : "failed",
          startTime,
          Math.round(next() * 6000) / 10,
          r < 0.7 ? "success" : r < 0.9 ? "failure" : "unknown",
        ).lastInsertRowid,
      );
      for (const criterion of CRITERIA) {
        const e = next();
        if (e < 0.8)
          facet.run(seq, "eval", criterion, e < 0.6 ? "success" : e < 0.75 ? "failure" : "unknown");
      }
      const tools = Math.floor(next() * 3);
      for (let t = 0; t < tools; t++)
        facet.run(seq, "tool", "", TOOLS[Math.floor(next() ** 2 * TOOLS.length)]);
    }
  })();
  return (performance.now() - started) / 1000;
}

const STATS_TRIGGERS = [
  "conversations_stats_insert",
  "conversations_stats_update",
  "conversations_stats_delete",
];

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "openconvai-overview-"));
  try {
    // Migrated by the server's own code, then closed: seeding goes through a connection of its own.
    await (await openDatabase({ dataDir, databaseUrl: undefined })).close();
    const raw = new BetterSqlite3(path.join(dataDir, SQLITE_FILE_NAME));
    raw.pragma("journal_mode = WAL");
    raw.pragma("synchronous = NORMAL");

    if (triggerCost > 0) {
      const withTriggers = seed(raw, triggerCost, 10_000_000);
      const sql = STATS_TRIGGERS.map(
        (name) => raw.prepare("SELECT sql FROM sqlite_master WHERE name = ?").pluck().get(name) as string,
      );
      for (const name of STATS_TRIGGERS) raw.exec(`DROP TRIGGER ${name}`);
      const without = seed(raw, triggerCost, 20_000_000);
      for (const s of sql) raw.exec(s);
      raw.exec(
        "DELETE FROM facets WHERE seq IN (SELECT seq FROM conversations WHERE conversation_id LIKE 'conv_%')",
      );
      raw.exec("DELETE FROM conversations; DELETE FROM stats_dirty_days");
      console.log(
        `trigger cost: ${triggerCost} inserts (with facets) ${withTriggers.toFixed(2)} s with the stats triggers, ` +
          `${without.toFixed(2)} s without (${(((withTriggers - without) / without) * 100).toFixed(1)}%)`,
      );
    }

    const seconds = seed(raw, count, 0);
    console.log(
      `seeded ${count} conversations in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s)`,
    );
    console.log(
      `dirty days after seeding: ${raw.prepare("SELECT count(*) FROM stats_dirty_days").pluck().get()}`,
    );
    raw.close();

    const db = await openDatabase({ dataDir, databaseUrl: undefined });
    const lastDay = new Date((YEAR_START + (DAYS - 1) * DAY) * 1000).toISOString().slice(0, 10);
    const overview = new OverviewService(db.conversationStats, () => (YEAR_START + (DAYS - 1) * DAY) * 1000);
    const time = async (label: string, request: Parameters<OverviewService["getOverview"]>[0]) => {
      const started = performance.now();
      const answer = await overview.getOverview(request);
      const ms = performance.now() - started;
      console.log(
        `${label.padEnd(34)} ${ms.toFixed(1).padStart(9)} ms  (${answer.totals.conversations} conversations, ` +
          `p90 ${answer.totals.p90_duration_secs} s, ${answer.tools.length} tools)`,
      );
    };
    await time("30 days, cold", { dateTo: lastDay });
    await time("30 days, warm", { dateTo: lastDay });
    await time("30 days, one agent, warm", { dateTo: lastDay, agentId: "agent_3" });
    await time("365 days, cold (335 days dirty)", { dateFrom: "2026-01-01", dateTo: lastDay });
    await time("365 days, warm", { dateFrom: "2026-01-01", dateTo: lastDay });
    await time("365 days, one agent, warm", { dateFrom: "2026-01-01", dateTo: lastDay, agentId: "agent_3" });
    await db.close();

    // Every day dirty again (as right after the migration), then a year at once.
    const again = new BetterSqlite3(path.join(dataDir, SQLITE_FILE_NAME));
    again.exec(`INSERT INTO stats_dirty_days (day, generation)
      SELECT DISTINCT CAST(floor(start_time / 86400) AS INTEGER), 1 FROM conversations WHERE status IN ('done', 'failed')`);
    again.close();
    const reopened = await openDatabase({ dataDir, databaseUrl: undefined });
    const fresh = new OverviewService(reopened.conversationStats);
    const started = performance.now();
    await fresh.getOverview({ dateFrom: "2026-01-01", dateTo: lastDay });
    console.log(
      `${"365 days, cold (all 365 days dirty)".padEnd(34)} ${(performance.now() - started).toFixed(1).padStart(9)} ms`,
    );
    await reopened.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
