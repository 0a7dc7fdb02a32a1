import type { ByteRange } from "../../blobs/blob-store.js";

/**
 * Parses a single-range `Range: bytes=…` header against a resource size (RFC 9110 14.2).
 * Returns undefined to serve the whole resource (multi-range requests, other units), or "unsatisfiable"
 * for a malformed or out-of-bounds range.
 */
export function parseRange(header: string, size: number): ByteRange | "unsatisfiable" | undefined {
  const value = header.trim();
  // Another range unit must be ignored (RFC 9110 14.2); several ranges may be, and are: the whole is served.
  if (!/^bytes=/i.test(value) || value.includes(",")) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/i.exec(value);
  if (!match) return "unsatisfiable";
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return "unsatisfiable";
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}
