import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { BlobStore, ByteRange } from "../../blobs/blob-store.js";
import type { ConversationService } from "../../conversations/conversation-service.js";
import type { ConversationDoc } from "../../domain/conversation.js";
import { NotFoundError } from "../../domain/errors.js";
import { renderWithTrace } from "../../domain/trace/render-with-trace.js";
import { type AudioInfo, audioFlagsOf, MP3_CONTENT_TYPE, type SpeakerTrack } from "../../store/audio-info.js";
import type { ConversationStore, ListRow } from "../../store/store.js";
import { ApiError } from "../api-error.js";
import { type ConversationIdParam, conversationIdParams, integerParam } from "../path-params.js";
import { parseRange } from "./byte-range.js";
import { encodeCursor, type ListQueryString, listQuerySchema, toListQuery } from "./list-params.js";

/** What the read API of conversations uses. */
export interface ConversationRoutesDeps {
  conversationStore: ConversationStore;
  /** Deletes go through the write path, which removes the blobs too. */
  conversations: ConversationService;
  /** Audio is streamed from here. */
  blobs: BlobStore;
}

/** Picks the requested ids out of a stored JSON object of per-id results. */
function pickResults(json: string | null, ids: string[]): Record<string, unknown> {
  const all = json ? (JSON.parse(json) as Record<string, unknown>) : {};
  // Own keys only, defined rather than assigned: `toString` is no result, `__proto__` is an ordinary id.
  return Object.fromEntries(ids.filter((id) => Object.hasOwn(all, id)).map((id) => [id, all[id]]));
}

/** Renders one list row, splicing in the parts a request asked for without re-serialising the item. */
function renderListRow(row: ListRow, q: ListQueryString): string {
  const extra: string[] = [];
  if (q.summary_mode === "include" && row.transcriptSummary !== null) {
    extra.push(`"transcript_summary":${JSON.stringify(row.transcriptSummary)}`);
  }
  if (q.evaluation_criteria_ids && q.evaluation_criteria_ids.length > 0) {
    extra.push(
      `"evaluation_criteria_results":${JSON.stringify(pickResults(row.evaluationResultsJson, q.evaluation_criteria_ids))}`,
    );
  }
  if (q.data_collection_ids && q.data_collection_ids.length > 0) {
    extra.push(
      `"data_collection_results":${JSON.stringify(pickResults(row.dataCollectionResultsJson, q.data_collection_ids))}`,
    );
  }
  return extra.length === 0 ? row.listItemJson : `${row.listItemJson.slice(0, -1)},${extra.join(",")}}`;
}

/** How often GET audio follows a recording replaced (and its blob deleted) while it was being opened. */
const AUDIO_OPEN_ATTEMPTS = 3;

/** A recording opened for GET: the bytes, their size as stored, the range asked for and the row's type. */
type OpenedAudio =
  | { stream: Readable; size: number; range: ByteRange | undefined; contentType: string }
  | { unsatisfiable: true; size: number };

/** The blob to serve of a conversation's audio: the recording, or one speaker's track of it. */
function audioBlob(
  audio: AudioInfo,
  id: string,
  track: SpeakerTrack | undefined,
): { blobKey: string; contentType: string } {
  if (track === undefined) return audio;
  const blob = audio.tracks?.[track];
  if (!blob) {
    throw new NotFoundError(
      "audio",
      id,
      `Conversation ${id} has no ${track} track: only a live call's recording keeps each speaker's track, and only when that speaker was heard. Ask without ?track for the whole recording.`,
    );
  }
  return { blobKey: blob.blobKey, contentType: MP3_CONTENT_TYPE };
}

/**
 * Opens the recording the row names (or one of its speaker tracks). The size sent is the blob's
 * own (so Content-Length always describes the bytes sent); the type is the row's, written in the
 * same statement as its key. A recording replaced in between has had its blobs deleted: the row
 * is read again.
 */
async function openAudio(
  store: ConversationStore,
  blobs: BlobStore,
  id: string,
  rangeHeader: string | undefined,
  track: SpeakerTrack | undefined,
): Promise<OpenedAudio> {
  for (let attempt = 1; ; attempt++) {
    const stored = await store.getConversation(id);
    if (!stored) throw new NotFoundError("conversation", id);
    if (!stored.audio) throw new NotFoundError("audio", id, `Conversation ${id} has no audio.`);
    const { blobKey, contentType } = audioBlob(stored.audio, id, track);
    const size = await blobs.size(blobKey);
    if (size !== undefined) {
      const range = rangeHeader !== undefined ? parseRange(rangeHeader, size) : undefined;
      if (range === "unsatisfiable") return { unsatisfiable: true, size };
      const stream = await blobs.get(blobKey, range);
      if (stream) return { stream, size, range, contentType };
    }
    if (attempt >= AUDIO_OPEN_ATTEMPTS) {
      throw new NotFoundError(
        "audio",
        id,
        `The audio of conversation ${id} is missing from the blob store; upload it again with PUT /ingest/v1/conversations/{id}/audio.`,
      );
    }
  }
}

/**
 * The query of GET audio. `track` is an extension of ours: one speaker's track of a live call's
 * recording (upstream has no such parameter; without it the route behaves as upstream's).
 */
const audioQuerySchema = {
  type: "object",
  properties: {
    track: {
      type: "string",
      enum: ["user", "agent"],
      description:
        "Extension: one speaker's track of a live call's recording (MP3, the whole call's length). Without it, the recording.",
    },
  },
} as const;

const SUMMARY_NOTE =
  "This is a summary. Call GET /v1/convai/conversations/{conversation_id} for the full transcript with tool calls and contextual updates.";

/** The read API of the conversations resource, as `@elevenlabs/elevenlabs-js` calls it. */
export async function conversationRoutes(app: FastifyInstance, deps: ConversationRoutesDeps): Promise<void> {
  const { conversationStore: store, conversations, blobs } = deps;

  app.get<{ Querystring: ListQueryString }>(
    "/v1/convai/conversations",
    { schema: { querystring: listQuerySchema } },
    async (request, reply) => {
      const query = toListQuery(request.query);
      const page = await store.listConversations(query);
      const items = page.items.map((row) => renderListRow(row, request.query));
      const next = page.nextCursor ? JSON.stringify(encodeCursor(page.nextCursor)) : "null";
      reply.type("application/json");
      return `{"conversations":[${items.join(",")}],"has_more":${page.hasMore},"next_cursor":${next}}`;
    },
  );

  app.get<{ Params: ConversationIdParam; Querystring: { format?: string } }>(
    "/v1/convai/conversations/:conversation_id",
    {
      schema: {
        params: conversationIdParams,
        querystring: {
          type: "object",
          properties: { format: { type: "string", enum: ["json", "opentelemetry"] } },
        },
      },
    },
    async (request, reply) => {
      const { conversation_id: id } = request.params;
      if (request.query.format === "opentelemetry") {
        const stored = await store.getConversation(id);
        if (!stored) throw new NotFoundError("conversation", id);
        reply.type("application/json");
        return renderWithTrace(stored.json, audioFlagsOf(stored.audio));
      }
      // The hot path: the served UTF-8 bytes go out as the store hands them over, never decoded.
      const stored = await store.getServedConversationBytes(id);
      if (!stored) throw new NotFoundError("conversation", id);
      reply.type("application/json");
      return stored.bytes;
    },
  );

  app.delete<{ Params: ConversationIdParam }>(
    "/v1/convai/conversations/:conversation_id",
    { schema: { params: conversationIdParams } },
    async (request) => {
      await conversations.deleteConversation(request.params.conversation_id);
      return {};
    },
  );

  app.get<{ Params: ConversationIdParam; Querystring: { max_messages?: number } }>(
    "/v1/convai/conversations/:conversation_id/summary",
    {
      schema: {
        params: conversationIdParams,
        querystring: {
          type: "object",
          properties: { max_messages: integerParam({ minimum: 0, maximum: 10_000 }) },
        },
      },
    },
    async (request) => {
      const { conversation_id: id } = request.params;
      const stored = await store.getConversation(id);
      if (!stored) throw new NotFoundError("conversation", id);
      const doc = JSON.parse(stored.json) as ConversationDoc;
      const analysis = (doc.analysis ?? {}) as Record<string, unknown>;
      const messages: { role: string; message: string }[] = [];
      for (const entry of Array.isArray(doc.transcript) ? doc.transcript : []) {
        const turn = entry as Record<string, unknown>;
        if (typeof turn.message === "string" && turn.message.length > 0) {
          messages.push({ role: String(turn.role), message: turn.message });
        }
      }
      const max = request.query.max_messages ?? 50;
      const omitted = messages.length > max;
      return {
        conversation_id: id,
        agent_id: doc.agent_id,
        status: doc.status,
        call_summary_title: analysis.call_summary_title ?? null,
        transcript_summary: analysis.transcript_summary ?? null,
        call_successful: analysis.call_successful ?? null,
        message_count: messages.length,
        messages: omitted ? null : messages,
        messages_omitted: omitted,
        note: SUMMARY_NOTE,
      };
    },
  );

  app.get<{ Params: ConversationIdParam; Querystring: { track?: SpeakerTrack } }>(
    "/v1/convai/conversations/:conversation_id/audio",
    { schema: { params: conversationIdParams, querystring: audioQuerySchema } },
    async (request, reply) => {
      const { conversation_id: id } = request.params;
      const opened = await openAudio(store, blobs, id, request.headers.range, request.query.track);
      if ("unsatisfiable" in opened) {
        reply.header("content-range", `bytes */${opened.size}`);
        throw new ApiError(
          416,
          "range_not_satisfiable",
          `Range ${request.headers.range} cannot be served from ${opened.size} bytes; ask for a range within them, or for the whole file without a Range header.`,
        );
      }
      const { stream, size, range, contentType } = opened;
      reply.header("accept-ranges", "bytes").type(contentType);
      if (range) {
        reply
          .code(206)
          .header("content-range", `bytes ${range.start}-${range.end}/${size}`)
          .header("content-length", range.end - range.start + 1);
      } else {
        reply.header("content-length", size);
      }
      return reply.send(stream);
    },
  );
}
