/**
 * The recordings of a backup: from layout version 2 on, `audio/` holds each recording under the
 * hash of its conversation id and `audio.ndjson` says whose each one is; a version-1 backup has no
 * index and names the files after the ids, as `export --audio` does.
 */
import path from "node:path";
import {
  type AudioImportSummary,
  type AudioSink,
  hashedAudioFileName,
  importAudioDirectory,
  loadAudioFile,
} from "../ingest/audio-files.js";
import { BadBackupLineError, readBackupLines, lineText as text } from "./backup-lines.js";
import { BACKUP_PATHS, type BackupManifest } from "./backup-manifest.js";

/** Loads a backup's recordings into the sink. */
export async function restoreAudio(
  dir: string,
  manifest: BackupManifest,
  sink: AudioSink,
  signal?: AbortSignal,
): Promise<AudioImportSummary> {
  const folder = path.join(dir, BACKUP_PATHS.audio);
  if (manifest.version < 2) return importAudioDirectory(folder, sink, { signal });
  const file = path.join(dir, BACKUP_PATHS.audioIndex);
  const summary: AudioImportSummary = { loaded: 0, unknownConversation: [], skipped: [] };
  for await (const { line, value } of readBackupLines(file, signal)) {
    const conversationId = text(file, line, value, "conversation_id");
    const contentType = text(file, line, value, "content_type");
    // The file is found by the conversation id, never by a path the line names.
    const name = hashedAudioFileName(conversationId, contentType);
    if (text(file, line, value, "file") !== name) {
      throw new BadBackupLineError(
        file,
        line,
        `file must be ${name}, the name of this conversation's recording`,
      );
    }
    const found = await loadAudioFile(sink, path.join(folder, name), { conversationId, contentType });
    if (found) summary.loaded++;
    else summary.unknownConversation.push(`${name} (conversation ${conversationId})`);
  }
  return summary;
}
