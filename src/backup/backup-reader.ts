/**
 * `openconvai import DIR` for a backup directory: restores what `writeBackup` wrote. Conversations
 * go through the NDJSON importer (the checks of every write path), recordings through
 * `ConversationService.putAudio`, the rest (agents, tags, …) through the stores' own writes. Ids, positions and
 * times are kept, so a restored server answers as the one backed up did. Things with the same id
 * already in the server are replaced.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import { Ajv } from "ajv";
import { analysisSettingsSchema, findDuplicateCriterion } from "../analysis/analysis-settings.js";
import { fileBlobKey } from "../blobs/blob-keys.js";
import type { BlobStore } from "../blobs/blob-store.js";
import type { ConversationService } from "../conversations/conversation-service.js";
import type { AudioImportSummary } from "../ingest/audio-files.js";
import { type BadLine, type ImportSummary, importNdjson } from "../ingest/ndjson-importer.js";
import { openNdjsonFile } from "../ingest/ndjson-source.js";
import type { Database } from "../store/store.js";
import { restoreAgents } from "./agent-backup.js";
import { restoreAudio } from "./audio-backup.js";
import { BadBackupLineError, readBackupLines, lineText as text, lineWhole as whole } from "./backup-lines.js";
import { BACKUP_PATHS, type BackupManifest, backupFileName, readBackupManifest } from "./backup-manifest.js";

/** What a restore writes to. */
export interface RestoreTargets {
  db: Database;
  blobs: BlobStore;
  conversations: ConversationService;
}

/** Settings of one restore. */
export interface RestoreOptions {
  /** The largest conversation line accepted (config.limits.jsonBytes). */
  maxLineBytes: number;
  /** Check every conversation line first; a bad one stops the restore before anything is written. */
  strict?: boolean;
  onBadLine?: (bad: BadLine) => void;
  /** Called as each part starts. */
  onStep?: (step: string) => void;
  /** Stops the restore between items; what was written stays. */
  signal?: AbortSignal;
}

/** What a restore did. */
export interface RestoreSummary {
  manifest: BackupManifest;
  conversations: ImportSummary;
  audio: AudioImportSummary;
  agents: number;
  tags: number;
  topicAgents: number;
  analysisSettings: number;
  files: number;
  sipConversations: number;
  sipMessages: number;
  /** Each count that differs from the manifest's: what, how many the manifest says, how many were restored. */
  mismatches: string[];
  /** Files and SIP logs whose conversation is not in the server (nothing written for them). */
  withoutConversation: string[];
  seconds: number;
}

const settingsValidator = new Ajv({ strict: false, allErrors: false }).compile(analysisSettingsSchema);

async function restoreTags(dir: string, db: Database, signal?: AbortSignal): Promise<number> {
  const file = path.join(dir, BACKUP_PATHS.tags);
  let count = 0;
  for await (const { line, value } of readBackupLines(file, signal)) {
    const description = value.description;
    if (description !== null && typeof description !== "string") {
      throw new BadBackupLineError(file, line, "description must be a string or null");
    }
    await db.tags.restoreTag({
      seq: whole(file, line, value, "seq"),
      tagId: text(file, line, value, "tag_id"),
      title: text(file, line, value, "title"),
      description,
      ownerUserId: text(file, line, value, "owner_user_id"),
      workspaceId: text(file, line, value, "workspace_id"),
      createdAtUnixSecs: whole(file, line, value, "created_at_unix_secs"),
    });
    count++;
  }
  return count;
}

async function restoreTopics(dir: string, db: Database, signal?: AbortSignal): Promise<number> {
  const file = path.join(dir, BACKUP_PATHS.topics);
  let count = 0;
  for await (const { line, value } of readBackupLines(file, signal)) {
    const agentId = text(file, line, value, "agent_id");
    const topics = value.topics;
    if (!Array.isArray(topics)) throw new BadBackupLineError(file, line, "topics must be an array");
    const rows = topics.map((t: unknown) => {
      const topic = (t ?? {}) as Record<string, unknown>;
      const { topic_id: topicId, ...rest } = topic;
      if (typeof topicId !== "string" || typeof rest.label !== "string") {
        throw new BadBackupLineError(file, line, "each topic needs a topic_id and a label");
      }
      return { topicId, json: JSON.stringify(rest) };
    });
    await db.topics.putTopics(agentId, rows);
    count++;
  }
  return count;
}

async function restoreAnalysisSettings(dir: string, db: Database, signal?: AbortSignal): Promise<number> {
  const file = path.join(dir, BACKUP_PATHS.analysisSettings);
  let count = 0;
  for await (const { line, value } of readBackupLines(file, signal)) {
    const agentId = text(file, line, value, "agent_id");
    const settings = value.settings;
    if (!settingsValidator(settings) || findDuplicateCriterion(settings as never) !== undefined) {
      throw new BadBackupLineError(file, line, "settings are not valid analysis settings");
    }
    await db.analysisSettings.putAnalysisSettings(agentId, JSON.stringify(settings));
    count++;
  }
  return count;
}

async function restoreFiles(
  dir: string,
  { db, blobs }: RestoreTargets,
  missing: string[],
  signal?: AbortSignal,
): Promise<number> {
  const file = path.join(dir, BACKUP_PATHS.files);
  let count = 0;
  for await (const { line, value } of readBackupLines(file, signal)) {
    const fileId = text(file, line, value, "file_id");
    const conversationId = text(file, line, value, "conversation_id");
    const fileName = value.file_name;
    if (fileName !== null && typeof fileName !== "string") {
      throw new BadBackupLineError(file, line, "file_name must be a string or null");
    }
    // The bytes are found by the file id, never by a path the line names.
    const bytes = path.join(dir, BACKUP_PATHS.fileBlobs, backupFileName(fileId));
    const key = fileBlobKey(conversationId, fileId);
    // The bytes first (opened now, so a missing file fails here, never as a stray stream error):
    // a backup whose bytes cannot be read leaves the file the server has alone.
    const body = (await open(bytes, "r")).createReadStream();
    let size: number;
    try {
      size = await blobs.put(key, body);
    } finally {
      body.destroy();
    }
    await db.conversationFiles.deleteFile(conversationId, fileId);
    const stored = await db.conversationFiles.insertFile({
      fileId,
      conversationId,
      blobKey: key,
      fileName,
      contentType: text(file, line, value, "content_type"),
      size,
      createdAtUnixSecs: whole(file, line, value, "created_at_unix_secs"),
    });
    if (!stored) {
      await blobs.delete(key);
      missing.push(`file ${fileId} (conversation ${conversationId})`);
      continue;
    }
    count++;
  }
  return count;
}

async function restoreSipMessages(
  dir: string,
  db: Database,
  missing: string[],
  signal?: AbortSignal,
): Promise<{ conversations: number; messages: number }> {
  const file = path.join(dir, BACKUP_PATHS.sipMessages);
  let count = 0;
  let restored = 0;
  let current: string | undefined;
  let messages: string[] = [];
  const flush = async () => {
    if (current === undefined) return;
    if ((await db.sipMessages.replaceSipMessages(current, messages)) === undefined) {
      missing.push(`SIP log of conversation ${current}`);
    } else {
      count++;
      restored += messages.length;
    }
    messages = [];
  };
  for await (const { line, value } of readBackupLines(file, signal)) {
    const conversationId = text(file, line, value, "conversation_id");
    const message = value.message;
    if (message === null || typeof message !== "object" || Array.isArray(message)) {
      throw new BadBackupLineError(file, line, "message must be a JSON object");
    }
    if (conversationId !== current) {
      await flush();
      current = conversationId;
    }
    messages.push(JSON.stringify(message));
  }
  await flush();
  return { conversations: count, messages: restored };
}

/** Each count of the manifest that what was restored does not match, said in words. */
function findMismatches(summary: RestoreSummary): string[] {
  const c = summary.manifest.counts;
  const restored: [string, number, number][] = [
    ["conversations", c.conversations, summary.conversations.created + summary.conversations.replaced],
    ["recordings", c.audio, summary.audio.loaded],
    ["agents", c.agents, summary.agents],
    ["tags", c.tags, summary.tags],
    ["agents with topics", c.topicAgents, summary.topicAgents],
    ["agents with analysis settings", c.analysisSettings, summary.analysisSettings],
    ["files", c.files, summary.files],
    ["conversations with SIP logs", c.sipConversations, summary.sipConversations],
    ["SIP messages", c.sipMessages, summary.sipMessages],
  ];
  return restored
    .filter(([, expected, actual]) => expected !== actual)
    .map(([what, expected, actual]) => `${what}: the manifest says ${expected}, ${actual} restored`);
}

/** Restores a backup directory into the targets. */
export async function restoreBackup(
  dir: string,
  targets: RestoreTargets,
  options: RestoreOptions,
): Promise<RestoreSummary> {
  const started = performance.now();
  const { signal, onStep } = options;
  const manifest = await readBackupManifest(dir);
  onStep?.("conversations");
  const source = await openNdjsonFile(path.join(dir, BACKUP_PATHS.conversations));
  const conversations = await importNdjson(source, targets.conversations, {
    maxLineBytes: options.maxLineBytes,
    strict: options.strict,
    onBadLine: options.onBadLine,
    signal,
  });
  const summary: RestoreSummary = {
    manifest,
    conversations,
    audio: { loaded: 0, unknownConversation: [], skipped: [] },
    agents: 0,
    tags: 0,
    topicAgents: 0,
    analysisSettings: 0,
    files: 0,
    sipConversations: 0,
    sipMessages: 0,
    mismatches: [],
    withoutConversation: [],
    seconds: 0,
  };
  if (conversations.strictFailure) {
    summary.seconds = (performance.now() - started) / 1000;
    return summary;
  }
  onStep?.("recordings");
  summary.audio = await restoreAudio(dir, manifest, targets.conversations, signal);
  onStep?.("agents");
  summary.agents = await restoreAgents(dir, targets.db, signal);
  onStep?.("tags");
  summary.tags = await restoreTags(dir, targets.db, signal);
  onStep?.("topics");
  summary.topicAgents = await restoreTopics(dir, targets.db, signal);
  onStep?.("analysis settings");
  summary.analysisSettings = await restoreAnalysisSettings(dir, targets.db, signal);
  onStep?.("files");
  summary.files = await restoreFiles(dir, targets, summary.withoutConversation, signal);
  onStep?.("SIP logs");
  const sip = await restoreSipMessages(dir, targets.db, summary.withoutConversation, signal);
  summary.sipConversations = sip.conversations;
  summary.sipMessages = sip.messages;
  summary.mismatches = findMismatches(summary);
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
