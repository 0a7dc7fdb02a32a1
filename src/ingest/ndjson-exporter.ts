/**
 * The NDJSON exporter: every conversation in the wire shape GET serves it (server-owned `has_*`
 * keys included), one a line, in conversation_id order, plus optionally each recording as a file.
 * What it writes is what `openconvai import` (with `--audio`) reads back.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import type { BlobStore } from "../blobs/blob-store.js";
import { renderStoredDocument } from "../domain/stored-document.js";
import type { ConversationStore } from "../store/store.js";
import { audioFileName, ensureAudioDirectory, writeAudioFile } from "./audio-files.js";

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
    for (const c of page) text += `${renderStoredDocument(c.json, { hasAudio: c.audio !== null })}\n`;
    if (!out.write(text)) await once(out, "drain", signal ? { signal } : {});
    if (options.audioDir) {
      for (const c of page) {
        if (!c.audio) continue;
        const body = await blobs.get(c.audio.blobKey);
        if (!body) {
          summary.missingAudio.push(c.conversationId);
          continue;
        }
        const name = audioFileName(c.conversationId, c.audio.contentType);
        await writeAudioFile(options.audioDir, name, body, signal);
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
