/** What decides an agent's words: the development agent now, a model-backed one later. */

/** A turn of the conversation so far, as the brain sees it. */
export interface BrainTurn {
  role: "agent" | "user";
  message: string;
}

/** What a brain knows about the session it speaks in. */
export interface BrainContext {
  conversationId: string;
  agentId: string;
  /** The agent's first message with its dynamic variables filled ("" when it has none). */
  firstMessage: string;
  /** The agent's system prompt with its dynamic variables filled. */
  prompt: string;
  /** Every dynamic variable of the session, the `system__*` ones included. */
  dynamicVariables: Readonly<Record<string, string>>;
  /** The turns so far, the user's latest included. */
  transcript: readonly BrainTurn[];
  /** Contextual updates the client sent, oldest first: background, never answered on their own. */
  contextualUpdates: readonly string[];
}

/** One piece of a streamed reply: text to append, or a tool the agent calls. */
export type BrainOutput =
  | { type: "text"; text: string }
  | { type: "tool_call"; toolName: string; parameters: Record<string, unknown> };

/** The agent's mind: what it says first and how it answers a user turn, streamed. */
export interface Brain {
  /** What the agent says when the session starts; "" means it waits for the user. */
  openingMessage(context: BrainContext): string;
  /** The reply to the user's latest turn, as text pieces and tool calls in order. */
  respond(context: BrainContext, signal: AbortSignal): AsyncIterable<BrainOutput>;
}

/** The system tool that ends the call (upstream's name; the official clients hang up on it). */
export const END_CALL_TOOL = "end_call";
