import { randomBytes } from "node:crypto";
import type { AgentConfig } from "../agents/agent-service.js";
import type { AgentTool } from "./brain.js";
import type { InitiationClientData } from "./client-frames.js";
import { fillVariables, missingVariables, sessionVariables } from "./dynamic-variables.js";
import { presentOverrides } from "./overrides.js";

/** Timings of a session, in milliseconds. */
export interface SessionTimings {
  /** How often a ping is sent once the session has started. */
  pingIntervalMs: number;
  /** How long the client has to send its init frame. */
  initiationTimeoutMs: number;
  /**
   * The pause between the metadata and the first message. The official client reads the metadata
   * with a one-shot listener, so a frame arriving in the same read as the metadata would be lost.
   */
  greetingDelayMs: number;
}

/** The default timings: a ping every 5 s, 10 s for the init frame, the first message 100 ms after the metadata. */
export const DEFAULT_SESSION_TIMINGS: SessionTimings = {
  pingIntervalMs: 5_000,
  initiationTimeoutMs: 10_000,
  greetingDelayMs: 100,
};

const ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A new conversation id in upstream's shape (`conv_` and 28 lower-case letters and digits). */
export function newConversationId(): string {
  let id = "conv_";
  for (const byte of randomBytes(28)) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

/** A string at a path of a JSON object, or "". */
function stringAt(root: Record<string, unknown>, ...path: string[]): string {
  let node: unknown = root;
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
  return typeof node === "string" ? node : "";
}

/** What a session starts with: the agent's settings with the allowed overrides applied, its variables filled. */
export interface SessionSetup {
  firstMessage: string;
  prompt: string;
  /** The client's variables as strings, and the `system__*` ones. */
  variables: Record<string, string>;
  textOnly: boolean;
  /** The conversation's language (`agent.language`, default "en"). */
  language: string;
  /** `agent.prompt.llm`, `.temperature`, `.max_tokens` when set. */
  llm?: string;
  temperature?: number;
  maxTokens?: number;
  /** The tools the agent may call (`end_call` always among them). */
  tools: AgentTool[];
  /** `conversation.max_duration_seconds` (upstream's default 600). */
  maxDurationSecs: number;
  /** `turn.silence_end_call_timeout`: seconds without user activity that end the call; undefined when off (-1). */
  silenceEndCallTimeoutSecs: number | undefined;
  /** `turn.turn_timeout` (upstream's default 7). */
  turnTimeoutSecs: number;
}

/**
 * Reads what a session needs from the agent and the client's init frame; a refusal (a close
 * reason) for an override the server cannot honour or a variable the agent uses and nobody set.
 */
export function prepareSession(
  agent: AgentConfig,
  init: InitiationClientData,
  ids: { conversationId: string; startMs: number },
): { ok: true; setup: SessionSetup } | { ok: false; reason: string } {
  const overrides = presentOverrides(init.conversation_config_override);
  if (overrides.length > 0)
    return { ok: false, reason: `Overrides are not supported yet: remove ${overrides.join(", ")}` };
  const variables = sessionVariables(init.dynamic_variables ?? undefined, {
    conversationId: ids.conversationId,
    agentId: agent.agentId,
    startMs: ids.startMs,
  });
  const firstMessage = stringAt(agent.conversationConfig, "agent", "first_message");
  const prompt = stringAt(agent.conversationConfig, "agent", "prompt", "prompt");
  const missing = missingVariables([firstMessage, prompt], variables);
  if (missing.length > 0)
    return {
      ok: false,
      reason: `Missing dynamic variables: ${missing.join(", ")}; send them in dynamic_variables`,
    };
  const override = init.conversation_config_override?.conversation as Record<string, unknown> | undefined;
  const agentConversation = agent.conversationConfig.conversation as Record<string, unknown> | undefined;
  return {
    ok: true,
    setup: {
      firstMessage: fillVariables(firstMessage, variables),
      prompt: fillVariables(prompt, variables),
      variables,
      textOnly: override?.text_only === true || agentConversation?.text_only === true,
      language: "en",
      tools: [],
      maxDurationSecs: 600,
      silenceEndCallTimeoutSecs: undefined,
      turnTimeoutSecs: 7,
    },
  };
}
