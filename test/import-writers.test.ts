import { Readable } from "node:stream";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ImportSummary, importNdjson, type RecordSink } from "../src/ingest/ndjson-importer.js";
import { ndjsonStreamSource } from "../src/ingest/ndjson-source.js";
import { textArrayParam } from "../src/store/postgres/pg-text-array.js";
import type { Database } from "../src/store/store.js";
import { syntheticConversation } from "./fixtures/synthetic-conversations.js";
import { BACKENDS, createTestStorage, POSTGRES_TEST_URL, type TestStorage } from "./support/backends.js";

describe.each(BACKENDS)("an import writing several batches at once (%s)", (backend) => {
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

  it("writes a conversation named on several lines as its last line says, and counts each line once", async () => {
    // 300 lines over 13 ids: every batch of 7 names ids that the batches before it name too.
    const lines = Array.from({ length: 300 }, (_, n) => {
      const doc = syntheticConversation(n % 13, 2);
      (doc.metadata as Record<string, unknown>).cost = n;
      return JSON.stringify(doc);
    });
    let inFlight = 0;
    let mostInFlight = 0;
    let calls = 0;
    const writing = new Set<string>();
    let sharedIds = 0;
    const sink: RecordSink = {
      putRecords: async (records) => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        const ids = new Set(records.map((r) => r.index.conversationId));
        for (const id of ids) if (writing.has(id)) sharedIds++;
        for (const id of ids) writing.add(id);
        try {
          // Writes take unequal times, so a later batch let run beside an earlier one would end first.
          await new Promise((r) => setTimeout(r, (3 - (calls++ % 3)) * 10));
          return await db.conversations.upsertConversations(records);
        } finally {
          inFlight--;
          for (const id of ids) writing.delete(id);
        }
      },
    };
    const source = ndjsonStreamSource(Readable.from([`${lines.join("\n")}\n`]));
    const summary = await importNdjson(source, sink, {
      maxLineBytes: 1 << 20,
      batchSize: 7,
      writers: 3,
      worker: false,
    });
    expect(summary).toMatchObject({ created: 13, replaced: 287, bad: 0, lines: 300 });
    // No conversation was ever in two writes at once.
    expect(sharedIds).toBe(0);
    // Two full batches of 7 always share an id (7 + 7 > 13), so each waits for the one before;
    // only the last batch (lines 295-300, ids 8-12 and 0) shares none with the one before it
    // (ids 1-7) and is written beside it.
    expect(mostInFlight).toBe(2);
    expect(await db.conversations.countConversations()).toBe(13);
    for (let id = 0; id < 13; id++) {
      const lastLine = 299 - ((299 - id) % 13);
      const stored = await db.conversations.getConversation(`conv_${String(id).padStart(8, "0")}`);
      expect((JSON.parse(stored?.json ?? "{}") as { metadata: { cost: number } }).metadata.cost).toBe(
        lastLine,
      );
    }
  });

  it("writes batches that name different conversations at the same time", async () => {
    const lines = Array.from({ length: 200 }, (_, n) => JSON.stringify(syntheticConversation(n, 2)));
    let inFlight = 0;
    let mostInFlight = 0;
    const sink: RecordSink = {
      putRecords: async (records) => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          // Each write takes a moment, as a real database's does, so the next one starts meanwhile.
          await new Promise((r) => setTimeout(r, 5));
          return await db.conversations.upsertConversations(records);
        } finally {
          inFlight--;
        }
      },
    };
    const source = ndjsonStreamSource(Readable.from([`${lines.join("\n")}\n`]));
    const summary = await importNdjson(source, sink, { maxLineBytes: 1 << 20, batchSize: 10, writers: 2 });
    expect(summary).toMatchObject({ created: 200, replaced: 0, bad: 0 });
    expect(mostInFlight).toBe(2);
    expect(await db.conversations.countConversations()).toBe(200);
  });
});

describe.skipIf(!POSTGRES_TEST_URL)("textArrayParam", () => {
  it("hands PostgreSQL a text[] it reads back unchanged", async () => {
    const client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
    await client.connect();
    try {
      const values = [
        "plain",
        "",
        null,
        'quotes " and \\ backslashes, {braces}, commas',
        "non-ASCII: é ß 日本語 😀",
        "NULL",
        "x".repeat(100_000),
      ];
      const { rows } = await client.query<{ a: (string | null)[] }>("SELECT $1::text[] AS a", [
        textArrayParam(values),
      ]);
      expect(rows[0]?.a).toEqual(values);
      const empty = await client.query<{ n: number }>("SELECT cardinality($1::text[]) AS n", [
        textArrayParam([]),
      ]);
      expect(empty.rows[0]?.n).toBe(0);
      // `undefined` is NULL, as in a plain array parameter.
      const missing = await client.query<{ a: (string | null)[] }>("SELECT $1::text[] AS a", [
        textArrayParam([undefined, "a"]),
      ]);
      expect(missing.rows[0]?.a).toEqual([null, "a"]);
      // A lone surrogate has no UTF-8 form: it arrives as U+FFFD, as it would in text form.
      const lone = await client.query<{ a: string[] }>("SELECT $1::text[] AS a", [
        textArrayParam(["a\uD800b"]),
      ]);
      expect(lone.rows[0]?.a).toEqual(["a\uFFFDb"]);
    } finally {
      await client.end();
    }
  });
});

/** A finished conversation starting on UTC day 20,000 + `day`, its cost a marker of the line. */
function doc(id: string, day: number, cost: number): Record<string, unknown> {
  const d = syntheticConversation(cost, 2);
  d.conversation_id = id;
  Object.assign(d.metadata as Record<string, unknown>, {
    start_time_unix_secs: (20_000 + day) * 86_400 + 3_600,
    cost,
  });
  return d;
}

/** An NDJSON source of documents. */
function ndjsonOf(docs: readonly Record<string, unknown>[]) {
  return ndjsonStreamSource(Readable.from([`${docs.map((d) => JSON.stringify(d)).join("\n")}\n`]));
}

/** Holds the dirty-day rows of some days in a transaction of its own. */
async function lockDays(client: pg.Client, days: number[]): Promise<number> {
  const held = await client.query("SELECT day FROM stats_dirty_days WHERE day = ANY($1) FOR UPDATE", [
    days.map((d) => 20_000 + d),
  ]);
  return held.rowCount ?? 0;
}

/** Waits until `count` sessions wait for `client`'s transaction, directly or behind one that does. */
async function waitForWaiters(client: pg.Client, count: number): Promise<void> {
  const pid = ((await client.query("SELECT pg_backend_pid() AS pid")).rows[0] as { pid: number }).pid;
  const until = Date.now() + 20_000;
  for (;;) {
    // Statistics views are read once per transaction unless the snapshot is dropped.
    await client.query("SELECT pg_stat_clear_snapshot()");
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity a WHERE $1 = ANY(pg_blocking_pids(a.pid))
         OR EXISTS (SELECT 1 FROM unnest(pg_blocking_pids(a.pid)) b WHERE $1 = ANY(pg_blocking_pids(b)))`,
      [pid],
    );
    if ((rows[0]?.n ?? 0) >= count) return;
    if (Date.now() > until) throw new Error("the writers never waited for the held days");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(!POSTGRES_TEST_URL)("an import into PostgreSQL with two writers", () => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage("postgres");
    db = await storage.open();
  });
  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  /** Imports the documents as an existing database's conversations. */
  const prefill = async (docs: Record<string, unknown>[]) => {
    const sink: RecordSink = { putRecords: (records) => db.conversations.upsertConversations(records) };
    await importNdjson(ndjsonOf(docs), sink, { maxLineBytes: 1 << 20, worker: false });
  };
  const expectCosts = async (docs: Record<string, unknown>[]) => {
    for (const d of docs) {
      const stored = await db.conversations.getConversation(d.conversation_id as string);
      expect((JSON.parse(stored?.json ?? "{}") as { metadata: { cost: number } }).metadata.cost).toBe(
        (d.metadata as { cost: number }).cost,
      );
    }
  };

  it("imports every conversation: batches that lock the two days in opposite order do not stop it", async () => {
    await prefill([doc("old_0_a", 0, 1), doc("old_0_b", 0, 2), doc("old_1_a", 1, 3), doc("old_1_b", 1, 4)]);
    // Two batches of 4, written side by side: the first replaces two day-0 rows and inserts two
    // on day 1, the second replaces two day-1 rows and inserts two on day 0. The upsert's INSERT
    // trigger and UPDATE trigger each lock their days: unordered, the first batch would lock
    // day 1 then day 0, the second day 0 then day 1.
    const docs = [
      doc("old_0_a", 0, 11),
      doc("old_0_b", 0, 12),
      doc("new_1_a", 1, 13),
      doc("new_1_b", 1, 14),
      doc("old_1_a", 1, 15),
      doc("old_1_b", 1, 16),
      doc("new_0_a", 0, 17),
      doc("new_0_b", 0, 18),
    ];
    let inFlight = 0;
    let mostInFlight = 0;
    const sink: RecordSink = {
      putRecords: async (records) => {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          return await db.conversations.upsertConversations(records);
        } finally {
          inFlight--;
        }
      },
    };
    // Another transaction holds both days' rows until both batches wait for it, so the two take
    // their day locks at the same moment.
    const holder = new pg.Client({ connectionString: storage.databaseUrl });
    await holder.connect();
    let summary: ImportSummary;
    try {
      await holder.query("BEGIN");
      expect(await lockDays(holder, [0, 1])).toBe(2);
      const importing = importNdjson(ndjsonOf(docs), sink, {
        maxLineBytes: 1 << 20,
        batchSize: 4,
        writers: 2,
        worker: false,
      });
      importing.catch(() => undefined);
      await waitForWaiters(holder, 2);
      await holder.query("COMMIT");
      summary = await importing;
    } finally {
      await holder.end();
    }
    expect(summary).toMatchObject({ created: 4, replaced: 4, bad: 0 });
    expect(mostInFlight).toBe(2);
    expect(await db.conversations.countConversations()).toBe(8);
    await expectCosts(docs);
  });

  it("writes a batch again, whole, when the database aborts it as a deadlock", async () => {
    await prefill([doc("old_0", 0, 1), doc("old_1", 1, 2)]);
    const docs = [doc("old_0", 0, 11), doc("new_1", 1, 12)];
    const holder = new pg.Client({ connectionString: storage.databaseUrl });
    await holder.connect();
    let summary: ImportSummary;
    try {
      await holder.query("BEGIN");
      // The batch's session finds the deadlock (after the default second), not this one.
      await holder.query("SET LOCAL deadlock_timeout = '30s'");
      expect(await lockDays(holder, [1])).toBe(1);
      const sink: RecordSink = { putRecords: (records) => db.conversations.upsertConversations(records) };
      const importing = importNdjson(ndjsonOf(docs), sink, { maxLineBytes: 1 << 20, worker: false });
      importing.catch(() => undefined);
      // The batch holds day 0 and waits for day 1; taking day 0 here closes the cycle. It is
      // granted only because the server aborted the batch's transaction.
      await waitForWaiters(holder, 1);
      expect(await lockDays(holder, [0])).toBe(1);
      await holder.query("COMMIT");
      summary = await importing;
    } finally {
      await holder.end();
    }
    expect(summary).toMatchObject({ created: 1, replaced: 1, bad: 0 });
    expect(await db.conversations.countConversations()).toBe(3);
    await expectCosts(docs);
  });
});
