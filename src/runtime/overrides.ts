/**
 * The overrides a client's init frame actually sets. The official client always sends empty
 * `agent`, `tts` and `conversation` objects, so only fields that are present count; text mode
 * (`conversation.text_only`) is how a client says it sends no audio, not an override.
 */
const NOT_OVERRIDES = new Set(["conversation.text_only"]);

/** The dotted paths of every value an override object sets (null and empty objects set nothing). */
export function presentOverrides(override: Record<string, unknown> | undefined, prefix = ""): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(override ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value === null || value === undefined || NOT_OVERRIDES.has(path)) continue;
    if (typeof value === "object" && !Array.isArray(value))
      paths.push(...presentOverrides(value as Record<string, unknown>, path));
    else paths.push(path);
  }
  return paths;
}
