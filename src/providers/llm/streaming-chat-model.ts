/** A tool call the model made: its id, the tool's name and the arguments parsed from JSON. */
export interface ChatToolCall {
  /** The model's id for the call (a result refers to it); made up when the provider sent none. */
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** One message of a streamed chat: the instructions, the user, the assistant (with its tool calls), or a tool's result. */
export type StreamingChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  /** An assistant turn: its text ("" when it only called tools) and the tools it called. */
  | { role: "assistant"; content: string; toolCalls?: readonly ChatToolCall[] }
  /** The result of the assistant's tool call `toolCallId`. */
  | { role: "tool"; toolCallId: string; content: string };

/** A tool the model may call: a name, what it does, and the JSON schema of its arguments. */
export interface ChatToolDefinition {
  name: string;
  description: string;
  /** A JSON schema of type `object`. */
  parameters: Record<string, unknown>;
}

/** What is asked of the model for one streamed response. */
export interface StreamingChatRequest {
  messages: readonly StreamingChatMessage[];
  /** The tools the model may call (none when absent or empty). */
  tools?: readonly ChatToolDefinition[];
  /** The model to ask instead of the configured one. */
  model?: string;
  temperature?: number;
  maxTokens?: number;
}

/** Tokens the provider reported for one response. */
export interface ChatUsage {
  /** The model that answered, as the provider names it (the model asked when it names none). */
  model: string;
  promptTokens: number;
  completionTokens: number;
}

/**
 * One piece of a streamed response, in the order the model produced them: text to append, a
 * complete tool call (sent once its arguments are whole), and the usage (last, when reported).
 */
export type StreamingChatChunk =
  | { type: "text"; text: string }
  | { type: "tool_call"; toolCall: ChatToolCall }
  | { type: "usage"; usage: ChatUsage };

/** A chat model that streams its answer, with tool calls: what a live conversation's agent speaks with. */
export interface StreamingChatModel {
  /**
   * Streams one response to the messages. A failed call, an error answer, a malformed or
   * oversized stream throws a ProviderError (a ProviderTimeoutError when a time limit passed);
   * when `signal` aborts, the HTTP stream is closed and the iteration throws the signal's reason.
   */
  streamChat(request: StreamingChatRequest, signal: AbortSignal): AsyncIterable<StreamingChatChunk>;
}
