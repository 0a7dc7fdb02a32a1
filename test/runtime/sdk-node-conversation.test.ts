/**
 * The server SDK's Node `Conversation` (`@elevenlabs/elevenlabs-js`) against a listening server,
 * unchanged: by signed URL (`requiresAuth: true` with an `ElevenLabsClient` whose baseUrl is the
 * server) for an agent with enable_auth, and through a `webSocketFactory` that sends its own
 * `wss://api.elevenlabs.io` URL here, for a public agent and, with an `xi-api-key` header, a
 * private one. The development agent answers; the conversation is then read back with the SDK.
 * With a model (a local streaming OpenAI-compatible server): a client tool round trip through the
 * SDK's ClientTools, and an interruption.
 */
import { type ElevenLabs, ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import { ClientTools } from "@elevenlabs/elevenlabs-js/api/resources/conversationalAi/conversation/ClientTools.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { readConversationUntil } from "./eventually.js";
import { type NodeSdkSession, redirectingWebSocketFactory, startNodeSdkSession } from "./sdk-node-session.js";

describe.each(BACKENDS)("the SDK's Node Conversation on %s", (backend) => {
  let server: TestServer;
  const open: NodeSdkSession[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterEach(() => {
    for (const session of open.splice(0)) session.conversation.endSession();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const createAgent = async (firstMessage: string, enableAuth: boolean) =>
    (
      await server.client.conversationalAi.agents.create({
        conversationConfig: { agent: { firstMessage } },
        platformSettings: { auth: { enableAuth } },
      })
    ).agentId;
  /** An SDK client as an application builds one: its own key and the server as baseUrl. */
  const applicationClient = () =>
    new ElevenLabsClient({ apiKey: server.apiKey, baseUrl: server.url, maxRetries: 0 });
  const start = async (options: Parameters<typeof startNodeSdkSession>[0]) => {
    const session = await startNodeSdkSession(options);
    open.push(session);
    return session;
  };
  const readUntil = (id: string, done: (c: ElevenLabs.GetConversationResponseModel) => boolean) =>
    readConversationUntil(server.client, id, done);
  const turns = (conversation: ElevenLabs.GetConversationResponseModel) =>
    conversation.transcript.map((turn) => [turn.role, turn.message]);

  it("runs a whole session with a private agent through a signed URL, then reads it back", async () => {
    const agentId = await createAgent("Hello from the private agent.", true);
    const session = await start({ agentId, requiresAuth: true, conversationClient: applicationClient() });

    const started = await session.waitFor("started");
    expect(started.conversationId).toMatch(/^conv_[0-9a-z]{28}$/);
    expect(session.conversation.getConversationId()).toBe(started.conversationId);
    expect(session.frames()[0]?.type).toBe("conversation_initiation_metadata");
    const first = await session.waitFor("agent_response");
    expect(first.text).toBe("Hello from the private agent.");

    session.conversation.sendContextualUpdate("the user opened the pricing page");
    session.conversation.registerUserActivity();
    session.conversation.sendUserMessage("where is my order");
    const reply = await session.waitFor("agent_response", (r) => r.text !== first.text);
    expect(reply.text).toBe("You said: where is my order");
    // The contextual update got no reply: two agent responses, the greeting and the echo.
    expect(session.reports.filter((r) => r.kind === "agent_response")).toHaveLength(2);
    const parts = session.frames().filter((f) => f.type === "agent_chat_response_part");
    expect(parts.length).toBeGreaterThan(3);

    const inProgress = await server.client.conversationalAi.conversations.get(started.conversationId);
    expect(inProgress.status).toBe("in-progress");
    expect(inProgress.agentId).toBe(agentId);

    session.conversation.sendUserMessage("goodbye");
    const closed = await session.waitFor("closed");
    expect(closed.code).toBe(1000);
    expect(session.conversation.isSessionActive()).toBe(false);
    const toolResponse = session.frames().find((f) => f.type === "agent_tool_response");
    expect(toolResponse?.agent_tool_response).toMatchObject({ tool_name: "end_call" });
    expect(session.reports.filter((r) => r.kind === "agent_response").at(-1)).toEqual({
      kind: "agent_response",
      text: "Goodbye!",
    });

    const ended = await readUntil(started.conversationId, (c) => c.status === "done");
    expect(ended.status).toBe("done");
    expect(ended.metadata.terminationReason).toBe("end_call tool was called.");
    expect(ended.metadata.textOnly).toBe(true);
    expect(turns(ended)).toEqual([
      ["agent", "Hello from the private agent."],
      ["user", "where is my order"],
      ["agent", "You said: where is my order"],
      ["user", "goodbye"],
      ["agent", "Goodbye!"],
      // The end_call tool's call, then its result, as upstream records them (message null).
      ["agent", undefined],
      ["agent", undefined],
    ]);
  });

  it("records the init frame the SDK sends: dynamic variables filled, text_only as the mode", async () => {
    const agentId = await createAgent("Hi {{name}}, this is {{system__agent_id}}.", true);
    const session = await start({
      agentId,
      requiresAuth: true,
      conversationClient: applicationClient(),
      config: { dynamicVariables: { name: "Ada", plan: 3 } },
    });
    const first = await session.waitFor("agent_response");
    expect(first.text).toBe(`Hi Ada, this is ${agentId}.`);
    const id = session.conversation.getConversationId() ?? "";
    const recorded = await server.client.conversationalAi.conversations.get(id);
    expect(recorded.metadata.textOnly).toBe(true);
    expect(recorded.conversationInitiationClientData?.dynamicVariables).toMatchObject({
      name: "Ada",
      plan: "3",
      system__conversation_id: id,
    });
  });

  it("connects to a public agent through a webSocketFactory that redirects the SDK's own URL", async () => {
    const agentId = await createAgent("Hello from the public agent.", false);
    const factory = redirectingWebSocketFactory(server.url);
    const session = await start({ agentId, requiresAuth: false, webSocketFactory: factory });
    const first = await session.waitFor("agent_response");
    expect(first.text).toBe("Hello from the public agent.");
    expect(factory.urls).toHaveLength(1);
    expect(factory.urls[0]).toMatch(
      new RegExp(`^wss://api\\.elevenlabs\\.io/v1/convai/conversation\\?agent_id=${agentId}&source=js_sdk`),
    );
    session.conversation.sendUserMessage("hi");
    const reply = await session.waitFor("agent_response", (r) => r.text !== first.text);
    expect(reply.text).toBe("You said: hi");
    session.conversation.sendMultimodalMessage({ text: "and this" });
    const multimodal = await session.waitFor("agent_response", (r) => r.text === "You said: and this");
    expect(multimodal.text).toBe("You said: and this");
  });

  it("connects server-side to a private agent with an xi-api-key header on the socket", async () => {
    const agentId = await createAgent("Keyed in.", true);
    const factory = redirectingWebSocketFactory(server.url, { "xi-api-key": server.apiKey });
    const session = await start({ agentId, requiresAuth: false, webSocketFactory: factory });
    const first = await session.waitFor("agent_response");
    expect(first.text).toBe("Keyed in.");
  });

  it("is refused with 1008 when it reaches a private agent with neither signature nor key", async () => {
    const agentId = await createAgent("secret", true);
    const session = await start({
      agentId,
      requiresAuth: false,
      webSocketFactory: redirectingWebSocketFactory(server.url),
    });
    const closed = await session.waitFor("closed");
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/Authentication required/);
    expect(session.reports.some((r) => r.kind === "started")).toBe(false);
  });

  it("records the user's endSession as a normal end: done", async () => {
    const agentId = await createAgent("Hello", true);
    const session = await start({ agentId, requiresAuth: true, conversationClient: applicationClient() });
    await session.waitFor("agent_response");
    const id = session.conversation.getConversationId() ?? "";
    session.conversation.endSession();
    const ended = await readUntil(id, (c) => c.status === "done");
    expect(ended.status).toBe("done");
    expect(ended.metadata.terminationReason).toMatch(/^Client disconnected: 1005/);
    expect(turns(ended)).toEqual([["agent", "Hello"]]);
  });
});

describe.each(BACKENDS)("the SDK's Node Conversation with a model on %s", (backend) => {
  let server: TestServer;
  let llm: FakeLlmServer;
  const open: NodeSdkSession[] = [];
  /** The last message of a chat request, and whether it is a tool result. */
  const last = (body: Record<string, unknown>) =>
    ((body.messages as Record<string, unknown>[] | undefined) ?? []).at(-1) ?? {};

  beforeAll(async () => {
    llm = await startFakeLlmServer((body) => {
      const message = last(body);
      if (message.role === "tool") return { text: ["It is ", `${String(message.content)}.`] };
      if (message.content === "what time is it")
        return { toolCalls: [{ id: "call_time", name: "get_time", arguments: { zone: "UTC" } }] };
      if (message.content === "count slowly")
        return { text: ["One, ", "two, ", "three, ", "four, ", "five."], chunkDelayMs: 300 };
      return { text: ["Noted."] };
    });
    server = await startTestServer(backend, {
      OPENCONVAI_LLM_BASE_URL: llm.url,
      OPENCONVAI_LLM_MODEL: "test-model",
    });
  });
  afterEach(() => {
    for (const session of open.splice(0)) session.conversation.endSession();
  });
  afterAll(async () => {
    await server?.stop();
    await llm?.close();
  });

  it("runs a client tool round trip and is interrupted by a new message", async () => {
    const { agentId } = await server.client.conversationalAi.agents.create({
      conversationConfig: {
        agent: {
          firstMessage: "",
          prompt: {
            prompt: "You tell the time.",
            tools: [
              {
                type: "client",
                name: "get_time",
                description: "The time now.",
                expectsResponse: true,
                parameters: {
                  type: "object",
                  properties: { zone: { type: "string", description: "A zone." } },
                },
              },
            ],
          },
        },
      },
      platformSettings: { auth: { enableAuth: true } },
    });
    const asked: Record<string, unknown>[] = [];
    const clientTools = new ClientTools();
    clientTools.register("get_time", (parameters) => {
      asked.push(parameters);
      return "noon";
    });
    const session = await startNodeSdkSession({
      agentId,
      requiresAuth: true,
      conversationClient: new ElevenLabsClient({ apiKey: server.apiKey, baseUrl: server.url, maxRetries: 0 }),
      clientTools,
    });
    open.push(session);
    await session.waitFor("started");
    session.conversation.sendUserMessage("what time is it");
    await session.waitFor("agent_response", (r) => r.text === "It is noon.");
    expect(asked).toEqual([{ tool_call_id: "call_time", zone: "UTC" }]);

    session.conversation.sendUserMessage("count slowly");
    await session.waitFor(
      "frame",
      (r) => r.frame.type === "agent_chat_response_part" && JSON.stringify(r.frame).includes("One, "),
    );
    session.conversation.sendUserMessage("stop");
    await session.waitFor("frame", (r) => r.frame.type === "interruption");
    const correction = await session.waitFor("correction");
    // The SDK trims both texts; what was sent before the interruption starts with the first piece.
    expect(correction.corrected.startsWith("One,")).toBe(true);
    await session.waitFor("agent_response", (r) => r.text === "Noted.");

    const id = session.conversation.getConversationId() as string;
    const recorded = await server.client.conversationalAi.conversations.get(id);
    const results = recorded.transcript.flatMap((t) => t.toolResults ?? []);
    expect(results.map((r) => [r.toolName, r.resultValue])).toEqual([["get_time", "noon"]]);
    expect(recorded.transcript.some((t) => t.interrupted === true)).toBe(true);
  }, 30_000);
});
