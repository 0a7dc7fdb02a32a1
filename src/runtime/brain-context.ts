import type { BrainContext, BrainTurn } from "./brain.js";
import { withoutSecretVariables } from "./dynamic-variables.js";
import type { SessionSetup } from "./session-setup.js";

/**
 * What the brain is told of a session: its setup (none before it started), its turns and context.
 * Its dynamic variables leave out the `secret__*` ones, which are for tool headers only.
 */
export function brainContext(
  ids: { conversationId: string; agentId: string },
  setup: SessionSetup | undefined,
  transcript: readonly BrainTurn[],
  contextualUpdates: readonly string[],
): BrainContext {
  return {
    ...ids,
    firstMessage: setup?.firstMessage ?? "",
    prompt: setup?.prompt ?? "",
    ...(setup?.llm !== undefined ? { llm: setup.llm } : {}),
    ...(setup?.temperature !== undefined ? { temperature: setup.temperature } : {}),
    ...(setup?.maxTokens !== undefined ? { maxTokens: setup.maxTokens } : {}),
    tools: setup?.tools ?? [],
    dynamicVariables: withoutSecretVariables(setup?.variables ?? {}),
    transcript,
    contextualUpdates,
  };
}
