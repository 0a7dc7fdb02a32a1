import { writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BadLine, importNdjson } from "../../src/ingest/ndjson-importer.js";
import { ndjsonStreamSource } from "../../src/ingest/ndjson-source.js";
import { SQLITE_FILE_NAME } from "../../src/store/sqlite/sqlite-database.js";
import type { Database } from "../../src/store/store.js";
import { syntheticConversation } from "../fixtures/synthetic-conversations.js";
import { BACKENDS, type Backend, createTestStorage, type TestStorage } from "../support/backends.js";
import { queryTestDatabase } from "../support/postgres-schema.js";
import { runCli } from "../support/run-cli.js";

/**
 * An import never loses the good lines of a batch to one line the database refuses: the good
 * ones are written, the refused one is reported by its line number with the database's reason,
 * and the import carries on.
 */

/** `length` letters that do not compress (PostgreSQL compresses index entries). */
function noise(length: number): string {
  let state = 12345;
  let out = "";
  while (out.length < length) {
    state = (state * 1664525 + 1013904223) >>> 0;
    out += String.fromCharCode(97 + ((state >>> 24) % 26));
  }
  return out;
}

/**
 * Makes the database itself refuse conversations whose id starts with `poison`: a document the
 * checks accept and the database does not, the way a value over an index's limit once was.
 */
async function refusePoison(backend: Backend, storage: TestStorage): Promise<void> {
  if (backend === "postgres") {
    if (!storage.databaseUrl) throw new Error("PostgreSQL storage without a URL");
    await queryTestDatabase(
      storage.databaseUrl,
      "ALTER TABLE conversations ADD CONSTRAINT refuse_poison CHECK (conversation_id NOT LIKE 'poison%')",
    );
    return;
  }
  const db = new BetterSqlite3(path.join(storage.dataDir, SQLITE_FILE_NAME));
  try {
    db.exec(
      "CREATE TRIGGER refuse_poison BEFORE INSERT ON conversations WHEN NEW.conversation_id LIKE 'poison%' " +
        "BEGIN SELECT RAISE(ABORT, 'refuse_poison'); END",
    );
  } finally {
    db.close();
  }
}

/** A document for line `n`: poison (refused by the database) or with 5 KB indexed values, when asked. */
function lineDoc(n: number, kind: "good" | "poison" | "long" = "good"): string {
  const doc = syntheticConversation(n, 2);
  if (kind === "poison") doc.conversation_id = `poison_${n}`;
  if (kind === "long") {
    const long = noise(5 * 1024);
    doc.agent_id = long;
    doc.user_id = long;
    (doc.metadata as Record<string, unknown>).termination_reason = long;
    doc.tag_ids = [long];
  }
  return JSON.stringify(doc);
}

describe.each(BACKENDS)("import with lines the database refuses on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    await refusePoison(backend, storage);
  });
  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  it("writes the good lines of every batch and reports each refused line by number", async () => {
    // Batches of four: lines 3 and 14 are refused, line 6 carries values of 5 KB, line 9 is invalid JSON.
    const kinds = new Map<number, "poison" | "long">([
      [3, "poison"],
      [6, "long"],
      [14, "poison"],
    ]);
    const lines = Array.from({ length: 20 }, (_, i) =>
      i + 1 === 9 ? "{ not json" : lineDoc(i, kinds.get(i + 1)),
    );
    const bad: BadLine[] = [];
    const summary = await importNdjson(
      ndjsonStreamSource(Readable.from([`${lines.join("\n")}\n`]), "input.ndjson"),
      { putRecords: (records) => db.conversations.upsertConversations(records) },
      { maxLineBytes: 1024 * 1024, batchSize: 4, worker: false, onBadLine: (b) => bad.push(b) },
    );

    expect(summary).toMatchObject({ created: 17, replaced: 0, bad: 3, lines: 20 });
    expect(bad.map((b) => b.line).sort((a, b) => a - b)).toEqual([3, 9, 14]);
    const refused = bad.filter((b) => b.line !== 9);
    for (const b of refused) {
      expect(b.issues).toHaveLength(1);
      expect(b.issues[0]?.loc).toEqual(["line", b.line]);
      expect(b.issues[0]?.msg).toMatch(/refuse_poison/);
    }
    expect(await db.conversations.countConversations()).toBe(17);
    expect(await db.conversations.getConversation("poison_2")).toBeUndefined();
    expect(
      await db.conversations.getConversation(String(JSON.parse(lines[5] ?? "{}").conversation_id)),
    ).toBeDefined();
  });

  it("openconvai import carries on past a refused line and exits 1 naming it", async () => {
    const file = path.join(storage.dataDir, "input.ndjson");
    const lines = Array.from({ length: 12 }, (_, i) =>
      lineDoc(i, i === 1 ? "poison" : i === 4 ? "long" : "good"),
    );
    writeFileSync(file, `${lines.join("\n")}\n`);
    await db.close();
    const storageFlags = storage.databaseUrl
      ? ["--data", storage.dataDir, "--database-url", storage.databaseUrl]
      : ["--data", storage.dataDir];
    const result = await runCli(["import", file, ...storageFlags]);
    db = await storage.open();

    expect(result.stderr + result.stdout).toMatch(/line 2: .*refuse_poison/);
    expect(result.stderr + result.stdout).toMatch(/11 created, 0 replaced, 1 bad line/);
    expect(result.stderr + result.stdout).not.toMatch(/stopped after/);
    expect(result.code).toBe(1);
    expect(await db.conversations.countConversations()).toBe(11);
  });
});
