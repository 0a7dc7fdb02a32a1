import { MAX_FRAME_TEXT_LENGTH } from "./session-bounds.js";

/**
 * What a client sends on the agent WebSocket (`/v1/convai/conversation`), as typed events, and
 * the one parser that turns a text frame into one of them. Wire fields stay snake_case.
 */

/** A dynamic variable's value as the client may send it. */
export type DynamicVariableValue = string | number | boolean;

/** `conversation_initiation_client_data`: the first frame of every session. */
export interface InitiationClientData {
  type: "conversation_initiation_client_data";
  conversation_config_override?: Record<string, unknown>;
  custom_llm_extra_body?: Record<string, unknown>;
  dynamic_variables?: Record<string, DynamicVariableValue>;
  user_id?: string;
  source_info?: { source?: string; version?: string };
  [key: string]: unknown;
}

/** Every event a client can send, by its `type` (user audio has none: `user_audio_chunk`). */
export type ClientEvent =
  | InitiationClientData
  | { type: "user_message"; text: string; rich_content_id?: string }
  | { type: "contextual_update"; text: string; context_id?: string }
  | { type: "user_activity" }
  | { type: "feedback"; score: "like" | "dislike" | null; event_id?: number }
  | { type: "pong"; event_id: number }
  | { type: "client_tool_result"; tool_call_id: string; result: string; is_error: boolean }
  | { type: "mcp_tool_approval_result"; tool_call_id: string; is_approved: boolean }
  | { type: "multimodal_message"; text?: { type: "user_message"; text: string }; [key: string]: unknown }
  | { type: "enclave_setup_config"; [key: string]: unknown }
  | { type: "user_audio_chunk"; user_audio_chunk: string };

/** The result of parsing one frame: an event, or why the frame was refused (a close reason). */
export type ParsedFrame = { ok: true; event: ClientEvent } | { ok: false; reason: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === "string";
const isOptional = (value: unknown, check: (v: unknown) => boolean) => value === undefined || check(value);
const isDynamicValue = (value: unknown): value is DynamicVariableValue =>
  typeof value === "string" ||
  typeof value === "boolean" ||
  (typeof value === "number" && Number.isFinite(value));

/** Why a frame's text is refused: not a string, or longer than `MAX_FRAME_TEXT_LENGTH`; undefined when it is fine. */
function checkText(type: string, text: unknown): string | undefined {
  if (!isString(text)) return `${type} needs a text string`;
  if (text.length > MAX_FRAME_TEXT_LENGTH)
    return `${type} text is longer than the limit of ${MAX_FRAME_TEXT_LENGTH} characters`;
  return undefined;
}

/** Checks one frame's fields by type; returns the reason a frame is refused, or undefined. */
function checkFields(frame: Json): string | undefined {
  switch (frame.type) {
    case "conversation_initiation_client_data": {
      if (!isOptional(frame.conversation_config_override, isObject))
        return "conversation_config_override must be an object";
      if (!isOptional(frame.custom_llm_extra_body, isObject))
        return "custom_llm_extra_body must be an object";
      if (!isOptional(frame.user_id, (v) => v === null || isString(v))) return "user_id must be a string";
      if (!isOptional(frame.source_info, isObject)) return "source_info must be an object";
      const vars = frame.dynamic_variables;
      if (vars !== undefined && vars !== null) {
        if (!isObject(vars)) return "dynamic_variables must be an object";
        for (const [name, value] of Object.entries(vars))
          if (!isDynamicValue(value)) return `dynamic variable ${name} must be a string, number or boolean`;
      }
      return undefined;
    }
    case "user_message":
    case "contextual_update":
      return checkText(frame.type, frame.text);
    case "user_activity":
    case "enclave_setup_config":
      return undefined;
    case "feedback":
      if (frame.score !== null && frame.score !== "like" && frame.score !== "dislike")
        return 'feedback score must be "like", "dislike" or null';
      return isOptional(frame.event_id, Number.isInteger)
        ? undefined
        : "feedback event_id must be an integer";
    case "pong":
      return Number.isInteger(frame.event_id) ? undefined : "pong needs an integer event_id";
    case "client_tool_result":
      return isString(frame.tool_call_id) ? undefined : "client_tool_result needs a tool_call_id";
    case "mcp_tool_approval_result":
      return isString(frame.tool_call_id) && typeof frame.is_approved === "boolean"
        ? undefined
        : "mcp_tool_approval_result needs tool_call_id and is_approved";
    case "multimodal_message": {
      // Its text, when present, is a user message: { type: "user_message", text }.
      if (frame.text === undefined || frame.text === null) return undefined;
      if (!isObject(frame.text) || frame.text.type !== "user_message")
        return 'multimodal_message text must be {"type": "user_message", "text": ...}';
      return checkText("multimodal_message", frame.text.text);
    }
    default:
      return `unknown message type ${JSON.stringify(String(frame.type)).slice(0, 40)}`;
  }
}

/**
 * Parses one text frame into a client event. Refused (with a short reason fit for a close frame):
 * malformed JSON, a non-object, a frame without `type` that is not user audio, an unknown type,
 * or fields of the wrong kind.
 */
export function parseClientFrame(text: string): ParsedFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { ok: false, reason: "Invalid message: frames must be JSON objects" };
  }
  if (!isObject(frame)) return { ok: false, reason: "Invalid message: frames must be JSON objects" };
  if (frame.type === undefined) {
    if (isString(frame.user_audio_chunk))
      return { ok: true, event: { type: "user_audio_chunk", user_audio_chunk: frame.user_audio_chunk } };
    return { ok: false, reason: "Invalid message: a frame needs a type" };
  }
  const problem = checkFields(frame);
  if (problem) return { ok: false, reason: `Invalid message: ${problem}` };
  return { ok: true, event: frame as ClientEvent };
}
