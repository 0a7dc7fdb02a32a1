/**
 * The NDJSON exporter: every conversation in the wire shape GET serves it (server-owned `has_*`
 * keys included), one a line, in conversation_id order, plus optionally each recording as a file.
 * What it writes is what `openconvai import` (with `--audio`) reads back.
 */
import type { Writable } from "node:stream";
import type { BlobStore } from "../blobs/blob-store.js";
import { renderStoredDocument } from "../domain/stored-document.js";
import { audioFlagsOf } from "../store/audio-info.js";
import type { ConversationStore } from "../store/store.js";
import { audioFileName, ensureAudioDirectory, writeAudioFile } from "./audio-files.js";

/** One recording an export wrote: whose it is, the file name in the audio directory, its type. */
export interface ExportedAudio {
  conversationId: string;
  file: string;
  contentType: string;
}

/** What an export wrote. */
export interface ExportSummary {
  conversations: number;
  audioFiles: number;
  /** Conversations whose recording is recorded but whose bytes are missing from the blob store. */
  missingAudio: string[];
  seconds: number;
}

/** Settings of one export. */
export interface ExportOptions {
  /** Write each recording into this directory. */
  audioDir?: string;
  /** Conversations read per store call (default 500). */
  pageSize?: number;
  onProgress?: (written: number) => void;
  /** Names each recording's file (default {@link audioFileName}). */
  audioName?: (conversationId: string, contentType: string) => string;
  /** Called after each recording is written (a backup records the names). */
  onAudio?: (audio: ExportedAudio) => Promise<void>;
  /** Stops the export between pages (and while waiting to write); the export then throws the abort's reason. */
  signal?: AbortSignal;
}

/** Writes every conversation to `out` as NDJSON (and recordings to `audioDir`); does not end `out`. */
export async function exportNdjson(
  conversations: ConversationStore,
  blobs: BlobStore,
  out: Writable,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const started = performance.now();
  const pageSize = options.pageSize ?? 500;
  const summary: ExportSummary = { conversations: 0, audioFiles: 0, missingAudio: [], seconds: 0 };
  if (options.audioDir) await ensureAudioDirectory(options.audioDir);
  const { signal } = options;
  let after: string | null = null;
  for (;;) {
    signal?.throwIfAborted();
    const page = await conversations.scanConversations(after, pageSize);
    if (page.length === 0) break;
    let text = "";
    for (const c of page) text += `${renderStoredDocument(c.json, audioFlagsOf(c.audio))}\n`;
    await writeOutput(out, text, signal);
    if (options.audioDir) {
      for (const c of page) {
        if (!c.audio) continue;
        const body = await blobs.get(c.audio.blobKey);
        if (!body) {
          summary.missingAudio.push(c.conversationId);
          continue;
        }
        const name = (options.audioName ?? audioFileName)(c.conversationId, c.audio.contentType);
        await writeAudioFile(options.audioDir, name, body, signal);
        await options.onAudio?.({
          conversationId: c.conversationId,
          file: name,
          contentType: c.audio.contentType,
        });
        summary.audioFiles++;
      }
    }
    summary.conversations += page.length;
    options.onProgress?.(summary.conversations);
    after = page[page.length - 1]?.conversationId ?? null;
    if (page.length < pageSize) break;
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/** The error of an output that can no longer be written to, if it is so. */
function outputFailure(out: Writable): Error | undefined {
  if (out.errored) return out.errored;
  if (out.destroyed || out.writableEnded)
    return new Error("the output was closed before everything was written");
  return undefined;
}

/**
 * Writes a chunk and, when the stream asks to wait, waits until it drained. A stream that fails
 * or closes (a missing directory, a full disk, a reader gone) fails the write at once: a destroyed
 * stream never drains, so waiting on `drain` alone could wait forever.
 */
export async function writeOutput(out: Writable, chunk: string, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const before = outputFailure(out);
  if (before) throw before;
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      out.off("drain", onDrain);
      out.off("error", onError);
      out.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(outputFailure(out) ?? new Error("the output was closed"));
    const onAbort = () => settle(signal?.reason as Error);
    out.on("drain", onDrain);
    out.on("error", onError);
    out.on("close", onClose);
    signal?.addEventListener("abort", onAbort);
    // The stream may have failed during write() itself (an error emitted synchronously, or earlier).
    const failed = outputFailure(out);
    if (failed) settle(failed);
  });
}
