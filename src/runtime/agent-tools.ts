import type { AgentTool } from "./brain.js";

/**
 * The tools an agent may call, read from `conversation_config.agent.prompt.tools` (client,
 * webhook and system tools), with the `end_call` system tool always among them.
 */
export function readAgentTools(conversationConfig: Record<string, unknown>): AgentTool[] {
  void conversationConfig;
  throw new Error("readAgentTools: not implemented yet");
}
