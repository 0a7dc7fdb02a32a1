import type { ChatToolDefinition, StreamingChatMessage } from "../streaming-chat-model.js";

/** A message as `/chat/completions` takes it. */
type WireMessage =
  | { role: "system" | "user"; content: string }
  | {
      role: "assistant";
      content: string | null;
      tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
    }
  | { role: "tool"; tool_call_id: string; content: string };

/** Converts messages to the OpenAI chat-completions shape (tool call arguments as JSON text). */
export function toWireMessages(messages: readonly StreamingChatMessage[]): WireMessage[] {
  return messages.map((message): WireMessage => {
    if (message.role === "tool") {
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
    }
    if (message.role !== "assistant") return { role: message.role, content: message.content };
    if (!message.toolCalls || message.toolCalls.length === 0) {
      return { role: "assistant", content: message.content };
    }
    return {
      role: "assistant",
      // The API wants null, not "", for an assistant turn that only called tools.
      content: message.content === "" ? null : message.content,
      tool_calls: message.toolCalls.map((call) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: JSON.stringify(call.arguments) },
      })),
    };
  });
}

/** Converts tool definitions to the OpenAI `tools` shape. */
export function toWireTools(tools: readonly ChatToolDefinition[]): object[] {
  return tools.map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}
