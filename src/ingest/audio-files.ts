/**
 * Audio recordings as files in a directory, for `openconvai export --audio DIR` and
 * `openconvai import --audio DIR`: one file per conversation, named after its id
 * (percent-encoded) with an extension that gives the content type back. An id whose name would be
 * too long for a file system is named by its hash instead (docs/ingest.md).
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { NotFoundError } from "../domain/errors.js";

const EXTENSIONS: Record<string, string> = {
  "audio/mpeg": "mp3",
  "audio/wav": "wav",
  "audio/ogg": "ogg",
  "audio/webm": "webm",
  "audio/flac": "flac",
  "audio/mp4": "m4a",
  "audio/aac": "aac",
  "audio/basic": "ulaw",
  "application/octet-stream": "bin",
};
const TYPES = new Map(Object.entries(EXTENSIONS).map(([type, ext]) => [ext, type]));

/** The longest percent-encoded id kept as a name, in bytes: names allow 255, with `.ext.partial` added while writing. */
const MAX_READABLE_ID_BYTES = 200;

/** The extension of a content type; content types without one of their own become `bin`. */
function extensionOf(contentType: string): string {
  return EXTENSIONS[contentType] ?? "bin";
}

/**
 * The file name of a conversation's audio by the hash of its id: the same length for every id, and
 * the same on case-insensitive file systems only for the same id.
 */
export function hashedAudioFileName(conversationId: string, contentType: string): string {
  const hash = createHash("sha256").update(conversationId, "utf8").digest("hex");
  return `${hash}.${extensionOf(contentType)}`;
}

/**
 * The file name of a conversation's audio: its id percent-encoded, or, when that is over 200
 * bytes, {@link hashedAudioFileName} (which `import --audio` cannot map back to an id).
 */
export function audioFileName(conversationId: string, contentType: string): string {
  // encodeURIComponent leaves "." alone; a leading dot would make a hidden file, so it is encoded too.
  const base = encodeURIComponent(conversationId).replace(/^\./, "%2E");
  // Percent-encoded, the name is ASCII: its length is its size in bytes.
  if (base.length > MAX_READABLE_ID_BYTES) return hashedAudioFileName(conversationId, contentType);
  return `${base}.${extensionOf(contentType)}`;
}

/** Reads a file name written by {@link audioFileName}; undefined for any other file. */
export function parseAudioFileName(
  name: string,
): { conversationId: string; contentType: string } | undefined {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const contentType = TYPES.get(name.slice(dot + 1));
  if (!contentType) return undefined;
  try {
    return { conversationId: decodeURIComponent(name.slice(0, dot)), contentType };
  } catch {
    return undefined;
  }
}

/** Writes one recording into the directory (through a temporary file, renamed into place). */
export async function writeAudioFile(
  dir: string,
  name: string,
  body: Readable,
  signal?: AbortSignal,
): Promise<void> {
  const target = path.join(dir, name);
  const temp = `${target}.partial`;
  try {
    await pipeline(body, createWriteStream(temp), signal ? { signal } : {});
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Makes sure the audio directory exists. */
export async function ensureAudioDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

/** Where recordings read from a directory go: `ConversationService` is one. */
export interface AudioSink {
  /** Stores a recording; throws NotFoundError, keeping nothing, for an unknown conversation. */
  putAudio(conversationId: string, body: Readable, contentType: string): Promise<unknown>;
}

/** What loading an audio directory did. */
export interface AudioImportSummary {
  loaded: number;
  /** Files whose conversation is not in the database (nothing kept). */
  unknownConversation: string[];
  /** Files whose names are not ours. */
  skipped: string[];
}

/** Loads one recording file; false when its conversation is unknown. */
export async function loadAudioFile(
  sink: AudioSink,
  file: string,
  { conversationId, contentType }: { conversationId: string; contentType: string },
): Promise<boolean> {
  // Opened now, so a missing file fails here rather than as an error of a stream nobody reads yet.
  const body = (await open(file, "r")).createReadStream();
  try {
    await sink.putAudio(conversationId, body, contentType);
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  } finally {
    body.destroy();
  }
}

/** Loads every recording in a directory into the sink, a few at a time, in name order. */
export async function importAudioDirectory(
  dir: string,
  sink: AudioSink,
  options: {
    concurrency?: number;
    onFile?: (done: number, total: number) => void;
    /** Stops before the next file (the files being loaded finish). */
    signal?: AbortSignal;
  } = {},
): Promise<AudioImportSummary> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
  const summary: AudioImportSummary = { loaded: 0, unknownConversation: [], skipped: [] };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < names.length) {
      options.signal?.throwIfAborted();
      const name = names[next++] as string;
      const parsed = parseAudioFileName(name);
      if (!parsed) summary.skipped.push(name);
      else if (await loadAudioFile(sink, path.join(dir, name), parsed)) summary.loaded++;
      else summary.unknownConversation.push(name);
      options.onFile?.(++done, names.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  summary.skipped.sort();
  summary.unknownConversation.sort();
  return summary;
}
