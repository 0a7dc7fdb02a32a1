import type { CandidateWalkPath } from "../store/message-search-store.js";

/** Where the next page of message search results starts; opaque to clients. */
export type SearchCursor =
  | {
      /** Text search by score: the window's newest conversation, and the last result's sort key. */
      mode: "score";
      page: number;
      top: { startTime: number; conversationId: string };
      last: ResultKey;
      /** How the first page walked the window (absent from older cursors): later pages walk it the same way. */
      path?: CandidateWalkPath;
    }
  | { mode: "created"; page: number; last: ResultKey }
  | { mode: "semantic"; page: number; last: ResultKey };

/** The sort key of one result. */
export interface ResultKey {
  score: number;
  startTime: number;
  conversationId: string;
  transcriptIndex: number;
  chunk: number;
  /** Semantic results only: the embedding's label, which orders results of equal score. */
  label?: number;
}

const MODES = { s: "score", c: "created", v: "semantic" } as const;

/** Encodes a search cursor (base64url of a compact JSON array). */
export function encodeSearchCursor(cursor: SearchCursor): string {
  const tag = cursor.mode === "score" ? "s" : cursor.mode === "created" ? "c" : "v";
  const { score, startTime, conversationId, transcriptIndex, chunk } = cursor.last;
  const body: unknown[] = [tag, cursor.page, score, startTime, conversationId, transcriptIndex, chunk];
  if (cursor.mode === "score") {
    body.push(cursor.top.startTime, cursor.top.conversationId);
    if (cursor.path) body.push(cursor.path === "time" ? "t" : "p");
  } else if (cursor.mode === "semantic") {
    body.push(cursor.last.label ?? 0);
  }
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/** Decodes a cursor from `encodeSearchCursor`; undefined when it is not one. */
export function decodeSearchCursor(text: string): SearchCursor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length < 7) return undefined;
  const [tag, page, score, startTime, conversationId, transcriptIndex, chunk, topStart, topId, walk] = value;
  const mode = MODES[tag as keyof typeof MODES];
  if (
    mode === undefined ||
    !Number.isInteger(page) ||
    typeof score !== "number" ||
    typeof startTime !== "number" ||
    typeof conversationId !== "string" ||
    !Number.isInteger(transcriptIndex) ||
    !Number.isInteger(chunk)
  ) {
    return undefined;
  }
  const last: ResultKey = {
    score,
    startTime,
    conversationId,
    transcriptIndex: transcriptIndex as number,
    chunk: chunk as number,
  };
  if (mode === "score") {
    if (typeof topStart !== "number" || typeof topId !== "string") return undefined;
    if (walk !== undefined && walk !== "t" && walk !== "p") return undefined;
    const top = { startTime: topStart, conversationId: topId };
    if (walk === undefined) return { mode, page: page as number, top, last };
    return { mode, page: page as number, top, last, path: walk === "t" ? "time" : "planner" };
  }
  if (mode === "semantic") {
    // The label (8th) orders results of equal score; a cursor without one is not this version's.
    if (!Number.isInteger(topStart)) return undefined;
    return { mode, page: page as number, last: { ...last, label: topStart as number } };
  }
  return { mode, page: page as number, last };
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Order of text results by score: score, then newest conversation, then position in the transcript. */
export function compareByScore(a: ResultKey, b: ResultKey): number {
  return (
    b.score - a.score ||
    b.startTime - a.startTime ||
    compareIds(b.conversationId, a.conversationId) ||
    a.transcriptIndex - b.transcriptIndex ||
    a.chunk - b.chunk
  );
}

/**
 * Order of semantic results: similarity, then the newest embedding (the highest label). Labels are
 * unique, so no two results tie; the ANN index hands identical vectors out in the same order.
 */
export function compareBySimilarity(a: ResultKey, b: ResultKey): number {
  return b.score - a.score || (b.label ?? 0) - (a.label ?? 0);
}

/** Order of text results by time: newest conversation first, then position in the transcript. */
export function compareByCreated(a: ResultKey, b: ResultKey): number {
  return (
    b.startTime - a.startTime ||
    compareIds(b.conversationId, a.conversationId) ||
    a.transcriptIndex - b.transcriptIndex ||
    a.chunk - b.chunk
  );
}
