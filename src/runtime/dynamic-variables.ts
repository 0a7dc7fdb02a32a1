import type { DynamicVariableValue } from "./client-frames.js";

/** `{{name}}` placeholders, spaces inside the braces allowed. */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

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
}

/**
 * The session's variables: the client's (as strings) and the reserved `system__*` ones, which a
 * client cannot set.
 */
export function sessionVariables(
  client: Readonly<Record<string, DynamicVariableValue>> | undefined,
  system: SystemVariableSource,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(client ?? {}))
    if (!name.startsWith("system__")) values[name] = String(value);
  values.system__conversation_id = system.conversationId;
  values.system__agent_id = system.agentId;
  values.system__time_utc = new Date(system.startMs).toISOString();
  return values;
}
