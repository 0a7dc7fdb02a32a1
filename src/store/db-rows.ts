/**
 * Row shapes that the SQLite and PostgreSQL stores both read (the two schemas use the same
 * column names), and how they map to the store types: written once for both backends.
 */
import type { ListPage } from "../domain/list-query.js";
import type { ConversationFileRow } from "./file-store.js";
import type { SipMessageRow } from "./sip-message-store.js";
import type { ApiKeyRow, ListRow } from "./store.js";
import type { SyncState } from "./sync-state-store.js";
import type { TagRow } from "./tag-store.js";
import type {
  TopicConversationCount,
  TopicDefinitionRow,
  TopicEvaluationCount,
  TopicTimeSpan,
} from "./topic-store.js";
import type { DeadLetter, PendingAudio, WebhookDelivery, WebhookOutcome } from "./webhook-store.js";

/** A list row as both schemas store it. */
export interface ListDbRow {
  start_time: number;
  conversation_id: string;
  list_item: string;
  transcript_summary: string | null;
  eval_results: string | null;
  data_results: string | null;
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

/** Reads a webhook delivery row. */
export function toDelivery(r: DeliveryDbRow): WebhookDelivery {
  return {
    bodySha256: r.body_sha256,
    type: r.type,
    conversationId: r.conversation_id,
    // Only the store writes this column, and only with a WebhookOutcome.
    outcome: r.outcome as WebhookOutcome,
    receivedAtUnixSecs: r.received_at,
  };
}

/** A dead-letter row. */
export interface DeadLetterDbRow {
  body_sha256: string;
  type: string;
  reason: string;
  body: string;
  received_at: number;
}

/** Reads a dead-letter row. */
export function toDeadLetter(r: DeadLetterDbRow): DeadLetter {
  return {
    bodySha256: r.body_sha256,
    type: r.type,
    reason: r.reason,
    body: r.body,
    receivedAtUnixSecs: r.received_at,
  };
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

/** A sync state row. */
export interface SyncStateDbRow {
  source: string;
  high_water: number | null;
  last_run: number | null;
}

/** Reads a sync state row. */
export function toSyncState(r: SyncStateDbRow): SyncState {
  return { source: r.source, highWaterUnixSecs: r.high_water, lastRunUnixSecs: r.last_run };
}

/** A SIP log message row. */
export interface SipMessageDbRow {
  position: number;
  message: string;
}

/** Reads a SIP log message row. */
export function toSipMessage(r: SipMessageDbRow): SipMessageRow {
  return { position: r.position, json: r.message };
}

/** A topic definition row. */
export interface TopicDefinitionDbRow {
  topic_id: string;
  topic: string;
}

/** Reads a topic definition row. */
export function toTopicDefinition(r: TopicDefinitionDbRow): TopicDefinitionRow {
  return { topicId: r.topic_id, json: r.topic };
}

/** A row of conversations counted per topic. */
export interface TopicConversationCountDbRow {
  topic_id: string;
  n: number;
}

/** Reads a row of conversations counted per topic. */
export function toTopicConversationCount(r: TopicConversationCountDbRow): TopicConversationCount {
  return { topicId: r.topic_id, conversationCount: r.n };
}

/** A row of evaluation results counted per topic, criterion and result. */
export interface TopicEvaluationCountDbRow {
  topic_id: string;
  criteria_id: string;
  result: string;
  n: number;
}

/** Reads a row of evaluation results counted per topic, criterion and result. */
export function toTopicEvaluationCount(r: TopicEvaluationCountDbRow): TopicEvaluationCount {
  return { topicId: r.topic_id, criteriaId: r.criteria_id, result: r.result, count: r.n };
}

/** The first and last start time of topic-carrying conversations (null over no rows). */
export interface TopicTimeSpanDbRow {
  first: number | null;
  last: number | null;
}

/** Reads the time-span row of a topic report (a missing row spans nothing). */
export function toTopicTimeSpan(r: TopicTimeSpanDbRow | undefined): TopicTimeSpan {
  return { firstStartUnixSecs: r?.first ?? null, lastStartUnixSecs: r?.last ?? null };
}
