/**
 * The layout of a backup directory (`openconvai export --backup DIR`), in one place. The manifest
 * is written last, so a directory with a manifest is a whole backup; docs/ingest.md describes
 * every file.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** The file that marks a directory as a backup, and says what it holds. */
export const MANIFEST_FILE = "manifest.json";
/** The `format` a manifest names. */
export const BACKUP_FORMAT = "openconvai-backup";
/** The layout version this openconvai writes. */
export const BACKUP_VERSION = 2;
/** The layout versions this openconvai reads: 1 names recordings by id and has no `audio.ndjson`. */
const READABLE_VERSIONS: readonly number[] = [1, 2];
/** The file that marks a directory as one a backup is being written into (removed when whole). */
export const PARTIAL_MARKER = ".openconvai-partial";

/** The files and folders of a backup, relative to its directory. */
export const BACKUP_PATHS = {
  conversations: "conversations.ndjson",
  audio: "audio",
  audioIndex: "audio.ndjson",
  agents: "agents.ndjson",
  tags: "tags.ndjson",
  topics: "topics.ndjson",
  analysisSettings: "analysis-settings.ndjson",
  files: "files.ndjson",
  fileBlobs: "files",
  sipMessages: "sip-messages.ndjson",
} as const;

/** How many of each thing a backup holds. */
export interface BackupCounts {
  conversations: number;
  audio: number;
  /** Agents (Agents API); 0 in a backup written before backups carried them. */
  agents: number;
  tags: number;
  topicAgents: number;
  analysisSettings: number;
  files: number;
  sipConversations: number;
  sipMessages: number;
}

/** What `manifest.json` holds. */
export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  /** The layout version: 2 and later list the recordings in `audio.ndjson`. */
  version: number;
  createdAtUnixSecs: number;
  /** The database the backup was taken from (`sqlite` or `postgres`); any can be restored into either. */
  database: string;
  counts: BackupCounts;
}

/** A directory that is not a backup this openconvai can read. */
export class NotABackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotABackupError";
  }
}

/** Writes the manifest (the last step of a backup). */
export async function writeBackupManifest(dir: string, manifest: BackupManifest): Promise<void> {
  const { createdAtUnixSecs, counts, ...rest } = manifest;
  const wire = {
    ...rest,
    created_at_unix_secs: createdAtUnixSecs,
    counts: {
      conversations: counts.conversations,
      audio: counts.audio,
      agents: counts.agents,
      tags: counts.tags,
      topic_agents: counts.topicAgents,
      analysis_settings: counts.analysisSettings,
      files: counts.files,
      sip_conversations: counts.sipConversations,
      sip_messages: counts.sipMessages,
    },
  };
  await writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(wire, null, 2)}\n`);
}

/** Whether a directory holds a manifest (is meant to be a backup). */
export async function hasBackupManifest(dir: string): Promise<boolean> {
  try {
    await readFile(path.join(dir, MANIFEST_FILE));
    return true;
  } catch {
    return false;
  }
}

/** Reads and checks a backup's manifest; throws NotABackupError for anything this version cannot restore. */
export async function readBackupManifest(dir: string): Promise<BackupManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new NotABackupError(`${file} cannot be read as JSON (${(error as Error).message})`);
  }
  if (raw?.format !== BACKUP_FORMAT) {
    throw new NotABackupError(
      `${file} is not an openconvai backup manifest (format is not "${BACKUP_FORMAT}")`,
    );
  }
  if (typeof raw.version !== "number" || !READABLE_VERSIONS.includes(raw.version)) {
    throw new NotABackupError(
      `${dir} is a backup of layout version ${String(raw.version)}; this openconvai reads versions ${READABLE_VERSIONS.join(" and ")}. Restore it with the openconvai that wrote it, or a newer one.`,
    );
  }
  const counts = (raw.counts ?? {}) as Record<string, number>;
  return {
    format: BACKUP_FORMAT,
    version: raw.version,
    createdAtUnixSecs: Number(raw.created_at_unix_secs),
    database: String(raw.database),
    counts: {
      conversations: counts.conversations ?? 0,
      audio: counts.audio ?? 0,
      agents: counts.agents ?? 0,
      tags: counts.tags ?? 0,
      topicAgents: counts.topic_agents ?? 0,
      analysisSettings: counts.analysis_settings ?? 0,
      files: counts.files ?? 0,
      sipConversations: counts.sip_conversations ?? 0,
      sipMessages: counts.sip_messages ?? 0,
    },
  };
}

/** The file name of an id inside a backup folder: percent-encoded, never hidden, never a path. */
export function backupFileName(id: string): string {
  return encodeURIComponent(id).replace(/^\./, "%2E");
}
