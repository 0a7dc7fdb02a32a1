import { SessionConnectionError, type TextConversation } from "@elevenlabs/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CLOSE_TRY_AGAIN_LATER, MAX_FRAME_BYTES } from "../../src/api/runtime/conversation-socket.js";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { eventually } from "./eventually.js";
import { startTextSession, type TextSession } from "./text-session.js";

/** The init frame the official client sends in text mode. */
const INIT = {
  type: "conversation_initiation_client_data",
  conversation_config_override: { agent: {}, tts: {}, conversation: { text_only: true } },
  source_info: { source: "js_sdk", version: "test" },
};

const MESSAGES_PER_MINUTE = 5;

/** A raw socket with every frame it received and how it closed. */
interface RawSocket {
  socket: WebSocket;
  frames: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
}

describe.each(BACKENDS)("live-session limits on %s", (backend) => {
  describe("the cap on concurrent sessions", () => {
    let server: TestServer;
    let agentId: string;
    const open: TextConversation[] = [];

    beforeAll(async () => {
      server = await startTestServer(backend, { OPENCONVAI_MAX_SESSIONS: "2" });
      agentId = (
        await server.client.conversationalAi.agents.create({
          conversationConfig: { agent: { firstMessage: "" } },
        })
      ).agentId;
    });
    afterAll(async () => {
      for (const conversation of open.splice(0)) await conversation.endSession().catch(() => undefined);
      await server?.stop();
    });

    const conversationCount = async () =>
      (await server.client.conversationalAi.conversations.list({ pageSize: 100 })).conversations.length;

    it("accepts a connection over the cap and closes it at once with 1013 and what to do; nothing is recorded", async () => {
      const first = await startTextSession(server.url, agentId);
      const second = await startTextSession(server.url, agentId);
      open.push(first.conversation, second.conversation);
      const recorded = await conversationCount();
      expect(recorded).toBe(2);

      const error = await startTextSession(server.url, agentId).then(
        (session) => {
          open.push(session.conversation);
          throw new Error("the session over the cap started");
        },
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SessionConnectionError);
      const refusal = error as SessionConnectionError;
      expect(refusal.closeCode).toBe(CLOSE_TRY_AGAIN_LATER);
      expect(refusal.closeReason).toMatch(/at most 2 live conversations.*Try again later/);
      expect(await conversationCount()).toBe(recorded);
    });

    it("counts a session until its socket closes: once one ends, a new one is accepted", async () => {
      const ending = open.shift() as TextConversation;
      await ending.endSession();
      // The server counts the socket until its close reaches it, shortly after the client's.
      const session = await eventually(
        () => startTextSession(server.url, agentId).catch(() => undefined),
        (started) => started !== undefined,
      );
      expect(session).toBeDefined();
      open.push((session as TextSession).conversation);
      session?.conversation.sendUserMessage("still here");
      expect((await session?.waitFor("message", (m) => m.role === "agent"))?.message).toBe(
        "You said: still here",
      );
    });
  });

  describe("the message rate and frame size of a session", () => {
    let server: TestServer;
    let agentId: string;
    const sockets: WebSocket[] = [];
    const open: TextConversation[] = [];

    beforeAll(async () => {
      server = await startTestServer(backend, {
        OPENCONVAI_MAX_SESSION_MESSAGES_PER_MINUTE: String(MESSAGES_PER_MINUTE),
      });
      agentId = (
        await server.client.conversationalAi.agents.create({
          conversationConfig: { agent: { firstMessage: "" } },
        })
      ).agentId;
    });
    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.terminate();
      for (const conversation of open.splice(0)) await conversation.endSession().catch(() => undefined);
    });
    afterAll(async () => {
      await server?.stop();
    });

    const connect = (): RawSocket => {
      const url = `${server.url.replace(/^http/, "ws")}/v1/convai/conversation?agent_id=${agentId}`;
      const socket = new WebSocket(url, ["convai"]);
      sockets.push(socket);
      const frames: Record<string, unknown>[] = [];
      socket.on("message", (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      return { socket, frames, closed };
    };
    /** Opens a raw session: the init frame sent and the metadata received; resolves with its id. */
    const startRaw = async (raw: RawSocket): Promise<string> => {
      await new Promise<void>((resolve, reject) => {
        raw.socket.once("open", () => resolve());
        raw.socket.once("error", reject);
      });
      raw.socket.send(JSON.stringify(INIT));
      const metadata = await new Promise<Record<string, unknown>>((resolve) => {
        const check = () => {
          const found = raw.frames.find((f) => f.type === "conversation_initiation_metadata");
          if (found) resolve(found);
          return found;
        };
        if (!check()) raw.socket.on("message", () => void check());
      });
      return (metadata.conversation_initiation_metadata_event as { conversation_id: string }).conversation_id;
    };
    const getConversation = (id: string) => server.client.conversationalAi.conversations.get(id);

    it("closes a session over its message rate with 1008 and a reason, and records the end", async () => {
      const session = await startTextSession(server.url, agentId);
      open.push(session.conversation);
      const id = session.conversation.getId();
      // The init frame counts: with a limit of 5, four user messages fit and the fifth is too many.
      for (let i = 1; i <= MESSAGES_PER_MINUTE; i++) session.conversation.sendUserMessage(`message ${i}`);
      const disconnect = await session.waitFor("disconnect");
      expect(disconnect.closeCode).toBe(1008);
      expect(disconnect.closeReason).toBe(`Too many messages: at most ${MESSAGES_PER_MINUTE} a minute`);

      const stored = await getConversation(id);
      expect(stored.status).toBe("failed");
      expect(stored.metadata.terminationReason).toBe(
        `Too many messages: at most ${MESSAGES_PER_MINUTE} a minute`,
      );
      const userTurns = stored.transcript.filter((t) => t.role === "user").map((t) => t.message);
      expect(userTurns).toEqual(["message 1", "message 2", "message 3", "message 4"]);
    });

    it("does not count pongs against the rate", async () => {
      const raw = connect();
      await startRaw(raw);
      for (let i = 0; i < 3 * MESSAGES_PER_MINUTE; i++)
        raw.socket.send(JSON.stringify({ type: "pong", event_id: 1000 + i }));
      // Four frames are left after the init frame: three messages and then the last one answered.
      for (let i = 1; i <= MESSAGES_PER_MINUTE - 1; i++)
        raw.socket.send(JSON.stringify({ type: "user_message", text: `message ${i}` }));
      const answered = await new Promise<boolean>((resolve) => {
        const check = () =>
          raw.frames.some(
            (f) =>
              f.type === "agent_response" &&
              (f.agent_response_event as { agent_response: string }).agent_response ===
                `You said: message ${MESSAGES_PER_MINUTE - 1}`,
          );
        if (check()) return resolve(true);
        raw.socket.on("message", () => check() && resolve(true));
        raw.socket.on("close", () => resolve(check()));
      });
      expect(answered).toBe(true);
      expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    });

    it("closes a frame over the size limit with 1009 and records why the session ended", async () => {
      const raw = connect();
      const id = await startRaw(raw);
      raw.socket.send(JSON.stringify({ type: "user_message", text: "first" }));
      await new Promise<void>((resolve) => {
        const check = () => raw.frames.some((f) => f.type === "agent_response") && resolve();
        if (!check()) raw.socket.on("message", () => void check());
      });
      raw.socket.send(JSON.stringify({ type: "user_message", text: "x".repeat(MAX_FRAME_BYTES) }));
      expect((await raw.closed).code).toBe(1009);

      const stored = await eventually(
        () => getConversation(id),
        (c) => c.status === "failed",
      );
      expect(stored.status).toBe("failed");
      expect(stored.metadata.terminationReason).toBe("Message too large: a frame may be at most 1 MiB");
      expect(stored.transcript.map((t) => t.message)).toEqual(["first", "You said: first"]);
    });

    it("keeps serving other sessions after refusing one", async () => {
      const session = await startTextSession(server.url, agentId);
      open.push(session.conversation);
      session.conversation.sendUserMessage("hello");
      expect((await session.waitFor("message", (m) => m.role === "agent")).message).toBe("You said: hello");
    });
  });
});
