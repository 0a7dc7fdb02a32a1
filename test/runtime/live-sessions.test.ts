/**
 * A stopping node waits for every session that still has work: live ones (ended on the record
 * with 1001) and those whose socket already closed but whose last write or post-call analysis is
 * still running, so the database does not close under them. After the drain began, no session
 * starts (a connection still authenticating is closed 1013, try again later, instead). End to end: a conversation
 * whose analysis is still running when the server stops is recorded `done` with its analysis,
 * not left `processing`.
 */
import websocket from "@fastify/websocket";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  conversationSocketPluginOptions,
  conversationSocketRoutes,
} from "../../src/api/runtime/conversation-socket.js";
import { type DrainableSession, LiveSessions } from "../../src/api/runtime/live-sessions.js";
import { BACKENDS } from "../support/backends.js";
import { type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { startTextSession } from "./text-session.js";

/** A session whose work ends when the test says so; it notes what the drain asked of it. */
function fakeSession(): DrainableSession & { finish(): void; shutdowns: number; done: boolean } {
  let finish = () => {};
  const work = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const session = {
    shutdowns: 0,
    done: false,
    finish: () => finish(),
    shutdown: async () => {
      session.shutdowns += 1;
    },
    settled: () =>
      work.then(() => {
        session.done = true;
      }),
  };
  return session;
}

describe("LiveSessions", () => {
  it("keeps a session whose socket closed until its work is done", async () => {
    const live = new LiveSessions();
    const session = fakeSession();
    live.add(session);
    let finished = () => {};
    live.release(
      session,
      new Promise<void>((resolve) => {
        finished = resolve;
      }),
    );
    await Promise.resolve();
    expect(live.size).toBe(1);
    finished();
    await new Promise((resolve) => setImmediate(resolve));
    expect(live.size).toBe(0);
  });

  it("drains sessions whose socket already closed as well as live ones, waiting for both", async () => {
    const live = new LiveSessions();
    const closedStillWriting = fakeSession();
    const stillLive = fakeSession();
    live.add(closedStillWriting);
    live.add(stillLive);
    live.release(closedStillWriting, closedStillWriting.settled());
    const drained = live.drain(60_000);
    let over = false;
    void drained.then(() => {
      over = true;
    });
    stillLive.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(over).toBe(false);
    closedStillWriting.finish();
    await drained;
    expect(closedStillWriting.done).toBe(true);
    expect(stillLive.done).toBe(true);
    expect(closedStillWriting.shutdowns).toBe(1);
    expect(stillLive.shutdowns).toBe(1);
  });

  it("gives up waiting after the grace period", async () => {
    const live = new LiveSessions();
    const stuck = fakeSession();
    live.add(stuck);
    await live.drain(10);
    expect(stuck.done).toBe(false);
  });

  it("refuses a session that would start after the drain began", async () => {
    const live = new LiveSessions();
    await live.drain(10);
    expect(live.stopping).toBe(true);
    expect(live.add(fakeSession())).toBe(false);
    expect(live.size).toBe(0);
  });
});

describe.each(BACKENDS)("stopping the server during post-call analysis on %s", (backend) => {
  let server: TestServer;
  let llm: FakeLlmServer;
  let analysisAsked: () => void = () => {};

  beforeAll(async () => {
    llm = await startFakeLlmServer((body) => {
      if (body.response_format === undefined) return { text: ["Noted."] };
      analysisAsked();
      return {
        // Slow enough that the server stops while it runs.
        firstChunkDelayMs: 400,
        text: [
          JSON.stringify({
            transcript_summary: "The user said hello.",
            call_summary_title: "Hello",
            call_successful: "success",
            evaluation_criteria_results: {},
            data_collection_results: {},
          }),
        ],
      };
    });
    server = await startTestServer(backend, {
      OPENCONVAI_LLM_BASE_URL: llm.url,
      OPENCONVAI_LLM_MODEL: "test-model",
    });
  });
  afterAll(async () => {
    await server?.storage.cleanup();
    await llm?.close();
  });

  it("waits for the analysis of a session whose socket already closed, which ends `done`", async () => {
    const agentId = (
      await server.client.conversationalAi.agents.create({
        conversationConfig: { agent: { firstMessage: "" } },
      })
    ).agentId;
    const session = await startTextSession(server.url, agentId);
    const id = session.conversation.getId();
    const asked = new Promise<void>((resolve) => {
      analysisAsked = resolve;
    });
    session.conversation.sendUserMessage("Hello");
    await session.waitFor("message", (m) => m.role === "agent");
    await session.conversation.endSession();
    await asked;
    await server.server.stop();

    const db = await server.storage.open();
    try {
      const row = await db.conversations.getConversation(id);
      const stored = JSON.parse(row?.json ?? "{}") as { status?: string; analysis?: unknown };
      expect(stored.status).toBe("done");
      expect(stored.analysis).toMatchObject({ transcript_summary: "The user said hello." });
    } finally {
      await db.close();
    }
  });
});

describe.each(BACKENDS)(
  "a connection that finishes authenticating after the drain began on %s",
  (backend) => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer(backend);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("starts no session and is closed 1013 (try again later)", async () => {
      const { services } = server.server;
      const agentId = (
        await server.client.conversationalAi.agents.create({
          conversationConfig: { agent: { firstMessage: "Hi." } },
        })
      ).agentId;
      // The agent lookup (the auth step) waits until the test lets it go.
      let lookedUp: () => void = () => {};
      const lookup = new Promise<void>((resolve) => {
        lookedUp = resolve;
      });
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const live = new LiveSessions();
      const app = Fastify();
      await app.register(websocket, conversationSocketPluginOptions(live));
      await app.register(async (scope) =>
        conversationSocketRoutes(scope, {
          agents: {
            getAgentConfig: async (id: string) => {
              lookedUp();
              await gate;
              return services.agents.getAgentConfig(id);
            },
          },
          keys: services.keys,
          conversations: services.conversations,
          conversationStore: services.db.conversations,
          analysisSettings: services.db.analysisSettings,
          signatures: services.db.conversationSignatures,
          liveSessions: live,
        }),
      );
      const url = await app.listen({ host: "127.0.0.1", port: 0 });
      try {
        const socket = new WebSocket(
          `${url.replace(/^http/, "ws")}/v1/convai/conversation?agent_id=${agentId}`,
          ["convai"],
        );
        // The first thing the client sees: a frame (a session started) or the close.
        const outcome = new Promise<{ code: number; reason: string } | { frame: string }>((resolve) => {
          socket.on("message", (data) => resolve({ frame: data.toString() }));
          socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
        });
        socket.on("open", () =>
          socket.send(
            JSON.stringify({ type: "conversation_initiation_client_data", conversation_config_override: {} }),
          ),
        );
        await lookup;
        await live.drain(1_000);
        release();
        expect(await outcome).toEqual({
          code: 1013,
          reason: "Server shutting down: connect again to start the conversation",
        });
        expect(live.size).toBe(0);
      } finally {
        await app.close();
      }
    });
  },
);
