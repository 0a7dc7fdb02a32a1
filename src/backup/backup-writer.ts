/**
 * `openconvai export --backup DIR`: everything a server answers with, written into a directory
 * (docs/ingest.md, "Backup and restore"): the conversations as NDJSON with their recordings, the
 * agents, the tag definitions, the agents' topics and analysis settings, uploaded files with their bytes and
 * the SIP logs. The manifest is written last, so a directory with a manifest is never half a
 * backup; where it is written meanwhile is up to `prepareBackupDirectory` (backup-destination.ts).
 */
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { finished } from "node:stream/promises";
import type { BlobStore } from "../blobs/blob-store.js";
import { hashedAudioFileName, writeAudioFile } from "../ingest/audio-files.js";
import { exportNdjson, writeOutput } from "../ingest/ndjson-exporter.js";
import type { Database } from "../store/store.js";
import type { TagRow } from "../store/tag-store.js";
import { agentLines } from "./agent-backup.js";
import {
  type BackupDestination,
  commitBackupDirectory,
  discardBackupDirectory,
} from "./backup-destination.js";
import { writeBackupLines } from "./backup-lines.js";
import {
  BACKUP_FORMAT,
  BACKUP_PATHS,
  BACKUP_VERSION,
  type BackupCounts,
  backupFileName,
  writeBackupManifest,
} from "./backup-manifest.js";

const PAGE = 500;

/** What a backup wrote, and what it could not. */
export interface BackupSummary {
  counts: BackupCounts;
  /** Conversations whose recording is recorded but whose bytes are missing from the blob store. */
  missingAudio: string[];
  /** Files whose bytes are missing from the blob store (left out of the backup). */
  missingFiles: string[];
  seconds: number;
}

/** Settings of one backup. */
export interface BackupOptions {
  /** Called after each page of conversations with how many are written. */
  onProgress?: (conversations: number) => void;
  /** Stops the backup; the partial directory is deleted and the abort's reason thrown. */
  signal?: AbortSignal;
}

/** Tag definitions oldest first, so a restore that cannot keep their places keeps their order. */
async function* tagLines(db: Database): AsyncGenerator<unknown> {
  const all: TagRow[] = [];
  let before: number | null = null;
  for (;;) {
    const page = await db.tags.listTags(before, PAGE);
    all.push(...page);
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) break;
    before = last.seq;
  }
  for (const t of all.reverse()) {
    yield {
      tag_id: t.tagId,
      seq: t.seq,
      workspace_id: t.workspaceId,
      owner_user_id: t.ownerUserId,
      title: t.title,
      description: t.description,
      created_at_unix_secs: t.createdAtUnixSecs,
    };
  }
}

/** Each agent's topic definitions: one line per agent, the topics as ingest takes them. */
async function* topicLines(db: Database): AsyncGenerator<unknown> {
  let after: string | null = null;
  for (;;) {
    const agents = await db.topics.listTopicAgentIds(after, PAGE);
    for (const agentId of agents) {
      const topics = await db.topics.getTopics(agentId);
      yield {
        agent_id: agentId,
        topics: topics.map((t) => ({ topic_id: t.topicId, ...(JSON.parse(t.json) as object) })),
      };
    }
    after = agents[agents.length - 1] ?? null;
    if (agents.length < PAGE) break;
  }
}

/** Each agent's analysis settings: one line per agent. */
async function* analysisSettingsLines(db: Database): AsyncGenerator<unknown> {
  let after: string | null = null;
  for (;;) {
    const page = await db.analysisSettings.listAnalysisSettings(after, PAGE);
    for (const s of page) yield { agent_id: s.agentId, settings: JSON.parse(s.json) as unknown };
    after = page[page.length - 1]?.agentId ?? null;
    if (page.length < PAGE) break;
  }
}

/** Each SIP log message: one line per message, in log order. */
async function* sipLines(db: Database, counts: BackupCounts): AsyncGenerator<unknown> {
  let after: string | null = null;
  for (;;) {
    const ids = await db.sipMessages.listSipConversationIds(after, PAGE);
    for (const conversationId of ids) {
      counts.sipConversations++;
      let position: number | null = null;
      for (;;) {
        const rows = await db.sipMessages.listSipMessages(conversationId, position, 1000);
        for (const row of rows) {
          yield { conversation_id: conversationId, message: JSON.parse(row.json) as unknown };
        }
        position = rows[rows.length - 1]?.position ?? null;
        if (rows.length < 1000) break;
      }
    }
    after = ids[ids.length - 1] ?? null;
    if (ids.length < PAGE) break;
  }
}

/** Each uploaded file: its row as a line, its bytes into the files folder. */
async function* fileLines(
  db: Database,
  blobs: BlobStore,
  dir: string,
  summary: BackupSummary,
  signal: AbortSignal | undefined,
): AsyncGenerator<unknown> {
  const folder = path.join(dir, BACKUP_PATHS.fileBlobs);
  await mkdir(folder, { recursive: true });
  let after: string | null = null;
  for (;;) {
    const page = await db.conversationFiles.scanFiles(after, PAGE);
    for (const f of page) {
      const body = await blobs.get(f.blobKey);
      if (!body) {
        summary.missingFiles.push(f.fileId);
        continue;
      }
      const name = backupFileName(f.fileId);
      await writeAudioFile(folder, name, body, signal);
      yield {
        file_id: f.fileId,
        conversation_id: f.conversationId,
        file_name: f.fileName,
        content_type: f.contentType,
        size: f.size,
        created_at_unix_secs: f.createdAtUnixSecs,
        path: `${BACKUP_PATHS.fileBlobs}/${name}`,
      };
    }
    after = page[page.length - 1]?.fileId ?? null;
    if (page.length < PAGE) break;
  }
}

/** Writes a backup of the database and blobs into `destination.dir`, then puts it into place. */
export async function writeBackup(
  db: Database,
  blobs: BlobStore,
  destination: BackupDestination,
  options: BackupOptions = {},
): Promise<BackupSummary> {
  const started = performance.now();
  const { signal } = options;
  const { dir } = destination;
  const summary: BackupSummary = {
    counts: {
      conversations: 0,
      audio: 0,
      agents: 0,
      tags: 0,
      topicAgents: 0,
      analysisSettings: 0,
      files: 0,
      sipConversations: 0,
      sipMessages: 0,
    },
    missingAudio: [],
    missingFiles: [],
    seconds: 0,
  };
  const { counts } = summary;
  try {
    const out = createWriteStream(path.join(dir, BACKUP_PATHS.conversations));
    // Recordings are named by the hash of their id (never too long, never two alike on a
    // case-insensitive file system); audio.ndjson says whose each one is.
    const index = createWriteStream(path.join(dir, BACKUP_PATHS.audioIndex));
    // A write error fails the next write (writeOutput) or finished() below, never crashes.
    out.on("error", () => undefined);
    index.on("error", () => undefined);
    try {
      const exported = await exportNdjson(db.conversations, blobs, out, {
        audioDir: path.join(dir, BACKUP_PATHS.audio),
        audioName: hashedAudioFileName,
        onAudio: (a) =>
          writeOutput(
            index,
            `${JSON.stringify({ conversation_id: a.conversationId, file: a.file, content_type: a.contentType })}\n`,
            signal,
          ),
        onProgress: options.onProgress,
        signal,
      });
      out.end();
      index.end();
      await Promise.all([finished(out), finished(index)]);
      counts.conversations = exported.conversations;
      counts.audio = exported.audioFiles;
      summary.missingAudio = exported.missingAudio;
    } finally {
      out.destroy();
      index.destroy();
    }
    const file = (name: string) => path.join(dir, name);
    counts.agents = await writeBackupLines(file(BACKUP_PATHS.agents), agentLines(db), signal);
    counts.tags = await writeBackupLines(file(BACKUP_PATHS.tags), tagLines(db), signal);
    counts.topicAgents = await writeBackupLines(file(BACKUP_PATHS.topics), topicLines(db), signal);
    counts.analysisSettings = await writeBackupLines(
      file(BACKUP_PATHS.analysisSettings),
      analysisSettingsLines(db),
      signal,
    );
    counts.files = await writeBackupLines(
      file(BACKUP_PATHS.files),
      fileLines(db, blobs, dir, summary, signal),
      signal,
    );
    counts.sipMessages = await writeBackupLines(file(BACKUP_PATHS.sipMessages), sipLines(db, counts), signal);
    signal?.throwIfAborted();
    await writeBackupManifest(dir, {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      createdAtUnixSecs: Math.floor(Date.now() / 1000),
      database: db.kind,
      counts,
    });
    await commitBackupDirectory(destination);
  } catch (error) {
    await discardBackupDirectory(destination);
    throw error;
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
