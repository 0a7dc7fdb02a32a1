import { ProviderError } from "../../provider-error.js";
import { errorMessageOf } from "../../read-error-answer.js";

/** One fragment of a streamed tool call, its shape checked. */
export interface ToolCallFragment {
  /** Which call of the response the fragment belongs to; absent when the provider sends none. */
  index: number | undefined;
  /** The call's id ("" when the fragment carries none, as later fragments usually do). */
  id: string;
  /** The tool's name; absent when the fragment carries none. */
  name: string | undefined;
  /** A piece of the arguments' JSON text, or (some providers) the arguments whole as a JSON value. */
  arguments: string | object | undefined;
}

/** The parts of one `chat.completion.chunk` the stream reads, their shapes checked. */
export interface ChatChunk {
  /** The model that answered, when the chunk names one. */
  model: string | undefined;
  /** The token counts, when the chunk reports both. */
  usage: { promptTokens: number; completionTokens: number } | undefined;
  /** The first choice's text delta ("" when none). */
  text: string;
  /** The first choice's tool-call fragments, in order. */
  toolCalls: ToolCallFragment[];
  /** Whether the first choice ended (it has a `finish_reason`). */
  finished: boolean;
}

type JsonObject = Record<string, unknown>;

/**
 * Parses one `data:` payload (not `[DONE]`) of a streamed chat completion. An error the provider
 * reports in the stream, and any payload of another shape than OpenAI's (a list that is not a
 * list, a name that is not a string…), is a ProviderError whose message names the field, never
 * the content. Absent and `null` fields are the same (providers send either). Only the first
 * choice is read; a usage that is not two counts is left out, as usage is only reported.
 */
export function parseChatChunk(data: string): ChatChunk {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch (error) {
    throw new ProviderError("The LLM sent a stream chunk that is not JSON.", false, { cause: error });
  }
  if (!isObject(chunk))
    throw new ProviderError("The LLM sent a stream chunk that is not a JSON object.", false);
  // Some providers send `"error": null` in every chunk: only a value is an error.
  if (chunk.error != null) {
    const message = errorMessageOf(JSON.stringify({ error: chunk.error }));
    throw new ProviderError(`The LLM provider reported an error in its stream: ${message}`, true);
  }
  const choice = firstChoice(chunk.choices);
  const delta = optional(choice?.delta, isObject, "a choice's `delta` is not an object");
  const text = optional(delta?.content, isString, "`delta.content` is not a string") ?? "";
  const fragments = optional(delta?.tool_calls, Array.isArray, "`delta.tool_calls` is not a list") ?? [];
  return {
    model: typeof chunk.model === "string" && chunk.model !== "" ? chunk.model : undefined,
    usage: readUsage(chunk.usage),
    text,
    toolCalls: fragments.map(readToolCallFragment),
    finished: choice?.finish_reason != null,
  };
}

/** The choice with index 0 (or without an index), if the chunk has one. */
function firstChoice(value: unknown): JsonObject | undefined {
  const choices = optional(value, Array.isArray, "`choices` is not a list") ?? [];
  for (const choice of choices) {
    if (!isObject(choice)) throw malformed("a choice is not an object");
    if (choice.index == null || choice.index === 0) return choice;
  }
  return undefined;
}

function readToolCallFragment(value: unknown): ToolCallFragment {
  if (!isObject(value)) throw malformed("a tool call is not an object");
  const fn = optional(value.function, isObject, "a tool call's `function` is not an object");
  const args = fn?.arguments;
  if (args != null && typeof args !== "string" && typeof args !== "object") {
    throw malformed("a tool call's `function.arguments` is neither JSON text nor a JSON value");
  }
  return {
    index: optional(value.index, isIndex, "a tool call's `index` is not a whole number from 0"),
    id: optional(value.id, isString, "a tool call's `id` is not a string") ?? "",
    name: optional(fn?.name, isString, "a tool call's `function.name` is not a string"),
    arguments: args ?? undefined,
  };
}

function readUsage(value: unknown): ChatChunk["usage"] {
  if (!isObject(value) || !isCount(value.prompt_tokens) || !isCount(value.completion_tokens))
    return undefined;
  return { promptTokens: value.prompt_tokens, completionTokens: value.completion_tokens };
}

/** `value` when it passes `check`, undefined when absent or null, else a ProviderError saying `problem`. */
function optional<T>(value: unknown, check: (value: unknown) => value is T, problem: string): T | undefined {
  if (value == null) return undefined;
  if (!check(value)) throw malformed(problem);
  return value;
}

function malformed(problem: string): ProviderError {
  return new ProviderError(`The LLM sent a stream chunk of an unexpected shape: ${problem}.`, false);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function isIndex(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
