import type { TextConversation } from "@elevenlabs/client";
import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { readConversationUntil } from "./eventually.js";
import { startTextSession, type TextSession } from "./text-session.js";

describe.each(BACKENDS)("live conversations recorded as they happen on %s", (backend) => {
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

  const createAgent = async (firstMessage: string) =>
    (await server.client.conversationalAi.agents.create({ conversationConfig: { agent: { firstMessage } } }))
      .agentId;
  const start = async (agentId: string, extras = {}): Promise<TextSession> => {
    const session = await startTextSession(server.url, agentId, extras);
    open.push(session.conversation);
    return session;
  };
  const readUntil = (id: string, done: (c: ElevenLabs.GetConversationResponseModel) => boolean) =>
    readConversationUntil(server.client, id, done);
  const turns = (conversation: ElevenLabs.GetConversationResponseModel) =>
    conversation.transcript.map((turn) => [turn.role, turn.message]);

  it("records the conversation while it is in progress: status, turns, metadata, client data", async () => {
    const before = Math.floor(Date.now() / 1000);
    const agentId = await createAgent("Hi {{name}}!");
    const session = await start(agentId, { dynamicVariables: { name: "Ada", plan: 3 }, userId: "user-42" });
    await session.waitFor("message", (m) => m.role === "agent");
    const id = session.conversation.getId();

    const opened = await server.client.conversationalAi.conversations.get(id);
    expect(opened.conversationId).toBe(id);
    expect(opened.agentId).toBe(agentId);
    expect(opened.status).toBe("in-progress");
    expect(turns(opened)).toEqual([["agent", "Hi Ada!"]]);
    expect(opened.transcript[0]?.timeInCallSecs).toBeGreaterThanOrEqual(0);
    expect(opened.metadata.startTimeUnixSecs).toBeGreaterThanOrEqual(before);
    expect(opened.metadata.textOnly).toBe(true);
    expect(opened.metadata.terminationReason ?? "").toBe("");
    expect(opened.userId).toBe("user-42");
    const clientData = opened.conversationInitiationClientData;
    expect(clientData?.userId).toBe("user-42");
    expect(clientData?.dynamicVariables).toMatchObject({
      name: "Ada",
      plan: "3",
      system__conversation_id: id,
      system__agent_id: agentId,
    });
    expect(clientData?.sourceInfo?.source).toBe("js_sdk");

    session.conversation.sendUserMessage("where is my order");
    await session.waitFor("message", (m) => m.role === "agent" && m.message.startsWith("You said"));
    const talking = await server.client.conversationalAi.conversations.get(id);
    expect(turns(talking)).toEqual([
      ["agent", "Hi Ada!"],
      ["user", "where is my order"],
      ["agent", "You said: where is my order"],
    ]);
  });

  it("records a conversation the agent ended: done, with the end_call termination reason", async () => {
    const agentId = await createAgent("");
    const session = await start(agentId);
    const id = session.conversation.getId();
    const initiated = await server.client.conversationalAi.conversations.get(id);
    expect(initiated.status).toBe("initiated");
    expect(initiated.transcript).toEqual([]);

    session.conversation.sendUserMessage("goodbye");
    await session.waitFor("disconnect");
    const ended = await readUntil(id, (c) => c.status === "done");
    expect(ended.status).toBe("done");
    expect(ended.metadata.terminationReason).toBe("end_call tool was called.");
    // As upstream records it: the last words, then the end_call call, then its result, each an entry.
    expect(turns(ended)).toEqual([
      ["user", "goodbye"],
      ["agent", "Goodbye!"],
      ["agent", undefined],
      ["agent", undefined],
    ]);
    expect(ended.transcript[2]?.toolCalls?.map((call) => [call.toolName, call.type])).toEqual([
      ["end_call", "system"],
    ]);
    expect(ended.transcript[3]?.toolResults?.map((result) => [result.toolName, result.isError])).toEqual([
      ["end_call", false],
    ]);
    expect(ended.metadata.callDurationSecs).toBeGreaterThanOrEqual(0);
  });

  it("records a conversation the user ended: done, with the client's close as the reason", async () => {
    const agentId = await createAgent("Hello");
    const session = await start(agentId);
    await session.waitFor("message", (m) => m.role === "agent");
    const id = session.conversation.getId();
    await session.conversation.endSession();
    const ended = await readUntil(id, (c) => c.status === "done");
    expect(ended.status).toBe("done");
    expect(ended.metadata.terminationReason).toBe("Client disconnected: 1000 User ended conversation");
    expect(turns(ended)).toEqual([["agent", "Hello"]]);
  });

  it("records in-call feedback on the agent's turn", async () => {
    const agentId = await createAgent("Rate me");
    const session = await start(agentId);
    await session.waitFor("message", (m) => m.role === "agent");
    const id = session.conversation.getId();
    session.conversation.sendFeedback(true);
    const rated = await readUntil(id, (c) => c.transcript[0]?.feedback !== undefined);
    expect(rated.transcript[0]?.feedback?.score).toBe("like");
    expect(rated.metadata.feedback?.likes).toBe(1);
  });
  it("keeps feedback posted over HTTP during the call when the session writes again", async () => {
    const agentId = await createAgent("Hello");
    const session = await start(agentId);
    await session.waitFor("message", (m) => m.role === "agent");
    const id = session.conversation.getId();
    await server.client.conversationalAi.conversations.feedback.create(id, { feedback: "like" });
    session.conversation.sendUserMessage("still there?");
    await session.waitFor("message", (m) => m.role === "agent" && m.message.startsWith("You said"));
    const later = await readUntil(id, (c) => c.transcript.length === 3);
    expect(turns(later)).toEqual([
      ["agent", "Hello"],
      ["user", "still there?"],
      ["agent", "You said: still there?"],
    ]);
    expect(later.metadata.feedback?.overallScore).toBe("like");
  });

  it("does not bring back a conversation deleted during the call", async () => {
    const agentId = await createAgent("Hello");
    const session = await start(agentId);
    await session.waitFor("message", (m) => m.role === "agent");
    const id = session.conversation.getId();
    await server.client.conversationalAi.conversations.delete(id);
    session.conversation.sendUserMessage("anyone?");
    await session.waitFor("message", (m) => m.role === "agent" && m.message.startsWith("You said"));
    await session.conversation.endSession();
    await session.waitFor("disconnect");
    await expect(server.client.conversationalAi.conversations.get(id)).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
