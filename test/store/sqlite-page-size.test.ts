/**
 * The page size of SQLite databases: a new one is created with SQLITE_PAGE_SIZE; one created
 * before (SQLite's default, 4 KiB) keeps its own and serves as before.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import {
  openSqliteDatabase,
  SQLITE_FILE_NAME,
  SQLITE_PAGE_SIZE,
} from "../../src/store/sqlite/sqlite-database.js";
import type { Database } from "../../src/store/store.js";
import { buildConversation } from "../fixtures/conversations.js";

/** The page size the file at `file` reports. */
function pageSizeOf(file: string): number {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return db.pragma("page_size", { simple: true }) as number;
  } finally {
    db.close();
  }
}

describe("SQLite's page size", () => {
  let dataDir: string;
  let db: Database | undefined;

  afterEach(async () => {
    await db?.close();
    db = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is SQLITE_PAGE_SIZE (8 KiB) for a new database", async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "openconvai-page-"));
    expect(SQLITE_PAGE_SIZE).toBe(8192);
    db = openSqliteDatabase({ dataDir });
    await db.conversations.putConversation(buildConversationRecord(buildConversation({ id: "c1" })));
    await db.close();
    db = undefined;
    expect(pageSizeOf(path.join(dataDir, SQLITE_FILE_NAME))).toBe(SQLITE_PAGE_SIZE);
  });

  it("stays 4 KiB for a database created with it, which opens and serves as before", async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "openconvai-page-"));
    const file = path.join(dataDir, SQLITE_FILE_NAME);
    const old = new BetterSqlite3(file);
    old.pragma("page_size = 4096");
    old.pragma("journal_mode = WAL");
    old.exec("CREATE TABLE earlier (x INTEGER)");
    old.close();
    db = openSqliteDatabase({ dataDir });
    await db.conversations.putConversation(buildConversationRecord(buildConversation({ id: "c1" })));
    expect((await db.conversations.getServedConversationBytes("c1"))?.bytes.length).toBeGreaterThan(0);
    await db.close();
    db = undefined;
    expect(pageSizeOf(file)).toBe(4096);
  });
});
