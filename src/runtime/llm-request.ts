import type {
  ChatToolDefinition,
  StreamingChatMessage,
  StreamingChatRequest,
} from "../providers/llm/streaming-chat-model.js";
import { type AgentTool, type BrainContext, type BrainTurn, END_CALL_TOOL } from "./brain.js";

/** What the model is told `end_call` does when the agent's tool has no description. */
export const END_CALL_DESCRIPTION =
  "End the call. Call it when the conversation is over: the user said goodbye or asked to hang up, " +
  "or the task is done and nothing is left to say. Say your last words before calling it.";

/** The arguments the model may give `end_call` when the agent's tool declares none. */
const END_CALL_PARAMETERS = {
  type: "object",
  properties: { reason: { type: "string", description: "Why the call ends, in a few words." } },
};

/** The heading of the contextual updates in the system message. */
export const BACKGROUND_CONTEXT_HEADING =
  "Background context sent by the user's application during the call (oldest first). It is for " +
  "your information only: do not reply to it on its own, use it when you answer the user.";

/** Whether a schema declares no arguments at all (`{}`, or an object schema without properties). */
function declaresNoArguments(schema: Record<string, unknown>): boolean {
  const properties = schema.properties;
  return (
    Object.keys(schema).length === 0 ||
    properties === undefined ||
    (typeof properties === "object" && properties !== null && Object.keys(properties).length === 0)
  );
}

/** An agent tool as the model is told it; `end_call` gets a description and arguments when it lacks them. */
export function toToolDefinition(tool: AgentTool): ChatToolDefinition {
  const isEndCall = tool.kind === "system" && tool.name === END_CALL_TOOL;
  let parameters: Record<string, unknown> = tool.parameters;
  if (isEndCall && declaresNoArguments(parameters)) parameters = END_CALL_PARAMETERS;
  // Providers want an object schema even for a tool without arguments.
  else if (Object.keys(parameters).length === 0) parameters = { type: "object", properties: {} };
  const description =
    tool.description.trim() !== "" ? tool.description : isEndCall ? END_CALL_DESCRIPTION : "";
  return { name: tool.name, description, parameters };
}

/** The system message: the agent's prompt, then the contextual updates under a heading that says what they are. */
export function buildSystemMessage(prompt: string, contextualUpdates: readonly string[]): string {
  const parts = prompt.trim() === "" ? [] : [prompt];
  if (contextualUpdates.length > 0) {
    parts.push(
      `${BACKGROUND_CONTEXT_HEADING}\n${contextualUpdates.map((update) => `- ${update}`).join("\n")}`,
    );
  }
  return parts.join("\n\n");
}

/** One transcript turn as a chat message; an agent turn without text or tool calls is left out. */
function toChatMessage(turn: BrainTurn): StreamingChatMessage | undefined {
  switch (turn.role) {
    case "user":
      return { role: "user", content: turn.message };
    case "agent": {
      const toolCalls = (turn.toolCalls ?? []).map((call) => ({
        id: call.toolCallId,
        name: call.toolName,
        arguments: call.parameters,
      }));
      if (turn.message === "" && toolCalls.length === 0) return undefined;
      return toolCalls.length > 0
        ? { role: "assistant", content: turn.message, toolCalls }
        : { role: "assistant", content: turn.message };
    }
    case "tool":
      return {
        role: "tool",
        toolCallId: turn.toolCallId,
        content: turn.isError ? `The tool "${turn.toolName}" failed: ${turn.result}` : turn.result,
      };
  }
}

/**
 * The request for the agent's next response: the system message, the transcript as chat
 * messages, every tool of the agent, and the agent's model settings (`prompt.llm` through
 * `modelMap`, an unmapped one leaves the provider's configured model; `max_tokens` only when
 * positive).
 */
export function buildChatRequest(
  context: BrainContext,
  modelMap: ReadonlyMap<string, string>,
): StreamingChatRequest {
  const messages: StreamingChatMessage[] = [];
  const system = buildSystemMessage(context.prompt, context.contextualUpdates);
  if (system !== "") messages.push({ role: "system", content: system });
  for (const turn of context.transcript) {
    const message = toChatMessage(turn);
    if (message) messages.push(message);
  }
  const model = context.llm === undefined ? undefined : modelMap.get(context.llm);
  return {
    messages,
    tools: context.tools.map(toToolDefinition),
    ...(model !== undefined ? { model } : {}),
    ...(context.temperature !== undefined ? { temperature: context.temperature } : {}),
    // upstream's agents store -1 for "no limit".
    ...(context.maxTokens !== undefined && context.maxTokens > 0 ? { maxTokens: context.maxTokens } : {}),
  };
}
