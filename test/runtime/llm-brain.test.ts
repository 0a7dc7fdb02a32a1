import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LlmConfig } from "../../src/config/ai-config.js";
import { OpenAiCompatibleStreamingChatModel } from "../../src/providers/llm/openai-compatible/openai-compatible-streaming-chat-model.js";
import { ProviderError } from "../../src/providers/provider-error.js";
import { type AgentTool, type BrainContext, BrainError, type BrainOutput } from "../../src/runtime/brain.js";
import { LlmBrain } from "../../src/runtime/llm-brain.js";
import { BACKGROUND_CONTEXT_HEADING, END_CALL_DESCRIPTION } from "../../src/runtime/llm-request.js";
import { type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";

let llm: FakeLlmServer;

beforeEach(async () => {
  llm = await startFakeLlmServer();
});

afterEach(async () => {
  await llm.close();
});

function chatModel(overrides: Partial<LlmConfig> = {}): OpenAiCompatibleStreamingChatModel {
  return new OpenAiCompatibleStreamingChatModel({
    baseUrl: llm.url,
    model: "server-model",
    apiKey: undefined,
    timeoutMs: 5_000,
    firstTokenTimeoutMs: 5_000,
    modelMap: new Map(),
    ...overrides,
  });
}

const endCall: AgentTool = {
  kind: "system",
  name: "end_call",
  description: "",
  parameters: {},
  expectsResponse: false,
  responseTimeoutSecs: 0,
  config: {},
};

const lookupOrder: AgentTool = {
  kind: "webhook",
  name: "lookup_order",
  description: "Finds an order",
  parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
  expectsResponse: true,
  responseTimeoutSecs: 20,
  config: {},
};

function context(overrides: Partial<BrainContext> = {}): BrainContext {
  return {
    conversationId: "conv_1",
    agentId: "agent_1",
    firstMessage: "Hello, how can I help?",
    prompt: "You are a support agent.",
    tools: [endCall],
    dynamicVariables: {},
    transcript: [{ role: "user", message: "Hi" }],
    contextualUpdates: [],
    ...overrides,
  };
}

async function collect(
  brain: LlmBrain,
  ctx: BrainContext,
  signal = new AbortController().signal,
): Promise<BrainOutput[]> {
  const outputs: BrainOutput[] = [];
  for await (const output of brain.respond(ctx, signal)) outputs.push(output);
  return outputs;
}

async function brainError(promise: Promise<unknown>): Promise<BrainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof BrainError)) throw new Error(`expected a BrainError, got ${String(error)}`);
  return error;
}

describe("LlmBrain", () => {
  it("opens with the agent's first message", () => {
    expect(new LlmBrain(chatModel()).openingMessage(context())).toBe("Hello, how can I help?");
  });

  it("sends the prompt with the contextual updates as background, the transcript with its tool calls and results, and every tool", async () => {
    const brain = new LlmBrain(chatModel());
    await collect(
      brain,
      context({
        temperature: 0.2,
        maxTokens: 200,
        tools: [lookupOrder, endCall],
        contextualUpdates: ["The user is on the billing page.", "Cart total: 42 EUR."],
        transcript: [
          { role: "agent", message: "Hello, how can I help?" },
          { role: "user", message: "Where is order A-1?" },
          {
            role: "agent",
            message: "",
            toolCalls: [{ toolCallId: "call_7", toolName: "lookup_order", parameters: { order_id: "A-1" } }],
          },
          {
            role: "tool",
            toolCallId: "call_7",
            toolName: "lookup_order",
            result: '{"status":"shipped"}',
            isError: false,
          },
          { role: "agent", message: "It has shipped." },
          { role: "user", message: "And B-2?" },
          {
            role: "agent",
            message: "Checking.",
            toolCalls: [{ toolCallId: "call_8", toolName: "lookup_order", parameters: { order_id: "B-2" } }],
          },
          {
            role: "tool",
            toolCallId: "call_8",
            toolName: "lookup_order",
            result: "timed out",
            isError: true,
          },
        ],
      }),
    );
    expect(llm.requests).toHaveLength(1);
    const body = llm.requests[0] as Record<string, unknown>;
    expect(body.model).toBe("server-model");
    expect(body.temperature).toBe(0.2);
    expect(body.max_tokens).toBe(200);
    expect(body.stream).toBe(true);
    expect(body.messages).toEqual([
      {
        role: "system",
        content: `You are a support agent.\n\n${BACKGROUND_CONTEXT_HEADING}\n- The user is on the billing page.\n- Cart total: 42 EUR.`,
      },
      { role: "assistant", content: "Hello, how can I help?" },
      { role: "user", content: "Where is order A-1?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_7",
            type: "function",
            function: { name: "lookup_order", arguments: '{"order_id":"A-1"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_7", content: '{"status":"shipped"}' },
      { role: "assistant", content: "It has shipped." },
      { role: "user", content: "And B-2?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          {
            id: "call_8",
            type: "function",
            function: { name: "lookup_order", arguments: '{"order_id":"B-2"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_8", content: 'The tool "lookup_order" failed: timed out' },
    ]);
    expect(body.tools).toEqual([
      {
        type: "function",
        function: { name: "lookup_order", description: "Finds an order", parameters: lookupOrder.parameters },
      },
      {
        type: "function",
        function: {
          name: "end_call",
          description: END_CALL_DESCRIPTION,
          parameters: {
            type: "object",
            properties: { reason: { type: "string", description: "Why the call ends, in a few words." } },
          },
        },
      },
    ]);
  });

  it("keeps an end_call description and arguments the agent gives, and sends no system message or max_tokens when there are none", async () => {
    const described: AgentTool = {
      ...endCall,
      description: "Hang up when the user is done.",
      parameters: { type: "object", properties: { summary: { type: "string" } } },
    };
    await collect(new LlmBrain(chatModel()), context({ prompt: "", tools: [described], maxTokens: -1 }));
    const body = llm.requests[0] as Record<string, unknown>;
    expect(body.messages).toEqual([{ role: "user", content: "Hi" }]);
    expect(body).not.toHaveProperty("max_tokens");
    expect(body).not.toHaveProperty("temperature");
    expect(body.tools).toEqual([
      {
        type: "function",
        function: { name: "end_call", description: described.description, parameters: described.parameters },
      },
    ]);
  });

  it("sends a mapped prompt.llm as the mapped model and an unmapped one as the server's model", async () => {
    const brain = new LlmBrain(chatModel(), { modelMap: new Map([["gpt-4o-mini", "llama3.1:8b"]]) });
    await collect(brain, context({ llm: "gpt-4o-mini" }));
    await collect(brain, context({ llm: "gemini-2.0-flash" }));
    await collect(brain, context());
    expect(llm.requests.map((body) => body.model)).toEqual(["llama3.1:8b", "server-model", "server-model"]);
  });

  it("yields text, tool calls and usage in order", async () => {
    llm.setReply(() => ({
      text: ["Let me ", "look."],
      toolCalls: [{ id: "call_1", name: "lookup_order", arguments: { order_id: "A-1" } }],
      usage: { promptTokens: 40, completionTokens: 9 },
    }));
    const outputs = await collect(new LlmBrain(chatModel()), context({ tools: [lookupOrder, endCall] }));
    expect(outputs).toEqual([
      { type: "text", text: "Let me " },
      { type: "text", text: "look." },
      { type: "tool_call", toolCallId: "call_1", toolName: "lookup_order", parameters: { order_id: "A-1" } },
      { type: "usage", usage: { model: "server-model", inputTokens: 40, outputTokens: 9 } },
    ]);
  });

  it("turns a provider failure into an llm_error BrainError that names no provider detail", async () => {
    llm.setReply(() => ({ status: 500, errorMessage: "upstream exploded" }));
    const error = await brainError(collect(new LlmBrain(chatModel()), context()));
    expect(error.errorType).toBe("llm_error");
    expect(error.message).toBe("The language model could not answer.");
    expect(error.cause).toBeInstanceOf(ProviderError);
    expect((error.cause as Error).message).toContain("upstream exploded");
  });

  it("turns a malformed answer into an llm_error BrainError", async () => {
    llm.setReply(() => ({ toolCalls: [{ name: "lookup_order", arguments: "not json" }] }));
    const error = await brainError(collect(new LlmBrain(chatModel()), context()));
    expect(error.errorType).toBe("llm_error");
  });

  it("turns a timeout into an llm_timeout BrainError", async () => {
    llm.setReply(() => ({ text: ["late"], firstChunkDelayMs: 2_000 }));
    const error = await brainError(collect(new LlmBrain(chatModel({ firstTokenTimeoutMs: 100 })), context()));
    expect(error.errorType).toBe("llm_timeout");
    expect(error.message).toBe("The language model did not answer in time.");
  });

  it("ends the response quietly and closes the HTTP stream when the signal aborts", async () => {
    llm.setReply(() => ({ text: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 20 }));
    const controller = new AbortController();
    const outputs: BrainOutput[] = [];
    for await (const output of new LlmBrain(chatModel()).respond(context(), controller.signal)) {
      outputs.push(output);
      if (outputs.length === 3) controller.abort();
    }
    expect(outputs).toEqual([
      { type: "text", text: "w0 " },
      { type: "text", text: "w1 " },
      { type: "text", text: "w2 " },
    ]);
    await expect.poll(() => llm.disconnects()).toBe(1);
  });
});
