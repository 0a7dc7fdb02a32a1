import { invalidCursor } from "./api-error.js";

/**
 * Encodes the cursor of a list ordered by a store's position column (`seq`): the kind and the last
 * item's position, opaque to clients. Tags and agents page this way.
 */
export function encodeSeqCursor(kind: string, seq: number): string {
  return Buffer.from(JSON.stringify([kind, seq])).toString("base64url");
}

/** Decodes a cursor `encodeSeqCursor` made for the same kind, or throws a 422 with `message`. */
export function decodeSeqCursor(kind: string, cursor: string, message?: string): number {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value[0] === kind && Number.isSafeInteger(value[1]))
      return value[1] as number;
  } catch {
    // reported below
  }
  throw invalidCursor(message);
}
