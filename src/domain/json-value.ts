/**
 * Reading a parsed JSON document whose shape is not guaranteed: each reader returns the value when
 * it has the expected type and a neutral answer otherwise, so derivations never throw on odd input.
 */

/** A JSON object as a record; undefined for anything else (arrays and null included). */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A JSON array; empty for anything else. */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A string; null for anything else. */
export function asString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** A finite number; null for anything else. */
export function asNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}
