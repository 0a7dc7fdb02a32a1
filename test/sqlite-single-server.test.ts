import { mkdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteDatabase, SQLITE_FILE_NAME } from "../src/store/sqlite/sqlite-database.js";
import { SqliteServerLockedError } from "../src/store/sqlite/sqlite-server-lock.js";
import { createTestStorage, type TestStorage } from "./support/backends.js";
import { runCli } from "./support/run-cli.js";
import { spawnServer } from "./support/spawn-server.js";

const API_KEY = "oc_test_single_server_key";

/** Cleanups of what a test started, run after it whether it passed or not. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function serve(storage: TestStorage) {
  return spawnServer(storage, { apiKey: API_KEY, onStarted: (cleanup) => cleanups.push(cleanup) });
}

describe("one server per SQLite database", () => {
  it("refuses a second server on the same file in one line (exit 2), lets commands run beside it, and frees the file when the first is killed", async () => {
    const storage = createTestStorage("sqlite");
    cleanups.push(() => storage.cleanup());
    const first = await serve(storage);

    const second = await runCli(["serve", "--host", "127.0.0.1", "--port", "0", "--data", storage.dataDir], {
      env: { OPENCONVAI_BOOTSTRAP_KEY: API_KEY, OPENCONVAI_LOG_FORMAT: "json" },
    });
    expect(second.code).toBe(2);
    const lines = second.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/is already served by another openconvai process/);
    expect(lines[0]).toMatch(/stop the other server first, or use PostgreSQL/);

    // A command shares the database with the running server.
    const keys = await runCli(["keys", "create", "--name", "beside-the-server", "--data", storage.dataDir]);
    expect(keys.code).toBe(0);
    const created = keys.stdout.trim().split("\n").at(-1) ?? "";
    expect(created).not.toBe("");
    expect(
      (await fetch(`${first.url}/v1/convai/conversations`, { headers: { "xi-api-key": created } })).status,
    ).toBe(200);

    // The kernel lets go of the lock with the process: no stale lock after a SIGKILL.
    first.child.kill("SIGKILL");
    await first.exited;
    const third = await serve(storage);
    expect(
      (await fetch(`${third.url}/v1/convai/conversations`, { headers: { "xi-api-key": API_KEY } })).status,
    ).toBe(200);
  }, 60_000);

  it("refuses a second server that reaches the same file through a symlink", async () => {
    const storage = createTestStorage("sqlite");
    cleanups.push(() => storage.cleanup());
    const first = openSqliteDatabase({ dataDir: storage.dataDir }, "serve", { serverLock: true });
    cleanups.push(() => first.close());
    // A data dir that is a link to the first's, and one whose database file is a link to it.
    const linkedDir = path.join(storage.dataDir, "linked-dir");
    symlinkSync(storage.dataDir, linkedDir);
    const linkedFile = path.join(storage.dataDir, "linked-file");
    mkdirSync(linkedFile);
    symlinkSync(path.join(storage.dataDir, SQLITE_FILE_NAME), path.join(linkedFile, SQLITE_FILE_NAME));
    for (const dataDir of [linkedDir, linkedFile]) {
      expect(() => openSqliteDatabase({ dataDir }, "serve", { serverLock: true })).toThrow(
        SqliteServerLockedError,
      );
    }
  });
});
