import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OpenAiCompatibleChatModel } from "../../src/providers/llm/openai-compatible/openai-compatible-chat-model.js";
import { ProviderError } from "../../src/providers/provider-error.js";
import { type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";

let llm: FakeLlmServer;

beforeEach(async () => {
  llm = await startFakeLlmServer();
});

afterEach(async () => {
  await llm.close();
});

async function post(body: object): Promise<Response> {
  return fetch(`${llm.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("the fake LLM server's non-streamed answers", () => {
  it("answers the analysis chat model's JSON request with the scripted text", async () => {
    llm.setReply(() => ({ text: ['{"verdict":', '"success"}'] }));
    const model = new OpenAiCompatibleChatModel({
      baseUrl: llm.url,
      model: "analysis-model",
      apiKey: undefined,
      timeoutMs: 5_000,
      firstTokenTimeoutMs: 5_000,
      modelMap: new Map(),
    });
    const answer = await model.completeJson([{ role: "user", content: "Judge it" }], {
      name: "a",
      schema: {},
    });
    expect(answer).toEqual({ verdict: "success" });
    expect(llm.requests[0]).toMatchObject({
      model: "analysis-model",
      messages: [{ role: "user", content: "Judge it" }],
    });
    expect(llm.requests[0]).not.toHaveProperty("stream");
  });

  it("answers tool calls whole, with usage, as a chat.completion", async () => {
    llm.setReply(() => ({
      toolCalls: [{ id: "c1", name: "end_call", arguments: { reason: "done" } }],
      usage: { promptTokens: 5, completionTokens: 2 },
    }));
    const response = await post({ model: "m", messages: [] });
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toMatchObject({
      object: "chat.completion",
      model: "m",
      choices: [
        {
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "c1", type: "function", function: { name: "end_call", arguments: '{"reason":"done"}' } },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
  });

  it("answers a scripted error status with an OpenAI error body, streamed or not", async () => {
    llm.setReply(() => ({ status: 429, errorMessage: "slow down" }));
    for (const stream of [false, true]) {
      const response = await post({ model: "m", messages: [], stream });
      expect(response.status).toBe(429);
      expect(await response.json()).toEqual({ error: { message: "slow down", type: "fake_error" } });
    }
    const model = new OpenAiCompatibleChatModel({
      baseUrl: llm.url,
      model: "m",
      apiKey: undefined,
      timeoutMs: 5_000,
      firstTokenTimeoutMs: 5_000,
      modelMap: new Map(),
    });
    await expect(model.completeJson([], { name: "a", schema: {} })).rejects.toBeInstanceOf(ProviderError);
  });

  it("streams usage only when the request asks for it", async () => {
    llm.setReply(() => ({ text: ["hi"], usage: { promptTokens: 1, completionTokens: 1 } }));
    const without = await (await post({ model: "m", messages: [], stream: true })).text();
    const withUsage = await (
      await post({ model: "m", messages: [], stream: true, stream_options: { include_usage: true } })
    ).text();
    expect(without).not.toContain('"usage"');
    expect(withUsage).toContain('"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}');
    expect(withUsage.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });
});
