/** What decides an agent's words: the development agent, or a model-backed one (`llm-brain.ts`). */

/** A tool call the agent made, as the brain and the transcript see it. */
export interface BrainToolCall {
  /** The call's id (the model's, or one the server made up): a result refers to it. */
  toolCallId: string;
  toolName: string;
  parameters: Record<string, unknown>;
}

/** A turn of the conversation so far, as the brain sees it. */
export type BrainTurn =
  | { role: "user"; message: string }
  /** An agent turn: its text ("" when it only called tools) and the tools it called. */
  | { role: "agent"; message: string; toolCalls?: readonly BrainToolCall[] }
  /** The result of one of the agent's tool calls, fed back to the model. */
  | { role: "tool"; toolCallId: string; toolName: string; result: string; isError: boolean };

/** How a tool is run: by the client (`client_tool_call`), by the server over HTTP, or by the server itself. */
export type AgentToolKind = "client" | "webhook" | "system";

/** A tool of the agent's `conversation_config.agent.prompt.tools`, as the runtime reads it. */
export interface AgentTool {
  kind: AgentToolKind;
  name: string;
  description: string;
  /** The JSON schema of the call's arguments, as the model is told (an empty object schema when none). */
  parameters: Record<string, unknown>;
  /** Client tools: whether the model waits for the client's result before it goes on. */
  expectsResponse: boolean;
  /** How long a result is waited for (client and webhook tools), in seconds. */
  responseTimeoutSecs: number;
  /** The tool's definition as the agent stores it (a webhook tool's `api_schema` is read from here). */
  config: Record<string, unknown>;
}

/** What a brain knows about the session it speaks in. */
export interface BrainContext {
  conversationId: string;
  agentId: string;
  /** The agent's first message with its dynamic variables filled ("" when it has none). */
  firstMessage: string;
  /** The agent's system prompt with its dynamic variables filled. */
  prompt: string;
  /** The agent's `prompt.llm`, `prompt.temperature` and `prompt.max_tokens` when set. */
  llm?: string;
  temperature?: number;
  maxTokens?: number;
  /** The tools the agent may call (the `end_call` system tool is always among them). */
  tools: readonly AgentTool[];
  /** Every dynamic variable of the session, the `system__*` ones included. */
  dynamicVariables: Readonly<Record<string, string>>;
  /** The turns so far, the user's latest included, tool results after the calls they answer. */
  transcript: readonly BrainTurn[];
  /** Contextual updates the client sent, oldest first: background, never answered on their own. */
  contextualUpdates: readonly string[];
}

/** Tokens a model reported for one response. */
export interface BrainUsage {
  model: string;
  inputTokens: number;
  outputTokens: number;
}

/** One piece of a streamed reply: text to append, a tool the agent calls, or the tokens it used. */
export type BrainOutput =
  | { type: "text"; text: string }
  | { type: "tool_call"; toolCallId: string; toolName: string; parameters: Record<string, unknown> }
  | { type: "usage"; usage: BrainUsage };

/**
 * The agent's mind: what it says first and how it answers, streamed. After a response that
 * called tools (other than `end_call`), the session runs them, appends their results to the
 * transcript and calls `respond` again, so the model continues with what the tools returned.
 */
export interface Brain {
  /** What the agent says when the session starts; "" means it waits for the user. */
  openingMessage(context: BrainContext): string;
  /**
   * The next response: text pieces, tool calls and usage, in order. A failure of the model
   * (unreachable, an error answer, a timeout) throws a `BrainError`; `signal` aborts the response.
   */
  respond(context: BrainContext, signal: AbortSignal): AsyncIterable<BrainOutput>;
}

/** A model failure a session reports to the client (`error` event, then close 1002). */
export class BrainError extends Error {
  constructor(
    message: string,
    /** upstream's error type: `llm_error` or `llm_timeout`. */
    readonly errorType: "llm_error" | "llm_timeout" = "llm_error",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "BrainError";
  }
}

/** The system tool that ends the call (upstream's name; the official clients hang up on it). */
export const END_CALL_TOOL = "end_call";
