import type { ConversationDoc } from "../domain/conversation.js";

/** Longest piece of a message searched, scored and returned as one `chunk_text`. */
export const MAX_CHUNK_CHARS = 1000;

/** One searchable piece of a transcript message. */
export interface MessageChunk {
  transcriptIndex: number;
  /** Which piece of the message (0 for the first). */
  chunk: number;
  text: string;
}

/** Splits text into pieces of at most `max` characters, cutting at whitespace when there is some. */
export function splitIntoChunks(text: string, max: number = MAX_CHUNK_CHARS): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf(" ", max);
    if (cut < max / 2) cut = max;
    // Never split a surrogate pair.
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\s+/u, "");
  }
  if (rest.length > 0 || out.length === 0) out.push(rest);
  return out;
}

/** The searchable pieces of a document: every transcript entry with a non-blank `message`, in order. */
export function extractMessageChunks(doc: ConversationDoc): MessageChunk[] {
  const chunks: MessageChunk[] = [];
  const transcript = Array.isArray(doc.transcript) ? doc.transcript : [];
  transcript.forEach((entry, transcriptIndex) => {
    const message = (entry as Record<string, unknown> | null)?.message;
    if (typeof message !== "string" || message.trim().length === 0) return;
    splitIntoChunks(message).forEach((text, chunk) => {
      chunks.push({ transcriptIndex, chunk, text });
    });
  });
  return chunks;
}
