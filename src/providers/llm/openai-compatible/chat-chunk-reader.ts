import { randomUUID } from "node:crypto";
import { ProviderError } from "../../provider-error.js";
import type { ChatToolCall, StreamingChatChunk } from "../streaming-chat-model.js";
import { parseChatChunk, type ToolCallFragment } from "./parse-chat-chunk.js";

/** A tool call whose fragments are still arriving. */
interface PartialToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** Most characters of a tool name quoted in an error message. */
const MAX_QUOTED_NAME = 64;

/**
 * Turns the `data:` payloads of a streamed chat completion into chunks: text deltas as they
 * come, tool calls once whole (their argument fragments joined by `index`, as providers stream
 * them), and the last usage reported. Only the first choice is read.
 */
export class ChatChunkReader {
  /** The calls of the response, in the order they began. */
  private readonly calls: PartialToolCall[] = [];
  /** The call each `index` is streaming now. */
  private readonly streaming = new Map<number, PartialToolCall>();
  private usage: { promptTokens: number; completionTokens: number } | undefined;
  private answeringModel: string;
  /** Whether a choice ended (`finish_reason`): a stream that stops after it is complete even without `[DONE]`. */
  finished = false;

  constructor(requestedModel: string) {
    this.answeringModel = requestedModel;
  }

  /** Reads one `data:` payload (not `[DONE]`) and returns the chunks it completes. */
  read(data: string): StreamingChatChunk[] {
    const chunk = parseChatChunk(data);
    if (chunk.model !== undefined) this.answeringModel = chunk.model;
    if (chunk.usage !== undefined) this.usage = chunk.usage;
    const out: StreamingChatChunk[] = [];
    if (chunk.text !== "") out.push({ type: "text", text: chunk.text });
    for (const [position, fragment] of chunk.toolCalls.entries()) this.addFragment(fragment, position);
    if (chunk.finished) {
      this.finished = true;
      out.push(...this.takeToolCalls());
    }
    return out;
  }

  /** The chunks left when the stream ends: tool calls not yet sent, then the usage when reported. */
  finish(): StreamingChatChunk[] {
    const out = this.takeToolCalls();
    if (this.usage) out.push({ type: "usage", usage: { model: this.answeringModel, ...this.usage } });
    return out;
  }

  private addFragment(fragment: ToolCallFragment, position: number): void {
    const index = fragment.index ?? this.guessIndex(fragment.id, position);
    let call = this.streaming.get(index);
    if (!call || startsAnotherCall(call, fragment)) {
      call = { id: "", name: "", arguments: "" };
      this.streaming.set(index, call);
      this.calls.push(call);
    }
    if (call.id === "" && fragment.id !== "") call.id = fragment.id;
    // The name comes whole in the first fragment; some providers repeat it in later ones.
    if (call.name === "" && fragment.name !== undefined) call.name = fragment.name;
    if (typeof fragment.arguments === "string") call.arguments += fragment.arguments;
    else if (fragment.arguments !== undefined) call.arguments = JSON.stringify(fragment.arguments);
  }

  /** Where a fragment without `index` belongs: the call with its id, a new call, or the one being streamed. */
  private guessIndex(id: string, position: number): number {
    for (const [index, call] of this.streaming) if (id !== "" && call.id === id) return index;
    if (this.streaming.size === 0) return position;
    const last = Math.max(...this.streaming.keys());
    return id === "" ? last : last + 1;
  }

  private takeToolCalls(): StreamingChatChunk[] {
    const out: StreamingChatChunk[] = this.calls.map((call) => ({
      type: "tool_call",
      toolCall: completeToolCall(call),
    }));
    this.calls.length = 0;
    this.streaming.clear();
    return out;
  }
}

/**
 * Whether a fragment at the index of `call` begins another call: some providers send every
 * call with `index: 0`, so a different id (or, when either has no id, a different tool name)
 * means the call at that index is complete and a new one starts.
 */
function startsAnotherCall(call: PartialToolCall, fragment: ToolCallFragment): boolean {
  if (call.id !== "" && fragment.id !== "") return call.id !== fragment.id;
  return (
    call.name !== "" && fragment.name !== undefined && fragment.name !== "" && fragment.name !== call.name
  );
}

/**
 * The call with its arguments parsed. Arguments that are not a JSON object are a ProviderError,
 * which ends the turn (and the session, as any model failure does): the StreamingChatModel and
 * BrainOutput interfaces carry only parsed arguments, so there is no way to hand the call on
 * flagged and answer the model with an error result instead; and running the tool with guessed
 * or empty arguments could act on input the model never gave. The message names the tool and
 * the length of what was sent (a cut-off answer shows as a short length), never the arguments.
 */
function completeToolCall(call: PartialToolCall): ChatToolCall {
  if (call.name === "") throw new ProviderError("The LLM sent a tool call without a tool name.", false);
  const tool = JSON.stringify(call.name.slice(0, MAX_QUOTED_NAME));
  let parsed: unknown;
  try {
    parsed = call.arguments.trim() === "" ? {} : JSON.parse(call.arguments);
  } catch (error) {
    throw new ProviderError(
      `The LLM called the tool ${tool} with arguments that are not valid JSON (${call.arguments.length} characters, malformed or cut off).`,
      false,
      { cause: error },
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ProviderError(
      `The LLM called the tool ${tool} with arguments that are JSON but not an object.`,
      false,
    );
  }
  return {
    id: call.id === "" ? `call_${randomUUID().replaceAll("-", "")}` : call.id,
    name: call.name,
    arguments: parsed as Record<string, unknown>,
  };
}
