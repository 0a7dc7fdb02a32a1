/**
 * A serving SQLite connection checkpoints its write-ahead log in a background thread (see
 * src/store/sqlite/wal-checkpointer.ts): its own automatic checkpoints are off, the log still
 * reaches the database file while the server runs, and closing leaves no log behind.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import { openSqliteDatabase, SQLITE_FILE_NAME } from "../../src/store/sqlite/sqlite-database.js";
import { CHECKPOINT_INTERVAL_MS } from "../../src/store/sqlite/wal-checkpointer.js";
import { buildConversation } from "../fixtures/conversations.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "openconvai-wal-"));
  dirs.push(dir);
  return dir;
}

/** Writes `count` conversations of about 4 KB each, one transaction each (as live sessions do). */
async function writeMany(db: ReturnType<typeof openSqliteDatabase>, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const doc = buildConversation({ id: `conv_wal_${i}`, messages: [`${"words ".repeat(300)} ${i}`, "ok"] });
    await db.conversations.upsertConversations([buildConversationRecord(doc as never)]);
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe("the background checkpointer of a serving SQLite database", () => {
  it("turns the connection's own checkpoints off and moves the log into the file in the background", async () => {
    const dir = dataDir();
    const file = path.join(dir, SQLITE_FILE_NAME);
    const db = openSqliteDatabase({ dataDir: dir });
    try {
      const before = statSync(file).size;
      await writeMany(db, 300);
      // SQLite alone (1,000 pages) would have checkpointed by now; with its checkpoints off, only
      // the background thread can have grown the database file.
      const grown = await until(() => statSync(file).size > before + 500_000, CHECKPOINT_INTERVAL_MS * 8);
      expect(grown).toBe(true);
      const reader = new BetterSqlite3(file, { readonly: true });
      try {
        expect(reader.prepare("SELECT count(*) AS n FROM conversations").get()).toEqual({ n: 300 });
      } finally {
        reader.close();
      }
    } finally {
      await db.close();
    }
    expect(existsSync(`${file}-wal`)).toBe(false);
  });
});
