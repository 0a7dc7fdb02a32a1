import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { startServer } from "../../src/main.js";
import { SessionHeartbeats } from "../../src/runtime/session-heartbeats.js";
import { RECOVERED_BY_ANOTHER_NODE_REASON } from "../../src/runtime/session-recovery.js";
import type { JobLocks } from "../../src/store/job-locks.js";
import { SQLITE_FILE_NAME } from "../../src/store/sqlite/sqlite-database.js";
import { BACKENDS, type Backend, createTestStorage, type TestStorage } from "../support/backends.js";
import { queryTestDatabase } from "../support/postgres-schema.js";
import { eventually } from "./eventually.js";

const API_KEY = "oc_test_session_heartbeats_key";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function useStorage(backend: Backend): TestStorage {
  const storage = createTestStorage(backend);
  cleanups.push(() => storage.cleanup());
  return storage;
}

/** Runs one statement past the store (to make a row look like an older version's). */
async function execRaw(backend: Backend, storage: TestStorage, sql: string): Promise<void> {
  if (backend === "postgres") {
    await queryTestDatabase(storage.databaseUrl as string, sql);
    return;
  }
  const db = new BetterSqlite3(path.join(storage.dataDir, SQLITE_FILE_NAME));
  try {
    db.prepare(sql).run();
  } finally {
    db.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(BACKENDS)("live sessions' heartbeats (%s)", (backend) => {
  it("lists as stale the sessions of other nodes whose heartbeat is older than asked, by the database's clock", async () => {
    const storage = useStorage(backend);
    const db = await storage.open();
    cleanups.push(() => db.close());
    const sessions = db.liveSessions;
    // A start time far in the past: staleness goes by the heartbeat, not by when a session began.
    await sessions.register("conv_x", "node-x", 1_000);
    await sessions.register("conv_y", "node-y", 2_000);
    await sessions.register("conv_old", "node-old", 3_000);
    await execRaw(
      backend,
      storage,
      "UPDATE live_sessions SET heartbeat_at = NULL WHERE conversation_id = 'conv_old'",
    );
    expect(await sessions.listStale(60_000, "node-z", 10)).toEqual([]);

    await sleep(400);
    expect(await sessions.heartbeat("node-x")).toBe(1);
    expect(await sessions.heartbeat("node-nobody")).toBe(0);
    // node-x just beat, node-y 400 ms ago; a session without a heartbeat is never stale.
    expect(await sessions.listStale(250, "node-z", 10)).toEqual([
      { conversationId: "conv_y", nodeId: "node-y", startedAtMs: 2_000 },
    ]);
    // The caller's own sessions are never listed: it is running.
    expect(await sessions.listStale(250, "node-y", 10)).toEqual([]);
    await sleep(300);
    expect((await sessions.listStale(250, "node-z", 1)).map((s) => s.conversationId)).toEqual(["conv_y"]);
    expect((await sessions.listStale(250, "node-z", 10)).map((s) => s.conversationId)).toEqual([
      "conv_y",
      "conv_x",
    ]);
  });

  it("keeps this node's heartbeat fresh while a recovery round hangs", async () => {
    const storage = useStorage(backend);
    const db = await storage.open();
    cleanups.push(() => db.close());
    await db.liveSessions.register("conv_mine", "node-here", Date.now());
    // A recovery round that never ends (a slow recovery, a wait for a connection).
    let recoveryRounds = 0;
    let release: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    const jobLocks: JobLocks = {
      runExclusive: async () => {
        recoveryRounds++;
        await hung;
        return { ran: false };
      },
    };
    const heartbeats = new SessionHeartbeats({
      nodeId: "node-here",
      liveSessions: db.liveSessions,
      conversations: { changeConversation: () => Promise.reject(new Error("not expected")) },
      jobLocks,
      logger: pino({ level: "silent" }),
      intervalMs: 50,
      timeoutMs: 300,
    });
    heartbeats.start();
    cleanups.push(async () => {
      release();
      await heartbeats.stop();
    });
    // Several timeouts later this node's session is still fresh: its heartbeat did not wait.
    await sleep(1_000);
    expect(recoveryRounds).toBe(1);
    expect(await db.liveSessions.listStale(300, "node-other", 10)).toEqual([]);
  });

  it("a server recovers another node's session once its heartbeat stops, and leaves its own and live ones", async () => {
    const storage = useStorage(backend);
    const config = resolveConfig(
      { host: "127.0.0.1", port: "0", data: storage.dataDir, databaseUrl: storage.databaseUrl },
      {
        OPENCONVAI_BOOTSTRAP_KEY: API_KEY,
        OPENCONVAI_NODE_ID: "node-here",
        OPENCONVAI_SESSION_HEARTBEAT_MS: "100",
        OPENCONVAI_SESSION_HEARTBEAT_TIMEOUT_MS: "500",
      },
    );
    const server = await startServer(config, pino({ level: "silent" }));
    cleanups.push(() => server.stop());
    const put = async (id: string) => {
      const response = await fetch(`${server.url}/ingest/v1/conversations/${id}`, {
        method: "PUT",
        headers: { "xi-api-key": API_KEY, "content-type": "application/json" },
        body: JSON.stringify({
          agent_id: "agent_heartbeats",
          conversation_id: id,
          status: "in-progress",
          transcript: [{ role: "agent", message: "Hello", time_in_call_secs: 0 }],
          metadata: { start_time_unix_secs: 1_780_000_000, call_duration_secs: 1 },
        }),
      });
      expect(response.status).toBe(201);
    };
    const sessions = server.services.db.liveSessions;
    for (const id of ["conv_gone", "conv_here", "conv_alive"]) await put(id);
    await sessions.register("conv_gone", "node-gone", Date.now());
    await sessions.register("conv_here", "node-here", Date.now());
    await sessions.register("conv_alive", "node-alive", Date.now());
    // node-alive is another running node: it keeps its heartbeat fresh.
    const beating = setInterval(() => void sessions.heartbeat("node-alive"), 100);
    cleanups.push(async () => clearInterval(beating));

    const status = async (id: string) =>
      (await (
        await fetch(`${server.url}/v1/convai/conversations/${id}`, { headers: { "xi-api-key": API_KEY } })
      ).json()) as {
        status: string;
        metadata: { termination_reason?: string };
      };
    const gone = await eventually(
      () => status("conv_gone"),
      (c) => c.status === "failed",
      10_000,
    );
    expect([gone.status, gone.metadata.termination_reason]).toEqual([
      "failed",
      RECOVERED_BY_ANOTHER_NODE_REASON,
    ]);
    expect(await sessions.listByNode("node-gone")).toEqual([]);
    // A few timeouts later: this node's own session and the live node's are untouched.
    await sleep(1_000);
    expect((await status("conv_here")).status).toBe("in-progress");
    expect((await status("conv_alive")).status).toBe("in-progress");
    expect((await sessions.listByNode("node-here")).map((s) => s.conversationId)).toEqual(["conv_here"]);
    expect((await sessions.listByNode("node-alive")).map((s) => s.conversationId)).toEqual(["conv_alive"]);
  }, 30_000);
});
