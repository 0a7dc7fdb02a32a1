import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LlmConfig } from "../../src/config/ai-config.js";
import { OpenAiCompatibleStreamingChatModel } from "../../src/providers/llm/openai-compatible/openai-compatible-streaming-chat-model.js";
import type {
  StreamingChatChunk,
  StreamingChatRequest,
} from "../../src/providers/llm/streaming-chat-model.js";
import { ProviderError, ProviderTimeoutError } from "../../src/providers/provider-error.js";
import { type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";

let llm: FakeLlmServer;

beforeEach(async () => {
  llm = await startFakeLlmServer();
});

afterEach(async () => {
  await llm.close();
});

function config(overrides: Partial<LlmConfig> = {}): LlmConfig {
  return {
    baseUrl: llm.url,
    model: "server-model",
    apiKey: "sk-secret-key",
    timeoutMs: 5_000,
    firstTokenTimeoutMs: 5_000,
    modelMap: new Map(),
    ...overrides,
  };
}

const hello: StreamingChatRequest = { messages: [{ role: "user", content: "Hi there" }] };

async function collect(
  model: OpenAiCompatibleStreamingChatModel,
  request: StreamingChatRequest = hello,
  signal = new AbortController().signal,
): Promise<StreamingChatChunk[]> {
  const chunks: StreamingChatChunk[] = [];
  for await (const chunk of model.streamChat(request, signal)) chunks.push(chunk);
  return chunks;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error("expected the call to fail");
  return error;
}

describe("OpenAiCompatibleStreamingChatModel", () => {
  it("streams text deltas in order and sends the request as the API takes it", async () => {
    llm.setReply(() => ({ text: ["Hel", "lo", " world"] }));
    const chunks = await collect(new OpenAiCompatibleStreamingChatModel(config()), {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi there" },
      ],
      temperature: 0.3,
      maxTokens: 50,
    });
    expect(chunks).toEqual([
      { type: "text", text: "Hel" },
      { type: "text", text: "lo" },
      { type: "text", text: " world" },
    ]);
    expect(llm.requests).toEqual([
      {
        model: "server-model",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi there" },
        ],
        temperature: 0.3,
        max_tokens: 50,
        stream: true,
        stream_options: { include_usage: true },
      },
    ]);
    expect(llm.authorizations).toEqual(["Bearer sk-secret-key"]);
  });

  it("sends tools, tool calls and tool results, and a model override", async () => {
    await collect(new OpenAiCompatibleStreamingChatModel(config()), {
      model: "other-model",
      messages: [
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "c1", name: "weather", arguments: { city: "Oslo" } }],
        },
        { role: "tool", toolCallId: "c1", content: "sunny" },
      ],
      tools: [{ name: "weather", description: "Looks up the weather", parameters: { type: "object" } }],
    });
    const body = llm.requests[0] as Record<string, unknown>;
    expect(body.model).toBe("other-model");
    expect(body.messages).toEqual([
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "c1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "sunny" },
    ]);
    expect(body.tools).toEqual([
      {
        type: "function",
        function: { name: "weather", description: "Looks up the weather", parameters: { type: "object" } },
      },
    ]);
  });

  it("joins tool-call argument fragments by index and yields whole calls after the text", async () => {
    llm.setReply(() => ({
      text: ["Let me check."],
      toolCalls: [
        {
          id: "call_a",
          name: "lookup_order",
          arguments: { order_id: "A-1234", include: ["items", "status"] },
        },
        { id: "call_b", name: "end_call", arguments: {} },
      ],
      argumentFragmentSize: 3,
    }));
    const chunks = await collect(new OpenAiCompatibleStreamingChatModel(config()));
    expect(chunks).toEqual([
      { type: "text", text: "Let me check." },
      {
        type: "tool_call",
        toolCall: {
          id: "call_a",
          name: "lookup_order",
          arguments: { order_id: "A-1234", include: ["items", "status"] },
        },
      },
      { type: "tool_call", toolCall: { id: "call_b", name: "end_call", arguments: {} } },
    ]);
  });

  it("reads a tool call sent whole without an index, and makes up an id when none is sent", async () => {
    const chunk = (delta: object, finish: string | null = null) =>
      JSON.stringify({ model: "m", choices: [{ index: 0, delta, finish_reason: finish }] });
    llm.setReply(() => ({
      rawData: [
        chunk({ tool_calls: [{ function: { name: "weather", arguments: '{"city":"Oslo"}' } }] }),
        chunk({}, "tool_calls"),
        "[DONE]",
      ],
    }));
    const [only, ...rest] = await collect(new OpenAiCompatibleStreamingChatModel(config()));
    expect(rest).toEqual([]);
    expect(only).toMatchObject({
      type: "tool_call",
      toolCall: { name: "weather", arguments: { city: "Oslo" } },
    });
    expect((only as { toolCall: { id: string } }).toolCall.id).toMatch(/^call_\w+$/);
  });

  it("refuses tool-call arguments that are not valid JSON with a message naming the tool, not the arguments", async () => {
    llm.setReply(() => ({ toolCalls: [{ name: "weather", arguments: '{"city": "Os' }] }));
    const error = await failure(collect(new OpenAiCompatibleStreamingChatModel(config())));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).transient).toBe(false);
    expect(error.message).toBe(
      'The LLM called the tool "weather" with arguments that are not valid JSON (12 characters, malformed or cut off).',
    );
    expect(error.message).not.toContain("Os");
  });

  it("keeps apart calls that a provider streams under the same index with different ids", async () => {
    const chunk = (delta: object, finish: string | null = null) =>
      JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] });
    const fragment = (id: string | undefined, name: string | undefined, args: string) => ({
      tool_calls: [
        { index: 0, ...(id ? { id } : {}), function: { ...(name ? { name } : {}), arguments: args } },
      ],
    });
    llm.setReply(() => ({
      rawData: [
        chunk(fragment("call_1", "weather", "")),
        chunk(fragment(undefined, undefined, '{"city":')),
        chunk(fragment(undefined, undefined, '"Oslo"}')),
        chunk(fragment("call_2", "weather", '{"city":"Bergen"}')),
        chunk({}, "tool_calls"),
        "[DONE]",
      ],
    }));
    expect(await collect(new OpenAiCompatibleStreamingChatModel(config()))).toEqual([
      { type: "tool_call", toolCall: { id: "call_1", name: "weather", arguments: { city: "Oslo" } } },
      { type: "tool_call", toolCall: { id: "call_2", name: "weather", arguments: { city: "Bergen" } } },
    ]);
  });

  it("reads chunks that carry `error: null`", async () => {
    llm.setReply(() => ({
      rawData: [
        JSON.stringify({ error: null, choices: [{ index: 0, delta: { content: "fine" } }] }),
        JSON.stringify({ error: null, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
        "[DONE]",
      ],
    }));
    expect(await collect(new OpenAiCompatibleStreamingChatModel(config()))).toEqual([
      { type: "text", text: "fine" },
    ]);
  });

  it("turns a chunk of an unexpected shape into a ProviderError and closes the stream", async () => {
    llm.setReply(() => ({
      rawData: [
        JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: { secret: "Hi there" } } }] }),
        JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
      ],
      // The second chunk is held back, so the stream is still open when the client closes it.
      chunkDelayMs: 60_000,
    }));
    const error = await failure(collect(new OpenAiCompatibleStreamingChatModel(config())));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toBe(
      "The LLM sent a stream chunk of an unexpected shape: `delta.tool_calls` is not a list.",
    );
    expect(error.message).not.toContain("Hi there");
    await expect.poll(() => llm.disconnects(), { timeout: 5_000 }).toBe(1);
  });

  it("asks for usage and yields it last, with the model that answered", async () => {
    llm.setReply(() => ({
      text: ["Hi"],
      usage: { promptTokens: 12, completionTokens: 3 },
      model: "answering-model",
    }));
    const chunks = await collect(new OpenAiCompatibleStreamingChatModel(config()));
    expect(chunks).toEqual([
      { type: "text", text: "Hi" },
      { type: "usage", usage: { model: "answering-model", promptTokens: 12, completionTokens: 3 } },
    ]);
  });

  it("asks again without stream_options when the provider refuses them, and then stops asking", async () => {
    llm.setReply((body) =>
      body.stream_options
        ? { status: 400, errorMessage: "Unrecognized request argument supplied: stream_options" }
        : { text: ["ok"] },
    );
    const model = new OpenAiCompatibleStreamingChatModel(config());
    expect(await collect(model)).toEqual([{ type: "text", text: "ok" }]);
    expect(await collect(model)).toEqual([{ type: "text", text: "ok" }]);
    expect(llm.requests.map((body) => "stream_options" in body)).toEqual([true, false, false]);
  });

  it("turns an HTTP error into a ProviderError with the provider's message, never the key or prompt", async () => {
    llm.setReply(() => ({ status: 503, errorMessage: "model is overloaded" }));
    const error = await failure(collect(new OpenAiCompatibleStreamingChatModel(config())));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).not.toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toBe("The LLM provider answered HTTP 503: model is overloaded");
    expect((error as ProviderError).transient).toBe(true);
    expect(error.message).not.toContain("sk-secret-key");
    expect(error.message).not.toContain("Hi there");
  });

  it("marks a 400 answer as not transient", async () => {
    llm.setReply(() => ({ status: 400, errorMessage: "bad tools" }));
    const error = await failure(collect(new OpenAiCompatibleStreamingChatModel(config())));
    expect(error.message).toBe("The LLM provider answered HTTP 400: bad tools");
    expect((error as ProviderError).transient).toBe(false);
  });

  it("reports an unreachable provider", async () => {
    const url = llm.url;
    await llm.close();
    llm = await startFakeLlmServer();
    const error = await failure(
      collect(new OpenAiCompatibleStreamingChatModel(config({ baseUrl: url.replace(/:\d+/, ":1") }))),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toMatch(/^The LLM provider could not be reached \(/);
  });

  // The fake's delays end early when the client closes the request, so a long delay costs nothing.
  it("times out when the first chunk is late, and closes the request", async () => {
    llm.setReply(() => ({ text: ["late"], firstChunkDelayMs: 60_000 }));
    const model = new OpenAiCompatibleStreamingChatModel(config({ firstTokenTimeoutMs: 100 }));
    const error = await failure(collect(model));
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toBe("The LLM sent nothing within 100 ms.");
    await expect.poll(() => llm.disconnects(), { timeout: 5_000 }).toBe(1);
  });

  it("times out when the whole answer takes too long, after yielding what came, and closes the stream", async () => {
    llm.setReply(() => ({
      rawData: [
        JSON.stringify({ choices: [{ index: 0, delta: { content: "first" } }] }),
        JSON.stringify({ choices: [{ index: 0, delta: { content: "never" }, finish_reason: "stop" }] }),
      ],
      chunkDelayMs: 60_000,
    }));
    const model = new OpenAiCompatibleStreamingChatModel(
      config({ timeoutMs: 300, firstTokenTimeoutMs: 60_000 }),
    );
    const chunks: StreamingChatChunk[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of model.streamChat(hello, new AbortController().signal)) chunks.push(chunk);
      })(),
    );
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toBe("The LLM's answer took longer than 300 ms.");
    expect(chunks).toEqual([{ type: "text", text: "first" }]);
    await expect.poll(() => llm.disconnects(), { timeout: 5_000 }).toBe(1);
  });

  it("stops reading a stream larger than the cap", async () => {
    llm.setReply(() => ({ text: Array.from({ length: 20 }, () => "x".repeat(200)) }));
    const model = new OpenAiCompatibleStreamingChatModel(config(), { maxStreamBytes: 1_000 });
    const error = await failure(collect(model));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toBe("The LLM's stream went over 1000 bytes.");
  });

  it("counts the cap in bytes, not characters", async () => {
    const payloads = [
      JSON.stringify({ choices: [{ index: 0, delta: { content: "€".repeat(300) } }] }),
      JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
      "[DONE]",
    ];
    const sent = payloads.map((payload) => `data: ${payload}\n\n`).join("");
    // Each "€" is 3 bytes: the cap lies between the stream's length in characters and in bytes.
    const cap = sent.length + 300;
    expect(Buffer.byteLength(sent)).toBeGreaterThan(cap);
    llm.setReply(() => ({ rawData: payloads }));
    const error = await failure(
      collect(new OpenAiCompatibleStreamingChatModel(config(), { maxStreamBytes: cap })),
    );
    expect(error.message).toBe(`The LLM's stream went over ${cap} bytes.`);
  });

  it("refuses a stream that ends before the answer does, and an error sent in the stream", async () => {
    llm.setReply(() => ({
      rawData: [JSON.stringify({ choices: [{ index: 0, delta: { content: "half" } }] })],
    }));
    const model = new OpenAiCompatibleStreamingChatModel(config());
    expect((await failure(collect(model))).message).toBe("The LLM's stream ended before the answer did.");
    llm.setReply(() => ({ rawData: [JSON.stringify({ error: { message: "context length exceeded" } })] }));
    expect((await failure(collect(model))).message).toBe(
      "The LLM provider reported an error in its stream: context length exceeded",
    );
  });

  it("accepts a stream that ends after a finish reason without [DONE]", async () => {
    llm.setReply(() => ({
      rawData: [
        JSON.stringify({ choices: [{ index: 0, delta: { content: "done" }, finish_reason: "stop" }] }),
      ],
    }));
    expect(await collect(new OpenAiCompatibleStreamingChatModel(config()))).toEqual([
      { type: "text", text: "done" },
    ]);
  });

  it("closes the HTTP stream when the caller aborts, throwing the abort reason", async () => {
    llm.setReply(() => ({ text: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 50 }));
    const model = new OpenAiCompatibleStreamingChatModel(config());
    const controller = new AbortController();
    const chunks: StreamingChatChunk[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of model.streamChat(hello, controller.signal)) {
          chunks.push(chunk);
          if (chunks.length === 2) controller.abort();
        }
      })(),
    );
    expect(error.name).toBe("AbortError");
    expect(chunks).toHaveLength(2);
    await expect.poll(() => llm.disconnects(), { timeout: 5_000 }).toBe(1);
  });

  it("closes the HTTP stream when the consumer stops iterating", async () => {
    llm.setReply(() => ({ text: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 50 }));
    const model = new OpenAiCompatibleStreamingChatModel(config());
    for await (const chunk of model.streamChat(hello, new AbortController().signal)) {
      expect(chunk).toEqual({ type: "text", text: "w0 " });
      break;
    }
    await expect.poll(() => llm.disconnects(), { timeout: 5_000 }).toBe(1);
  });
});
