import { describe, expect, it } from "vitest";
import { ChatChunkReader } from "../../src/providers/llm/openai-compatible/chat-chunk-reader.js";
import type { StreamingChatChunk } from "../../src/providers/llm/streaming-chat-model.js";
import { ProviderError } from "../../src/providers/provider-error.js";

/** A chunk whose first choice has `delta`. */
function deltaChunk(delta: unknown, finish: string | null = null): string {
  return JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] });
}

/** Reads the payloads in order, then finishes. */
function readAll(...payloads: string[]): StreamingChatChunk[] {
  const reader = new ChatChunkReader("asked-model");
  const out = payloads.flatMap((payload) => reader.read(payload));
  return [...out, ...reader.finish()];
}

function thrownBy(read: () => unknown): ProviderError {
  try {
    read();
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw new Error(`expected a ProviderError, got ${String(error)}`);
  }
  throw new Error("expected the read to fail");
}

const SECRET = "Hi there, my card is 4242";

describe("ChatChunkReader", () => {
  it("ignores `error: null` and reads the rest of the chunk", () => {
    expect(
      readAll(JSON.stringify({ error: null, choices: [{ index: 0, delta: { content: "ok" } }] })),
    ).toEqual([{ type: "text", text: "ok" }]);
  });

  it("reports an error the provider sends in the stream", () => {
    const error = thrownBy(() => readAll(JSON.stringify({ error: { message: "context length exceeded" } })));
    expect(error.message).toBe("The LLM provider reported an error in its stream: context length exceeded");
    expect(error.transient).toBe(true);
  });

  it.each([
    ["a payload that is not JSON", "{not json", "The LLM sent a stream chunk that is not JSON."],
    [
      "a payload that is a list",
      JSON.stringify([SECRET]),
      "The LLM sent a stream chunk that is not a JSON object.",
    ],
    ["`choices` that is not a list", JSON.stringify({ choices: { 0: SECRET } }), "`choices` is not a list"],
    ["a choice that is not an object", JSON.stringify({ choices: [SECRET] }), "a choice is not an object"],
    ["a `delta` that is not an object", deltaChunk(SECRET), "a choice's `delta` is not an object"],
    ["text that is not a string", deltaChunk({ content: [SECRET] }), "`delta.content` is not a string"],
    [
      "`tool_calls` that is an object",
      deltaChunk({ tool_calls: { s: SECRET } }),
      "`delta.tool_calls` is not a list",
    ],
    ["`tool_calls` that is a string", deltaChunk({ tool_calls: SECRET }), "`delta.tool_calls` is not a list"],
    [
      "a tool call that is not an object",
      deltaChunk({ tool_calls: [SECRET] }),
      "a tool call is not an object",
    ],
    [
      "a tool call whose `function` is not an object",
      deltaChunk({ tool_calls: [{ index: 0, function: SECRET }] }),
      "a tool call's `function` is not an object",
    ],
    [
      "a tool call whose index is negative",
      deltaChunk({ tool_calls: [{ index: -1, function: { name: "t" } }] }),
      "a tool call's `index` is not a whole number from 0",
    ],
    [
      "a tool call whose index is a string",
      deltaChunk({ tool_calls: [{ index: "0", function: { name: "t" } }] }),
      "a tool call's `index` is not a whole number from 0",
    ],
    [
      "a tool call whose id is not a string",
      deltaChunk({ tool_calls: [{ index: 0, id: 7, function: { name: "t" } }] }),
      "a tool call's `id` is not a string",
    ],
    [
      "a tool call whose name is not a string",
      deltaChunk({ tool_calls: [{ index: 0, function: { name: { s: SECRET } } }] }),
      "a tool call's `function.name` is not a string",
    ],
    [
      "a tool call whose arguments are a number",
      deltaChunk({ tool_calls: [{ index: 0, function: { name: "t", arguments: 42 } }] }),
      "a tool call's `function.arguments` is neither JSON text nor a JSON value",
    ],
  ])("refuses %s with a ProviderError naming the field, not the content", (_, payload, problem) => {
    const error = thrownBy(() => readAll(payload));
    expect(error.transient).toBe(false);
    expect(error.message).toBe(
      problem.startsWith("The LLM")
        ? problem
        : `The LLM sent a stream chunk of an unexpected shape: ${problem}.`,
    );
    expect(error.message).not.toContain("4242");
  });

  it("treats absent and null fields alike", () => {
    expect(
      readAll(
        JSON.stringify({ model: null, usage: null, choices: null }),
        JSON.stringify({ choices: [{ index: null, delta: null }] }),
        deltaChunk({ content: null, tool_calls: null }),
        deltaChunk({ tool_calls: [{ index: 0, id: null, function: { name: "t", arguments: null } }] }),
        deltaChunk({}, "tool_calls"),
      ),
    ).toMatchObject([{ type: "tool_call", toolCall: { name: "t", arguments: {} } }]);
  });

  it("starts a new call when a different id arrives at the same index, in the order the calls began", () => {
    const fragment = (id: string | undefined, args: string, name?: string) =>
      deltaChunk({ tool_calls: [{ index: 0, ...(id ? { id } : {}), function: { name, arguments: args } }] });
    expect(
      readAll(
        fragment("call_a", '{"n":', "first"),
        fragment(undefined, "1}"),
        fragment("call_a", ""),
        fragment("call_b", '{"n":2}', "second"),
        fragment("call_c", "{}", "first"),
        deltaChunk({}, "tool_calls"),
      ),
    ).toEqual([
      { type: "tool_call", toolCall: { id: "call_a", name: "first", arguments: { n: 1 } } },
      { type: "tool_call", toolCall: { id: "call_b", name: "second", arguments: { n: 2 } } },
      { type: "tool_call", toolCall: { id: "call_c", name: "first", arguments: {} } },
    ]);
  });

  it("starts a new call when a different tool name arrives at the same index without ids", () => {
    const whole = (name: string, args: string) =>
      deltaChunk({ tool_calls: [{ index: 0, function: { name, arguments: args } }] });
    expect(
      readAll(whole("weather", '{"city":"Oslo"}'), whole("end_call", "{}"), deltaChunk({}, "stop")),
    ).toMatchObject([
      { type: "tool_call", toolCall: { name: "weather", arguments: { city: "Oslo" } } },
      { type: "tool_call", toolCall: { name: "end_call", arguments: {} } },
    ]);
  });

  it("takes arguments sent as a JSON object", () => {
    expect(
      readAll(
        deltaChunk({ tool_calls: [{ index: 0, id: "c", function: { name: "t", arguments: { a: [1] } } }] }),
        deltaChunk({}, "tool_calls"),
      ),
    ).toEqual([{ type: "tool_call", toolCall: { id: "c", name: "t", arguments: { a: [1] } } }]);
  });

  it("refuses arguments that are not valid JSON, or JSON but not an object, without quoting them", () => {
    const call = (args: string) =>
      deltaChunk({ tool_calls: [{ index: 0, id: "c", function: { name: "lookup", arguments: args } }] });
    const cutOff = thrownBy(() => readAll(call(`{"card":"${SECRET}`), deltaChunk({}, "tool_calls")));
    expect(cutOff.message).toBe(
      'The LLM called the tool "lookup" with arguments that are not valid JSON (34 characters, malformed or cut off).',
    );
    expect(cutOff.transient).toBe(false);
    const list = thrownBy(() => readAll(call(`["${SECRET}"]`), deltaChunk({}, "tool_calls")));
    expect(list.message).toBe(
      'The LLM called the tool "lookup" with arguments that are JSON but not an object.',
    );
    expect(`${cutOff.message} ${list.message}`).not.toContain("4242");
  });

  it("refuses a tool call without a name", () => {
    const error = thrownBy(() =>
      readAll(
        deltaChunk({ tool_calls: [{ index: 0, function: { arguments: "{}" } }] }),
        deltaChunk({}, "stop"),
      ),
    );
    expect(error.message).toBe("The LLM sent a tool call without a tool name.");
  });

  it("yields the last usage reported, with the model that answered, and ignores a malformed one", () => {
    expect(
      readAll(
        JSON.stringify({ model: "answering-model", choices: [{ index: 0, delta: { content: "a" } }] }),
        JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 1 } }),
        JSON.stringify({ choices: [], usage: { prompt_tokens: "5", completion_tokens: 1 } }),
      ),
    ).toEqual([
      { type: "text", text: "a" },
      { type: "usage", usage: { model: "answering-model", promptTokens: 5, completionTokens: 1 } },
    ]);
  });
});
