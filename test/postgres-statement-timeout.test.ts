import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_STATEMENT_TIMEOUT_MS, resolveConfig } from "../src/config/config.js";
import { ConfigError } from "../src/config/config-error.js";
import type { ConversationDoc } from "../src/domain/conversation.js";
import { buildConversationRecord } from "../src/domain/conversation-record.js";
import { type RunningServer, startServer } from "../src/main.js";
import { postgresMigrations } from "../src/store/postgres/migrations.js";
import { openPostgresDatabase, postgresPoolConfig } from "../src/store/postgres/postgres-database.js";
import type { Database } from "../src/store/store.js";
import { buildConversation } from "./fixtures/conversations.js";
import { createTestStorage, POSTGRES_TEST_URL, type TestStorage } from "./support/backends.js";

const SETTING = "OPENCONVAI_DATABASE_STATEMENT_TIMEOUT_MS";

describe("OPENCONVAI_DATABASE_STATEMENT_TIMEOUT_MS", () => {
  const timeoutOf = (raw?: string) =>
    resolveConfig({}, raw === undefined ? {} : { [SETTING]: raw }).databaseStatementTimeoutMs;

  it("is 30 s unless set, and takes 0 (no timeout) or whole milliseconds from 100 to a day", () => {
    expect(timeoutOf()).toBe(30_000);
    expect(DEFAULT_STATEMENT_TIMEOUT_MS).toBe(30_000);
    expect(timeoutOf("")).toBe(30_000);
    expect(timeoutOf("0")).toBe(0);
    expect(timeoutOf("100")).toBe(100);
    expect(timeoutOf("5000")).toBe(5000);
    expect(timeoutOf("86400000")).toBe(86_400_000);
  });

  it.each(["abc", "-1", "1.5", "30s", "50", "99", "86400001"])(
    "refuses %j with a message naming the setting, the range and what to do",
    (raw) => {
      let thrown: unknown;
      try {
        timeoutOf(raw);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      const message = (thrown as Error).message;
      expect(message).toContain(SETTING);
      expect(message).toContain("0 (no timeout)");
      expect(message).toContain("from 100 to 86400000");
      expect(message).toContain(`got "${raw}"`);
      expect(message).toContain("set it to how long one PostgreSQL query may run");
    },
  );
});

/** A conversation record for the store's own writes. */
function record(id: string, message = "Hello.") {
  return buildConversationRecord(
    buildConversation({ id, messages: [message, "Hi, how can I help?"] }) as ConversationDoc,
  );
}

/** A PostgreSQL client of its own on a test URL (its search_path included), outside any pool. */
async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return client;
}

describe.skipIf(!POSTGRES_TEST_URL)("the PostgreSQL statement timeout", () => {
  let storage: TestStorage;

  beforeEach(() => {
    storage = createTestStorage("postgres");
  });

  afterEach(async () => {
    await storage.cleanup();
  });

  it("is set on every connection of the pool the database opens", async () => {
    const url = storage.databaseUrl as string;
    for (const [statementTimeoutMs, shown] of [
      [undefined, "30s"],
      [1234, "1234ms"],
    ] as const) {
      const pool = new pg.Pool(postgresPoolConfig(url, { statementTimeoutMs, maxConnections: 2 }));
      try {
        // Two connections at once: each one starts with the setting.
        const [a, b] = await Promise.all([pool.connect(), pool.connect()]);
        try {
          for (const client of [a, b]) {
            const result = await client.query<{ statement_timeout: string }>("SHOW statement_timeout");
            expect(result.rows[0]?.statement_timeout).toBe(shown);
          }
        } finally {
          a.release();
          b.release();
        }
      } finally {
        await pool.end();
      }
    }
  });

  it("with 0, sets none: the server's own setting applies", async () => {
    const url = storage.databaseUrl as string;
    const own = await connect(url);
    const serverDefault = (await own.query<{ statement_timeout: string }>("SHOW statement_timeout")).rows[0]
      ?.statement_timeout;
    await own.end();
    const pool = new pg.Pool(postgresPoolConfig(url, { statementTimeoutMs: 0 }));
    try {
      const result = await pool.query<{ statement_timeout: string }>("SHOW statement_timeout");
      expect(result.rows[0]?.statement_timeout).toBe(serverDefault);
    } finally {
      await pool.end();
    }
  });

  it("does not stop the migrations: a fresh schema migrates with a 1 ms timeout", async () => {
    const base = new URL(POSTGRES_TEST_URL as string);
    const schema = `t_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
    const db = await openPostgresDatabase(base.toString(), { schema, statementTimeoutMs: 1 });
    await db.close();
    const own = await connect(base.toString());
    try {
      const version = await own.query<{ version: number }>(
        `SELECT version FROM ${pg.escapeIdentifier(schema)}.schema_version`,
      );
      expect(version.rows[0]?.version).toBe(postgresMigrations.length);
    } finally {
      await own.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      await own.end();
    }
  });

  describe("on the store, with a 200 ms timeout", () => {
    let db: Database;
    let locker: pg.Client;

    beforeEach(async () => {
      db = await openPostgresDatabase(storage.databaseUrl as string, { statementTimeoutMs: 200 });
      await db.conversations.upsertConversations([record("c_locked")]);
      locker = await connect(storage.databaseUrl as string);
    });

    afterEach(async () => {
      await locker.query("ROLLBACK").catch(() => undefined);
      await locker.end();
      await db.close();
    });

    /** Holds the conversation's row lock in an open transaction until ROLLBACK. */
    async function lockRow(): Promise<void> {
      await locker.query("BEGIN");
      await locker.query("SELECT 1 FROM conversations WHERE conversation_id = 'c_locked' FOR UPDATE");
    }

    it("cancels a request's write that waits past it (SQLSTATE 57014)", async () => {
      await lockRow();
      const error = await db.conversations.putConversation(record("c_locked")).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as { code?: unknown }).code).toBe("57014");
      // The connection it failed on is usable again, with its timeout.
      await locker.query("ROLLBACK");
      expect((await db.conversations.putConversation(record("c_locked"))).outcome).toBe("replaced");
    });

    it("lets an import batch wait as long as it takes", async () => {
      await lockRow();
      const batch = db.conversations.upsertConversations([record("c_locked"), record("c_other")]);
      let settled = false;
      void batch.finally(() => {
        settled = true;
      });
      // Well past the timeout, the batch is still waiting for the lock, not cancelled.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(settled).toBe(false);
      await locker.query("ROLLBACK");
      expect(await batch).toEqual(["replaced", "created"]);
    });
  });
});

/** Lines a pino logger writes, parsed. */
function captureLog(): { logger: pino.Logger; lines(): Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n"))
        if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines: () => lines };
}

describe.skipIf(!POSTGRES_TEST_URL)("a request whose query runs past the statement timeout", () => {
  let storage: TestStorage;
  let server: RunningServer;
  let log: ReturnType<typeof captureLog>;
  let locker: pg.Client;
  let dataDir: string;
  const apiKey = `oc_test_${Math.random().toString(36).slice(2)}`;

  const call = (pathAndQuery: string, init: RequestInit = {}) =>
    fetch(`${server.url}${pathAndQuery}`, {
      ...init,
      headers: { "xi-api-key": apiKey, ...(init.headers as Record<string, string> | undefined) },
    });

  beforeEach(async () => {
    storage = createTestStorage("postgres");
    dataDir = mkdtempSync(path.join(tmpdir(), "openconvai-timeout-"));
    const config = resolveConfig(
      { host: "127.0.0.1", port: "0", data: dataDir, databaseUrl: storage.databaseUrl },
      { OPENCONVAI_BOOTSTRAP_KEY: apiKey, [SETTING]: "200" },
    );
    log = captureLog();
    server = await startServer(config, log.logger);
    const doc = buildConversation({ id: "c_one", messages: ["Where is my parcel?", "On its way."] });
    const put = await call("/ingest/v1/conversations/c_one", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(doc),
    });
    expect(put.status).toBe(201);
    locker = await connect(storage.databaseUrl as string);
  });

  afterEach(async () => {
    await locker.query("ROLLBACK").catch(() => undefined);
    await locker.end();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await storage.cleanup();
  });

  it("answers 503 query_timeout saying what happened and what to do, and logs no search words", async () => {
    // The list's queries wait for this lock until the server cancels them.
    await locker.query("BEGIN");
    await locker.query("LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE");
    const searched = await call("/v1/convai/conversations?search=parcel%20zebracorn");
    expect(searched.status).toBe(503);
    const body = (await searched.json()) as { detail: { status: string; message: string } };
    expect(body.detail.status).toBe("query_timeout");
    expect(body.detail.message).toContain(
      "took longer than the server's statement timeout and was cancelled",
    );
    expect(body.detail.message).toContain("fewer or rarer search words, a filter, a shorter time range");
    expect(body.detail.message).toContain(SETTING);
    expect(searched.headers.get("x-request-id")).toBeTruthy();

    const warned = log.lines().filter((line) => line.sqlState === "57014");
    expect(warned).toHaveLength(1);
    expect(warned[0]?.level).toBe(40);
    expect(warned[0]?.msg).toBe("a database query ran past the statement timeout and was cancelled");
    expect(JSON.stringify(warned[0])).not.toContain("zebracorn");
    expect(JSON.stringify(warned[0])).not.toMatch(/SELECT|search_text/i);

    // Once the lock is gone the same request is answered, on the pool's connections.
    await locker.query("ROLLBACK");
    const again = await call("/v1/convai/conversations?search=parcel%20zebracorn");
    expect(again.status).toBe(200);
  });

  it("answers a write that waits past it with the same 503", async () => {
    await locker.query("BEGIN");
    await locker.query("SELECT 1 FROM conversations WHERE conversation_id = 'c_one' FOR UPDATE");
    const deleted = await call("/v1/convai/conversations/c_one", { method: "DELETE" });
    expect(deleted.status).toBe(503);
    const body = (await deleted.json()) as { detail: { status: string } };
    expect(body.detail.status).toBe("query_timeout");
    await locker.query("ROLLBACK");
    expect((await call("/v1/convai/conversations/c_one")).status).toBe(200);
  });
});
