import { randomBytes } from "node:crypto";
import type { AgentConfig } from "../agents/agent-service.js";
import { readAgentTools } from "./agent-tools.js";
import type { AgentTool } from "./brain.js";
import type { InitiationClientData } from "./client-frames.js";
import {
  fillVariables,
  isSecretVariable,
  missingVariables,
  PHONE_ONLY_SYSTEM_VARIABLES,
  SYSTEM_VARIABLE_PREFIX,
  sessionVariables,
  withoutSecretVariables,
} from "./dynamic-variables.js";
import { applyOverrides, checkOverrides } from "./overrides.js";
import { readVoiceSettings, type VoiceSettings } from "./voice/voice-setup.js";

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

type Json = Record<string, unknown>;

/** The value at a path of nested objects (own keys only), or undefined. */
function valueAt(root: Json, ...path: string[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

/** A string at a path, or "". */
function stringAt(root: Json, ...path: string[]): string {
  const value = valueAt(root, ...path);
  return typeof value === "string" ? value : "";
}

/** A finite number at a path, or undefined. */
function numberAt(root: Json, ...path: string[]): number | undefined {
  const value = valueAt(root, ...path);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A positive number at a path, or the default (absent, null, zero or negative: the default). */
function positiveNumberAt(root: Json, fallback: number, ...path: string[]): number {
  const value = numberAt(root, ...path);
  return value !== undefined && value > 0 ? value : fallback;
}

/** Upstream's `conversation.max_duration_seconds` when an agent sets none. */
export const DEFAULT_MAX_DURATION_SECS = 600;

/** Upstream's `turn.turn_timeout` when an agent sets none. */
export const DEFAULT_TURN_TIMEOUT_SECS = 7;

/** Upstream's `agent.language` when an agent sets none. */
export const DEFAULT_LANGUAGE = "en";

/** What a session starts with: the agent's settings with the allowed overrides applied, its variables filled. */
export interface SessionSetup {
  /** `agent.first_message` with its variables filled ("" when the agent waits for the user). */
  firstMessage: string;
  /** `agent.prompt.prompt` with its variables filled. */
  prompt: string;
  /**
   * Every variable of the session: the client's (as strings) over the agent's placeholder
   * defaults, and the `system__*` ones. `secret__*` values are here for tool headers only: never
   * show them to the model or record them (`withoutSecretVariables`).
   */
  variables: Record<string, string>;
  textOnly: boolean;
  /** The conversation's language (`agent.language`, default "en"). */
  language: string;
  /** `agent.prompt.llm` when set. */
  llm?: string;
  /** `agent.prompt.temperature` when set (upstream sends 0 when an agent sets none). */
  temperature?: number;
  /** `agent.prompt.max_tokens` when greater than 0 (upstream's -1 means no limit). */
  maxTokens?: number;
  /** The tools the agent may call (`end_call` always among them). */
  tools: AgentTool[];
  /** `conversation.max_duration_seconds` (upstream's default 600). */
  maxDurationSecs: number;
  /** `turn.silence_end_call_timeout`: seconds without user activity that end the call; undefined when off (-1). */
  silenceEndCallTimeoutSecs: number | undefined;
  /** `turn.turn_timeout` (upstream's default 7). */
  turnTimeoutSecs: number;
  /** The audio formats, voice and turn-taking of a voice session (read for text sessions too, unused). */
  voice: VoiceSettings;
}

/** Upstream's error types of the refusals a session start can end with (each closes with 1008). */
export type SessionRefusalType = "override_error" | "missing_dynamic_variable";

/** Why a session cannot start: a readable reason (also the close reason) and upstream's error type. */
export interface SessionRefusal {
  ok: false;
  reason: string;
  errorType: SessionRefusalType;
}

/** The reason a variable the prompt or first message uses has no value. */
function missingReason(missing: readonly string[]): string {
  const names = missing.join(", ");
  const phoneOnly = missing.filter((name) => PHONE_ONLY_SYSTEM_VARIABLES.includes(name));
  if (phoneOnly.length > 0)
    return `missing_dynamic_variable: ${phoneOnly.join(", ")} is set on phone calls only; remove it from the prompt`;
  if (missing.some((name) => name.startsWith(SYSTEM_VARIABLE_PREFIX)))
    return `missing_dynamic_variable: ${names}: not a system variable this server sets`;
  return `missing_dynamic_variable: ${names}; send it in dynamic_variables or give the agent a placeholder`;
}

/**
 * Reads what a session needs from the agent and the client's init frame. Refused (a close reason
 * and upstream's error type): an override the agent does not allow (`override_error`), or a
 * variable the prompt or first message uses that neither the client, the agent's placeholders
 * nor the server sets (`missing_dynamic_variable`). `secret__*` variables are never filled into
 * the prompt or the first message: their placeholders stay as written, and are never missing.
 */
export function prepareSession(
  agent: AgentConfig,
  init: InitiationClientData,
  ids: { conversationId: string; startMs: number },
): { ok: true; setup: SessionSetup } | SessionRefusal {
  const override = init.conversation_config_override;
  const checked = checkOverrides(override, agent.platformSettings);
  if (!checked.ok) return { ok: false, reason: checked.reason, errorType: "override_error" };
  const config = applyOverrides(agent.conversationConfig, override);
  // Text mode is the client's to ask for, or the agent's setting (always accepted, never an override).
  const textOnly =
    valueAt(override ?? {}, "conversation", "text_only") === true ||
    valueAt(config, "conversation", "text_only") === true;
  const placeholders = valueAt(config, "agent", "dynamic_variables", "dynamic_variable_placeholders");
  const variables = sessionVariables(
    init.dynamic_variables ?? undefined,
    typeof placeholders === "object" && placeholders !== null && !Array.isArray(placeholders)
      ? (placeholders as Json)
      : undefined,
    { conversationId: ids.conversationId, agentId: agent.agentId, startMs: ids.startMs, textOnly },
  );
  const firstMessage = stringAt(config, "agent", "first_message");
  const prompt = stringAt(config, "agent", "prompt", "prompt");
  const modelVariables = withoutSecretVariables(variables);
  const missing = missingVariables([firstMessage, prompt], modelVariables).filter(
    (name) => !isSecretVariable(name),
  );
  if (missing.length > 0)
    return { ok: false, reason: missingReason(missing), errorType: "missing_dynamic_variable" };
  const llm = stringAt(config, "agent", "prompt", "llm");
  const temperature = numberAt(config, "agent", "prompt", "temperature");
  const maxTokens = numberAt(config, "agent", "prompt", "max_tokens");
  const silence = numberAt(config, "turn", "silence_end_call_timeout");
  const voice = readVoiceSettings(config, override, agent.platformSettings);
  if (typeof voice === "string") return { ok: false, reason: voice, errorType: "override_error" };
  return {
    ok: true,
    setup: {
      firstMessage: fillVariables(firstMessage, modelVariables),
      prompt: fillVariables(prompt, modelVariables),
      variables,
      textOnly,
      language: stringAt(config, "agent", "language") || DEFAULT_LANGUAGE,
      ...(llm ? { llm } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(maxTokens !== undefined && maxTokens > 0 ? { maxTokens } : {}),
      tools: readAgentTools(config),
      maxDurationSecs: positiveNumberAt(
        config,
        DEFAULT_MAX_DURATION_SECS,
        "conversation",
        "max_duration_seconds",
      ),
      silenceEndCallTimeoutSecs: silence !== undefined && silence > 0 ? silence : undefined,
      turnTimeoutSecs: positiveNumberAt(config, DEFAULT_TURN_TIMEOUT_SECS, "turn", "turn_timeout"),
      voice,
    },
  };
}
