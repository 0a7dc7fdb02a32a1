import { hostname } from "node:os";
import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import pino, { type Logger } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { type RunningServer, startServer } from "../../src/main.js";
import { SERVER_STOPPED_REASON } from "../../src/runtime/conversation-session.js";
import { RECOVERED_TERMINATION_REASON } from "../../src/runtime/session-recovery.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { type ServerProcess, spawnServer as spawnServerProcess } from "../support/spawn-server.js";
import { startTextSession } from "./text-session.js";

const API_KEY = "oc_test_crash_recovery_key";

/** Cleanups of what a test started, run after it whether it passed or not. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Fresh storage for one test, removed after it. */
function useStorage(backend: (typeof BACKENDS)[number]): TestStorage {
  const storage = createTestStorage(backend);
  cleanups.push(() => storage.cleanup());
  return storage;
}

/**
 * A server in this process on `storage`, as node `nodeId` (undefined: the default, the host
 * name); stopped after the test unless stopped before.
 */
async function startNode(
  storage: TestStorage,
  nodeId: string | undefined,
  logger: Logger = pino({ level: "silent" }),
): Promise<RunningServer & { client: ElevenLabsClient }> {
  const config = resolveConfig(
    { host: "127.0.0.1", port: "0", data: storage.dataDir, databaseUrl: storage.databaseUrl },
    { OPENCONVAI_BOOTSTRAP_KEY: API_KEY, ...(nodeId === undefined ? {} : { OPENCONVAI_NODE_ID: nodeId }) },
  );
  const server = await startServer(config, logger);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop();
  };
  cleanups.push(stop);
  return {
    ...server,
    stop,
    client: new ElevenLabsClient({ apiKey: API_KEY, baseUrl: server.url, maxRetries: 0 }),
  };
}

/** A conversation document as a live session records it, with two turns. */
function liveDocument(
  conversationId: string,
  status: string,
  terminationReason?: string,
): Record<string, unknown> {
  return {
    agent_id: "agent_recovery",
    conversation_id: conversationId,
    status,
    transcript: [
      { role: "agent", message: `Hello ${conversationId}`, time_in_call_secs: 0 },
      { role: "user", message: "a question asked before the crash", time_in_call_secs: 3 },
    ],
    metadata: {
      start_time_unix_secs: 1_780_000_000,
      call_duration_secs: 3,
      text_only: true,
      ...(terminationReason ? { termination_reason: terminationReason } : {}),
    },
  };
}

// Two nodes serving one database at once: PostgreSQL only (a second server on a SQLite file is refused).
describe.each(BACKENDS.filter((backend) => backend === "postgres"))(
  "recovery at start, node by node (%s)",
  (backend) => {
    it("a node recovers only its own sessions; the other node's live one is left alone until that node restarts", async () => {
      const storage = useStorage(backend);
      const nodeA = await startNode(storage, "node-a");
      const put = async (id: string, status: string, reason?: string) => {
        const response = await fetch(`${nodeA.url}/ingest/v1/conversations/${id}`, {
          method: "PUT",
          headers: { "xi-api-key": API_KEY, "content-type": "application/json" },
          body: JSON.stringify(liveDocument(id, status, reason)),
        });
        expect(response.status).toBe(201);
      };
      // What node A's and node B's sessions left: registered under their node, as a session's lifecycle does.
      await put("conv_live_a", "in-progress");
      await put("conv_initiated_a", "initiated");
      await put("conv_processing_a", "processing", "end_call tool was called.");
      await put("conv_done_a", "done", "Client disconnected: 1000");
      await put("conv_live_b", "in-progress");
      const sessions = nodeA.services.db.liveSessions;
      for (const id of ["conv_live_a", "conv_initiated_a", "conv_processing_a", "conv_done_a", "conv_gone_a"])
        await sessions.register(id, "node-a", Date.now());
      await sessions.register("conv_live_b", "node-b", Date.now());
      const before = await nodeA.client.conversationalAi.conversations.get("conv_live_a");

      // Node B restarts while node A is still serving.
      const nodeB = await startNode(storage, "node-b");
      const recoveredB = await nodeB.client.conversationalAi.conversations.get("conv_live_b");
      expect(recoveredB.status).toBe("failed");
      expect(recoveredB.metadata.terminationReason).toBe(RECOVERED_TERMINATION_REASON);
      expect(await sessions.listByNode("node-b")).toEqual([]);
      const stillLive = await nodeB.client.conversationalAi.conversations.get("conv_live_a");
      expect(stillLive).toEqual(before);
      expect((await sessions.listByNode("node-a")).map((s) => s.conversationId).sort()).toEqual([
        "conv_done_a",
        "conv_gone_a",
        "conv_initiated_a",
        "conv_live_a",
        "conv_processing_a",
      ]);
      await nodeB.stop();

      // Node A goes away without ending its sessions, then starts again.
      await nodeA.stop();
      const logged: Record<string, unknown>[] = [];
      const logger = pino({ level: "info" }, { write: (line: string) => logged.push(JSON.parse(line)) });
      const restartedA = await startNode(storage, "node-a", logger);
      expect(
        logged.filter((line) => line.msg === "recovered live sessions this node left when it stopped"),
      ).toEqual([
        expect.objectContaining({ node_id: "node-a", failed: 2, finished: 1, unchanged: 1, skipped: 1 }),
      ]);
      const get = (id: string) => restartedA.client.conversationalAi.conversations.get(id);
      const recoveredA = await get("conv_live_a");
      expect(recoveredA.status).toBe("failed");
      expect(recoveredA.metadata.terminationReason).toBe(RECOVERED_TERMINATION_REASON);
      expect(recoveredA.transcript).toEqual(before.transcript);
      expect(recoveredA.metadata.callDurationSecs).toBe(before.metadata.callDurationSecs);
      expect((await get("conv_initiated_a")).status).toBe("failed");
      const processing = await get("conv_processing_a");
      expect([processing.status, processing.metadata.terminationReason]).toEqual([
        "done",
        "end_call tool was called.",
      ]);
      const done = await get("conv_done_a");
      expect([done.status, done.metadata.terminationReason]).toEqual(["done", "Client disconnected: 1000"]);
      expect(await restartedA.services.db.liveSessions.listByNode("node-a")).toEqual([]);
      // The list filters see the new status too (the record was rebuilt, not just the document).
      const failed = await restartedA.client.conversationalAi.conversations.list({
        agentId: "agent_recovery",
      });
      expect(
        failed.conversations
          .filter((c) => c.status === "failed")
          .map((c) => c.conversationId)
          .sort(),
      ).toEqual(["conv_initiated_a", "conv_live_a", "conv_live_b"]);
    });
  },
);

/** `openconvai serve` on the storage as a real process (the development agent answers), killed after the test. */
function spawnServer(storage: TestStorage): Promise<ServerProcess> {
  return spawnServerProcess(storage, { apiKey: API_KEY, onStarted: (cleanup) => cleanups.push(cleanup) });
}

describe.each(BACKENDS)("a server killed with SIGKILL mid-session (%s)", (backend) => {
  it("comes back with the conversation failed, its transcript so far intact", async () => {
    const storage = useStorage(backend);
    const first = await spawnServer(storage);
    const client = new ElevenLabsClient({ apiKey: API_KEY, baseUrl: first.url, maxRetries: 0 });
    const { agentId } = await client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Hello before the crash" } },
    });
    const session = await startTextSession(first.url, agentId);
    cleanups.push(() => session.conversation.endSession());
    await session.waitFor("message", (m) => m.role === "agent");
    session.conversation.sendUserMessage("is my order on its way");
    await session.waitFor("message", (m) => m.message === "You said: is my order on its way");
    const id = session.conversation.getId();
    const expectedTurns = [
      ["agent", "Hello before the crash"],
      ["user", "is my order on its way"],
      ["agent", "You said: is my order on its way"],
    ];
    const turns = (c: { transcript: { role: string; message?: string }[] }) =>
      c.transcript.map((t) => [t.role, t.message]);
    const during = await client.conversationalAi.conversations.get(id);
    expect(during.status).toBe("in-progress");
    expect(turns(during)).toEqual(expectedTurns);

    first.child.kill("SIGKILL");
    await first.exited;
    expect(first.child.signalCode).toBe("SIGKILL");
    await session.waitFor("disconnect");

    // Started again on the same data, with the same (default) node id.
    let logged = "";
    const logger = pino(
      { level: "info" },
      {
        write: (line: string) => {
          logged += line;
        },
      },
    );
    const second = await startNode(storage, undefined, logger);
    const after = await second.client.conversationalAi.conversations.get(id);
    expect(after.status).toBe("failed");
    expect(after.metadata.terminationReason).toBe(RECOVERED_TERMINATION_REASON);
    expect(turns(after)).toEqual(expectedTurns);
    expect(after.transcript).toEqual(during.transcript);
    expect(after.metadata.startTimeUnixSecs).toBe(during.metadata.startTimeUnixSecs);
    expect(await second.services.db.liveSessions.listByNode(hostname())).toEqual([]);

    // The restart logged how many it recovered, and nothing of what was said.
    const recovered = logged
      .split("\n")
      .filter((line) => line.includes("recovered live sessions"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ level: 30, failed: 1, finished: 0, unchanged: 0, skipped: 0 });
    expect(logged).not.toContain("is my order on its way");
  }, 90_000);
});

describe.each(BACKENDS)("a server stopped mid-session (%s)", (backend) => {
  it("ends the session on the record before it stops: failed, why, the transcript kept, nothing left to recover", async () => {
    const storage = useStorage(backend);
    const first = await startNode(storage, "node-stop");
    const { agentId } = await first.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Hello before the stop" } },
    });
    const session = await startTextSession(first.url, agentId);
    cleanups.push(() => session.conversation.endSession());
    await session.waitFor("message", (m) => m.role === "agent");
    session.conversation.sendUserMessage("still there?");
    await session.waitFor("message", (m) => m.message === "You said: still there?");
    const id = session.conversation.getId();

    await first.stop();
    const disconnect = await session.waitFor("disconnect");
    expect(disconnect.closeCode).toBe(1001);

    const second = await startNode(storage, "node-stop");
    const after = await second.client.conversationalAi.conversations.get(id);
    expect(after.status).toBe("failed");
    expect(after.metadata.terminationReason).toBe(SERVER_STOPPED_REASON);
    expect(after.transcript.map((t) => [t.role, t.message])).toEqual([
      ["agent", "Hello before the stop"],
      ["user", "still there?"],
      ["agent", "You said: still there?"],
    ]);
    // The session unregistered itself: the restart had nothing to recover.
    expect(await second.services.db.liveSessions.listByNode("node-stop")).toEqual([]);
  }, 60_000);
});
