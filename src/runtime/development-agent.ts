import { type Brain, type BrainContext, type BrainOutput, END_CALL_TOOL } from "./brain.js";

/** The words that make the development agent end the call (whole words, any case). */
export const DEVELOPMENT_AGENT_END_WORDS = ["goodbye", "bye"] as const;

/** The development agent's last words before it ends the call. */
export const DEVELOPMENT_AGENT_FAREWELL = "Goodbye!";

const END_WORD = new RegExp(`\\b(${DEVELOPMENT_AGENT_END_WORDS.join("|")})\\b`, "i");

/** The development agent's reply to a user message (other than one that ends the call). */
export function developmentAgentReply(userText: string): string {
  return `You said: ${userText}`;
}

/** Splits text into pieces of one word each (spaces kept), so a reply streams as several deltas. */
function splitIntoWords(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/**
 * The built-in agent for developing against the WebSocket without a model: deterministic. It
 * opens with the agent's first message; it answers each user message with "You said: " and the
 * message, streamed a word at a time; a message containing "goodbye" or "bye" is answered
 * "Goodbye!" and the call is ended with the `end_call` tool.
 */
export class DevelopmentAgent implements Brain {
  /** The agent's first message, its variables filled. */
  openingMessage(context: BrainContext): string {
    return context.firstMessage;
  }

  /** Echoes the user's latest message, or says goodbye and ends the call. */
  async *respond(context: BrainContext): AsyncIterable<BrainOutput> {
    const latest = [...context.transcript].reverse().find((turn) => turn.role === "user");
    const text = latest?.message ?? "";
    if (END_WORD.test(text)) {
      yield { type: "text", text: DEVELOPMENT_AGENT_FAREWELL };
      yield { type: "tool_call", toolCallId: "end_call_0", toolName: END_CALL_TOOL, parameters: {} };
      return;
    }
    for (const piece of splitIntoWords(developmentAgentReply(text))) yield { type: "text", text: piece };
  }
}
