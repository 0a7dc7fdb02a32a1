/**
 * Row shapes that the SQLite and PostgreSQL stores both read (the two schemas use the same
 * column names), and how they map to the store types: written once for both backends.
 */
import type { ListPage } from "../domain/list-query.js";
import type { ConversationFileRow } from "./file-store.js";
import type { ApiKeyRow, AudioInfo, ListRow } from "./store.js";
import type { TagRow } from "./tag-store.js";
import type { PendingAudio } from "./webhook-store.js";

/** A list row as both schemas store it. */
export interface ListDbRow {
  start_time: number;
  conversation_id: string;
  list_item: string;
  transcript_summary: string | null;
  eval_results: string | null;
  data_results: string | null;
}

/** The audio columns of a conversation row. */
export interface AudioDbRow {
  audio_key: string | null;
  audio_type: string | null;
  audio_size: number | null;
}

/** Reads the audio columns. */
export function toAudio(row: AudioDbRow): AudioInfo | null {
  return row.audio_key !== null
    ? { blobKey: row.audio_key, contentType: row.audio_type ?? "audio/mpeg", size: row.audio_size ?? 0 }
    : null;
}

/** Turns list rows (one more than the page, when there are more) into a page. */
export function toListPage(rows: ListDbRow[], pageSize: number): ListPage<ListRow> {
  const hasMore = rows.length > pageSize;
  const page = hasMore ? rows.slice(0, pageSize) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      listItemJson: r.list_item,
      transcriptSummary: r.transcript_summary,
      evaluationResultsJson: r.eval_results,
      dataCollectionResultsJson: r.data_results,
    })),
    nextCursor: hasMore && last ? { startTime: last.start_time, conversationId: last.conversation_id } : null,
    hasMore,
  };
}

/** An API key row as both schemas store it. */
export interface KeyDbRow {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

/** Reads an API key row. */
export function toApiKeyRow(r: KeyDbRow): ApiKeyRow {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    hash: r.hash,
    createdAtUnixSecs: r.created_at,
    revokedAtUnixSecs: r.revoked_at,
  };
}

/** A webhook delivery row. */
export interface DeliveryDbRow {
  body_sha256: string;
  type: string;
  conversation_id: string | null;
  outcome: string;
  received_at: number;
}

/** A dead-letter row. */
export interface DeadLetterDbRow {
  body_sha256: string;
  type: string;
  reason: string;
  body: string;
  received_at: number;
}

/** A pending-audio row. */
export interface PendingDbRow {
  conversation_id: string;
  audio_key: string;
  audio_type: string;
  audio_size: number;
  received_at: number;
}

/** Reads a pending-audio row. */
export function toPending(r: PendingDbRow): PendingAudio {
  return {
    conversationId: r.conversation_id,
    audio: { blobKey: r.audio_key, contentType: r.audio_type, size: r.audio_size },
    receivedAtUnixSecs: r.received_at,
  };
}

/** An uploaded file row. */
export interface FileDbRow {
  file_id: string;
  conversation_id: string;
  blob_key: string;
  file_name: string | null;
  content_type: string;
  size: number;
  created_at: number;
}

/** Reads an uploaded file row. */
export function toFile(r: FileDbRow): ConversationFileRow {
  return {
    fileId: r.file_id,
    conversationId: r.conversation_id,
    blobKey: r.blob_key,
    fileName: r.file_name,
    contentType: r.content_type,
    size: r.size,
    createdAtUnixSecs: r.created_at,
  };
}

/** A tag row. */
export interface TagDbRow {
  seq: number;
  tag_id: string;
  title: string;
  description: string | null;
  owner_user_id: string;
  workspace_id: string;
  created_at: number;
}

/** Reads a tag row. */
export function toTag(r: TagDbRow): TagRow {
  return {
    seq: r.seq,
    tagId: r.tag_id,
    title: r.title,
    description: r.description,
    ownerUserId: r.owner_user_id,
    workspaceId: r.workspace_id,
    createdAtUnixSecs: r.created_at,
  };
}
