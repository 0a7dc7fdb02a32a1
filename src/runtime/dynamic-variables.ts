import type { DynamicVariableValue } from "./client-frames.js";

/**
 * Dynamic variables: `{{name}}` placeholders in an agent's prompt and first message, filled from
 * the client's `dynamic_variables`, the agent's `dynamic_variable_placeholders` (defaults), and
 * upstream's reserved `system__*` variables.
 *
 * `secret__*` variables are upstream's way to pass values (tokens) that are only for tool
 * headers: they are kept among the session's variables for the tools, but never filled into the
 * prompt or the first message, so they never reach the model (see `withoutSecretVariables`).
 */

/** `{{name}}` placeholders, spaces inside the braces allowed. */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** The reserved prefix of the variables the server sets. */
export const SYSTEM_VARIABLE_PREFIX = "system__";

/** The prefix of variables meant for tool headers only, never for the model. */
export const SECRET_VARIABLE_PREFIX = "secret__";

/** The one `system__` variable a client (or the agent's placeholders) may set: the caller's IANA time zone. */
const TIMEZONE_VARIABLE = "system__timezone";

/**
 * System variables that exist on phone calls only (`system__caller_id`, `system__called_number`,
 * `system__call_sid`): a WebSocket session never sets them.
 */
export const PHONE_ONLY_SYSTEM_VARIABLES: readonly string[] = [
  "system__caller_id",
  "system__called_number",
  "system__call_sid",
];

/** Whether a variable is a secret one (`secret__*`): for tool headers, never for the model. */
export function isSecretVariable(name: string): boolean {
  return name.startsWith(SECRET_VARIABLE_PREFIX);
}

/** The variables without the secret ones: what may be shown to the model or recorded. */
export function withoutSecretVariables(values: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) if (!isSecretVariable(name)) kept[name] = value;
  return kept;
}

/** The names of the placeholders in a text, each once, in order. */
export function placeholderNames(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? ""))];
}

/** The names used in any of the texts that `values` has no value for. */
export function missingVariables(
  texts: readonly string[],
  values: Readonly<Record<string, string>>,
): string[] {
  const names = new Set(texts.flatMap(placeholderNames));
  return [...names].filter((name) => !Object.hasOwn(values, name));
}

/** Fills every placeholder whose name has a value; others are left as they are. */
export function fillVariables(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(
    PLACEHOLDER,
    (whole, name: string) => (Object.hasOwn(values, name) ? values[name] : whole) ?? whole,
  );
}

/** What a session knows before it starts, for the `system__*` variables. */
export interface SystemVariableSource {
  conversationId: string;
  agentId: string;
  startMs: number;
  textOnly: boolean;
}

/** Whether a name is an IANA time zone this Node.js knows. */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A time as upstream's `system__time` shows it: "Friday, 12:33 12 December 2025", in a time zone. */
export function formatSystemTime(ms: number, timeZone: string): string {
  const parts = systemTimeFormat(timeZone).formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("weekday")}, ${part("hour")}:${part("minute")} ${part("day")} ${part("month")} ${part("year")}`;
}

/** The formatters of `system__time`, by time zone: making one costs more than formatting with it. */
const systemTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** The `system__time` formatter of a time zone (at most 64 kept; zones are few in practice). */
function systemTimeFormat(timeZone: string): Intl.DateTimeFormat {
  let format = systemTimeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      weekday: "long",
      day: "numeric",
      month: "long",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    if (systemTimeFormats.size >= 64) systemTimeFormats.clear();
    systemTimeFormats.set(timeZone, format);
  }
  return format;
}

/** A variable's value as a string (a placeholder default may be any JSON value); undefined for null. */
function variableText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === "string"
    ? value
    : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);
}

/**
 * The session's variables: the agent's placeholder defaults, the client's values over them (as
 * strings), and the reserved `system__*` ones, which neither may set, except `system__timezone`
 * (an IANA zone; UTC when absent or unknown), which `system__time` is shown in. The values are
 * those at the start of the call; phone-only system variables are not set.
 */
export function sessionVariables(
  client: Readonly<Record<string, DynamicVariableValue>> | undefined,
  placeholders: Readonly<Record<string, unknown>> | undefined,
  system: SystemVariableSource,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const source of [placeholders, client])
    for (const [name, value] of Object.entries(source ?? {})) {
      const text = variableText(value);
      if (text !== undefined && (!name.startsWith(SYSTEM_VARIABLE_PREFIX) || name === TIMEZONE_VARIABLE))
        values[name] = text;
    }
  const timeZone =
    values[TIMEZONE_VARIABLE] !== undefined && isTimeZone(values[TIMEZONE_VARIABLE])
      ? values[TIMEZONE_VARIABLE]
      : "UTC";
  Object.assign(values, {
    system__conversation_id: system.conversationId,
    system__agent_id: system.agentId,
    system__current_agent_id: system.agentId,
    system__time_utc: new Date(system.startMs).toISOString(),
    system__timezone: timeZone,
    system__time: formatSystemTime(system.startMs, timeZone),
    system__call_duration_secs: "0",
    system__is_text_only: String(system.textOnly),
    system__agent_turns: "0",
    system__current_agent_turns: "0",
    system__current_subagent_turns: "0",
  });
  return values;
}
