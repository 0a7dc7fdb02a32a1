/**
 * The overrides of a client's init frame (`conversation_initiation_client_data.conversation_config_override`),
 * checked against what the agent allows (`platform_settings.overrides.conversation_config_override`:
 * a `true` flag per overridable field, the SDK's ConversationConfigClientOverrideConfig) and
 * merged into the agent's `conversation_config`.
 *
 * The official client always sends empty `agent`, `tts` and `conversation` objects, so only fields
 * that are present count; text mode (`conversation.text_only`) is how a client says it sends no
 * audio, so it is always accepted and never counted as an override.
 */

type Json = Record<string, unknown>;

/** Paths a client may always send, whatever the agent allows. */
const NOT_OVERRIDES = new Set(["conversation.text_only"]);

/** Where an agent says which overrides it allows, for messages. */
export const OVERRIDE_SETTINGS_PATH = "platform_settings.overrides.conversation_config_override";

/** The overridden fields the server checks the type of, because it reads them. */
const VALUE_KINDS: Readonly<Record<string, "string" | "positive number">> = {
  "agent.first_message": "string",
  "agent.language": "string",
  "agent.max_conversation_duration_message": "string",
  "agent.prompt.prompt": "string",
  "agent.prompt.llm": "string",
  "conversation.max_duration_seconds": "positive number",
  "asr.user_input_audio_format": "string",
  "tts.agent_output_audio_format": "string",
  "tts.voice_id": "string",
};

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The value at a path of nested objects (own keys only), or undefined. */
function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** The dotted paths of every value an override object sets (null and empty objects set nothing). */
export function presentOverrides(override: Json | undefined, prefix = ""): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(override ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value === null || value === undefined || NOT_OVERRIDES.has(path)) continue;
    if (isObject(value)) paths.push(...presentOverrides(value, path));
    else paths.push(path);
  }
  return paths;
}

/** Whether the agent's platform settings allow a client to override the field at a dotted path. */
export function isOverrideAllowed(platformSettings: Json | null, path: string): boolean {
  const flags = valueAt(platformSettings, ["overrides", "conversation_config_override"]);
  return valueAt(flags, path.split(".")) === true;
}

/** Why an allowed override's value cannot be used, or undefined when it can. */
function valueProblem(path: string, value: unknown): string | undefined {
  const kind = VALUE_KINDS[path];
  if (kind === "string" && typeof value !== "string") return `${path} must be a string`;
  if (kind === "positive number" && !(typeof value === "number" && Number.isFinite(value) && value > 0))
    return `${path} must be a positive number`;
  return undefined;
}

/** The outcome of checking a client's overrides: the fields applied, or why they are refused. */
export type OverrideCheck = { ok: true; applied: string[] } | { ok: false; reason: string };

/**
 * Checks every field a client overrides against the agent's flags. A present field whose flag is
 * not `true` is refused (the first one is named, with how to allow it), as is an allowed one the
 * server reads whose value has the wrong type. `conversation.text_only` must be a boolean when sent.
 */
export function checkOverrides(override: Json | undefined, platformSettings: Json | null): OverrideCheck {
  const textOnly = valueAt(override, ["conversation", "text_only"]);
  if (textOnly !== undefined && textOnly !== null && typeof textOnly !== "boolean")
    return { ok: false, reason: "override_error: conversation.text_only must be a boolean" };
  const paths = presentOverrides(override);
  const refused = paths.filter((path) => !isOverrideAllowed(platformSettings, path));
  const [first] = refused;
  if (first !== undefined) {
    const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : "";
    return {
      ok: false,
      reason: `override_error: ${first}${more} is not allowed; allow it in ${OVERRIDE_SETTINGS_PATH}`,
    };
  }
  for (const path of paths) {
    const problem = valueProblem(path, valueAt(override, path.split(".")));
    if (problem) return { ok: false, reason: `override_error: ${problem}` };
  }
  return { ok: true, applied: paths };
}

/**
 * The agent's `conversation_config` with the client's (checked) overrides merged in: objects are
 * merged key by key, null leaves a value alone, anything else replaces it. `conversation.text_only`
 * is not merged: text mode is the client's choice or the agent's (see `prepareSession`).
 * TTS and ASR overrides (`tts.*`, `asr.*`) and `turn.soft_timeout_config` land in the merged
 * config too; a voice session reads the formats and `tts.voice_id` (see voice/voice-setup.ts).
 */
export function applyOverrides(conversationConfig: Json, override: Json | undefined, prefix = ""): Json {
  const merged: Json = { ...conversationConfig };
  for (const [key, value] of Object.entries(override ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value === null || value === undefined || NOT_OVERRIDES.has(path)) continue;
    // defineProperty: a key named __proto__ stays an ordinary key (the frame came from JSON.parse).
    const base = Object.hasOwn(conversationConfig, key) ? conversationConfig[key] : undefined;
    const next = isObject(value) ? applyOverrides(isObject(base) ? base : {}, value, path) : value;
    Object.defineProperty(merged, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return merged;
}
