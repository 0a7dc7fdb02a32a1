import { SessionConnectionError, type TextConversation } from "@elevenlabs/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { startTextSession, type TextSession } from "./text-session.js";

describe.each(BACKENDS)("the agent WebSocket with the official client on %s", (backend) => {
  let server: TestServer;
  const open: TextConversation[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterEach(async () => {
    for (const conversation of open.splice(0)) await conversation.endSession().catch(() => undefined);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const createAgent = async (agent: Record<string, unknown>, platformSettings?: Record<string, unknown>) => {
    const created = await server.client.conversationalAi.agents.create({
      conversationConfig: { agent },
      ...(platformSettings ? { platformSettings } : {}),
    });
    return created.agentId;
  };
  const start = async (agentId: string, extras = {}): Promise<TextSession> => {
    const session = await startTextSession(server.url, agentId, extras);
    open.push(session.conversation);
    return session;
  };
  /** The rejection of a session the server refuses. */
  const refusal = async (agentId: string, extras = {}): Promise<SessionConnectionError> => {
    const error = await startTextSession(server.url, agentId, extras).then(
      (session) => {
        open.push(session.conversation);
        throw new Error("the session started");
      },
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SessionConnectionError);
    return error as SessionConnectionError;
  };

  it("connects to a public agent without a key and receives its first message, streamed", async () => {
    const agentId = await createAgent({ firstMessage: "Hello from the test agent." });
    const session = await start(agentId);
    const first = await session.waitFor("message", (m) => m.role === "agent");
    expect(first.message).toBe("Hello from the test agent.");
    expect(session.conversation.getId()).toMatch(/^conv_[0-9a-z]{28}$/);
    const parts = session.reports.filter((r) => r.kind === "part");
    expect(parts.map((p) => p.type)).toEqual(["start", "delta", "stop"]);
  });

  it("answers a user message with the development agent's echo, streamed word by word", async () => {
    const agentId = await createAgent({ firstMessage: "" });
    const session = await start(agentId);
    session.conversation.sendUserMessage("what time is it");
    const reply = await session.waitFor("message", (m) => m.role === "agent");
    expect(reply.message).toBe("You said: what time is it");
    const parts = session.reports.filter((r) => r.kind === "part");
    expect(parts[0]?.type).toBe("start");
    expect(parts.at(-1)?.type).toBe("stop");
    const deltas = parts.filter((p) => p.type === "delta");
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((d) => d.text).join("")).toBe(reply.message);
  });

  it("gives no reply to a contextual update, and answers the next user message", async () => {
    const agentId = await createAgent({ firstMessage: "" });
    const session = await start(agentId);
    session.conversation.sendContextualUpdate("the user opened the pricing page");
    session.conversation.sendUserMessage("hi");
    const reply = await session.waitFor("message", (m) => m.role === "agent");
    expect(reply.message).toBe("You said: hi");
    expect(session.reports.filter((r) => r.kind === "message" && r.role === "agent")).toHaveLength(1);
  });

  it("fills dynamic variables, the system ones included, into the first message", async () => {
    const agentId = await createAgent({
      firstMessage: "Hi {{ name }}, you are talking to {{system__agent_id}} in {{system__conversation_id}}.",
    });
    const session = await start(agentId, { dynamicVariables: { name: "Ada" } });
    const first = await session.waitFor("message", (m) => m.role === "agent");
    expect(first.message).toBe(`Hi Ada, you are talking to ${agentId} in ${session.conversation.getId()}.`);
  });

  it("refuses a session missing a dynamic variable with 1008 naming it", async () => {
    const agentId = await createAgent({
      firstMessage: "Hi {{name}}",
      prompt: { prompt: "Order {{order_id}}" },
    });
    const error = await refusal(agentId, { dynamicVariables: { name: "Ada" } });
    expect(error.closeCode).toBe(1008);
    expect(error.closeReason).toContain("order_id");
    expect(error.closeReason).not.toContain("name,");
  });

  it("refuses an unknown agent with 1008 and a reason", async () => {
    const error = await refusal("agent_does_not_exist");
    expect(error.closeCode).toBe(1008);
    expect(error.closeReason).toMatch(/agent_does_not_exist.*not found/);
  });

  it("refuses an agent with enable_auth without a key with 1008", async () => {
    const agentId = await createAgent({ firstMessage: "secret" }, { auth: { enableAuth: true } });
    const error = await refusal(agentId);
    expect(error.closeCode).toBe(1008);
    expect(error.closeReason).toMatch(/Authentication required/);
  });

  it("ends the call on the documented word: end_call, then the client disconnects as 'agent'", async () => {
    const agentId = await createAgent({ firstMessage: "" });
    const session = await start(agentId);
    session.conversation.sendUserMessage("ok, goodbye then");
    const farewell = await session.waitFor("message", (m) => m.role === "agent");
    expect(farewell.message).toBe("Goodbye!");
    await session.waitFor("tool_response", (t) => t.toolName === "end_call");
    const disconnect = await session.waitFor("disconnect");
    expect(disconnect.reason).toBe("agent");
  });
});
