/**
 * Makes a string storable in a PostgreSQL text column, which cannot hold U+0000: it becomes
 * U+FFFD, the same mapping the conversation store applies, so ids keep matching across tables.
 */
export function toPgText<T>(value: T): T {
  return (
    typeof value === "string" && value.includes("\u0000") ? value.replaceAll("\u0000", "\uFFFD") : value
  ) as T;
}
