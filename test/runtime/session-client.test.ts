import { Conversation, type TextConversation } from "@elevenlabs/client";
import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { type FakeLlmReply, type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
// The official client needs a global WebSocket: text-session.ts installs ws's.
import "./text-session.js";
import { readConversationUntil } from "./eventually.js";

type Json = Record<string, unknown>;

/** A slow streamed answer (a piece every 200 ms): the user's second message comes long before its end. */
const COUNT = ["One ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight ", "nine ", "ten."];

/** Whether a chat-completion request already carries a tool result. */
const hasToolResult = (body: Json) =>
  (body.messages as Json[] | undefined)?.some((message) => message.role === "tool") ?? false;

/** The user messages of a chat-completion request. */
const userMessages = (body: Json) =>
  ((body.messages as Json[] | undefined) ?? []).filter((m) => m.role === "user").map((m) => m.content);

/** Waits (polling the event loop) until `check` holds; 10 s at most. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.each(BACKENDS)("the official client in live sessions with a model and tools on %s", (backend) => {
  let server: TestServer;
  let llm: FakeLlmServer;
  const open: TextConversation[] = [];

  beforeAll(async () => {
    llm = await startFakeLlmServer(() => ({ text: ["Hello."] }));
    server = await startTestServer(backend, {
      OPENCONVAI_LLM_BASE_URL: llm.url,
      OPENCONVAI_LLM_MODEL: "test-model",
    });
  });
  afterEach(async () => {
    for (const conversation of open.splice(0)) await conversation.endSession().catch(() => undefined);
    llm.requests.length = 0;
  });
  afterAll(async () => {
    await server?.stop();
    await llm?.close();
  });

  const createAgent = async (agent: Json): Promise<string> => {
    const response = await server.fetch("/v1/convai/agents/create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ conversation_config: { agent: { first_message: "", ...agent } } }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { agent_id: string }).agent_id;
  };
  const readUntil = (id: string, done: (c: ElevenLabs.GetConversationResponseModel) => boolean) =>
    readConversationUntil(server.client, id, done);

  it("runs a client tool the model calls and lets the model answer with its result; both are recorded", async () => {
    const reply: FakeLlmReply = (body) =>
      hasToolResult(body)
        ? { text: ["It is ", "noon."] }
        : { toolCalls: [{ id: "call_time", name: "get_time", arguments: { zone: "UTC" } }] };
    llm.setReply(reply);
    const agentId = await createAgent({
      prompt: {
        prompt: "You tell the time.",
        tools: [
          {
            type: "client",
            name: "get_time",
            description: "The time in a zone",
            expects_response: true,
            response_timeout_secs: 5,
            parameters: { type: "object", properties: { zone: { type: "string", description: "The zone" } } },
          },
        ],
      },
    });
    const messages: string[] = [];
    const toolCalls: Json[] = [];
    const conversation = await Conversation.startSession({
      agentId,
      origin: server.url,
      connectionType: "websocket",
      textOnly: true,
      clientTools: {
        get_time: async (parameters: Json) => {
          toolCalls.push(parameters);
          return `noon in ${String(parameters.zone)}`;
        },
      },
      onMessage: ({ role, message }) => void (role === "agent" && messages.push(message)),
    });
    open.push(conversation);
    conversation.sendUserMessage("what time is it");
    await until(() => messages.includes("It is noon."), "the answer after the tool");
    expect(toolCalls).toEqual([{ zone: "UTC" }]);
    const toolMessage = ((llm.requests[1]?.messages ?? []) as Json[]).find((m) => m.role === "tool");
    expect(toolMessage).toMatchObject({ tool_call_id: "call_time", content: "noon in UTC" });

    const id = conversation.getId();
    const recorded = await readUntil(id, (c) => c.transcript.some((t) => t.message === "It is noon."));
    const calls = recorded.transcript.flatMap((t) => t.toolCalls ?? []);
    const results = recorded.transcript.flatMap((t) => t.toolResults ?? []);
    expect(calls.map((c) => [c.toolName, c.paramsAsJson, c.type])).toEqual([
      ["get_time", '{"zone":"UTC"}', "client"],
    ]);
    expect(results.map((r) => [r.toolName, r.resultValue, r.isError])).toEqual([
      ["get_time", "noon in UTC", false],
    ]);
  });

  it("interrupts a streaming answer when the user writes again: interruption, correction, then the new answer", async () => {
    llm.setReply((body) =>
      userMessages(body).length === 1 ? { text: COUNT, chunkDelayMs: 200 } : { text: ["Stopped."] },
    );
    const agentId = await createAgent({ prompt: { prompt: "You count." } });
    const parts: string[] = [];
    const interruptions: number[] = [];
    const corrections: Json[] = [];
    const messages: string[] = [];
    const conversation = await Conversation.startSession({
      agentId,
      origin: server.url,
      connectionType: "websocket",
      textOnly: true,
      onAgentChatResponsePart: (part) => void (part.type === "delta" && parts.push(part.text)),
      onInterruption: ({ event_id }) => void interruptions.push(event_id),
      onAgentResponseCorrection: (correction) => void corrections.push(correction as unknown as Json),
      onMessage: ({ role, message }) => void (role === "agent" && messages.push(message)),
    });
    open.push(conversation);
    conversation.sendUserMessage("count to ten");
    await until(() => parts.length >= 1, "the first streamed piece");
    conversation.sendUserMessage("stop");
    await until(() => messages.includes("Stopped."), "the answer to the second message");
    expect(interruptions).toHaveLength(1);
    expect(corrections).toHaveLength(1);
    const sent = corrections[0]?.corrected_agent_response as string;
    // What the client received: a beginning of the answer, not all of it.
    expect(COUNT.join("").startsWith(sent)).toBe(true);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(COUNT.join("").length);
    expect(messages).toEqual(["Stopped."]);

    const recorded = await readUntil(conversation.getId(), (c) => c.transcript.length >= 4);
    expect(recorded.transcript.map((t) => [t.role, t.message, t.interrupted ?? false])).toEqual([
      ["user", "count to ten", false],
      ["agent", sent, true],
      ["user", "stop", false],
      ["agent", "Stopped.", false],
    ]);
  });
});
