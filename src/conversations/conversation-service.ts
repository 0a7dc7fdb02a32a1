import type { Readable } from "node:stream";
import { newAudioBlobKey } from "../blobs/blob-keys.js";
import type { BlobStore } from "../blobs/blob-store.js";
import type { ConversationDoc, ConversationIndex, ConversationRecord } from "../domain/conversation.js";
import { InvalidInputError, NotFoundError } from "../domain/errors.js";
import type { AudioFlags } from "../domain/stored-document.js";
import type { CallRecording } from "../recording/call-recording.js";
import { type AudioInfo, audioBlobKeys, audioFlagsOf } from "../store/audio-info.js";
import type { NewOutgoingDelivery } from "../store/outgoing-webhook-store.js";
import type { ConversationStore, UpsertOutcome } from "../store/store.js";
import { checkIncomingDocument } from "./document-validator.js";
import { encodeCallRecording } from "./encode-call-recording.js";
import type { ConversationRef, PostCallWebhooks } from "./post-call-webhooks.js";
import { storeRecordingBlobs } from "./recording-blobs.js";
import type { IssueLocation } from "./validation-issues.js";

/**
 * A conversation as a write left it. GET serves `renderStoredDocument(json, flags)`, so a writer
 * can answer with exactly that (the object is its own `AudioFlags`) without reading the row back.
 */
export interface WrittenConversation extends AudioFlags {
  /** The document as stored: the server-owned `has_*` keys are not part of it. */
  json: string;
  /** Whether the conversation has audio. */
  hasAudio: boolean;
}

/** Options for `putRecording`. */
export interface PutRecordingOptions {
  /**
   * Aborting stops the work between encodes and before anything is written: `putRecording`
   * rejects with the signal's reason and stores nothing.
   */
  signal?: AbortSignal;
}

/** What `putConversation` wrote. */
export interface PutConversationResult extends WrittenConversation {
  outcome: UpsertOutcome;
  /** The index fields of what was written (sync reads the status). */
  index: ConversationIndex;
}

/** Where the id and the issues of an incoming document come from. */
export interface PutConversationOptions {
  /** The id from the path; it wins over the body's `conversation_id`. */
  conversationId?: string;
  /** Where issues are located (default `["body"]`, as the ingest PUT reports them). */
  loc?: IssueLocation;
  /** See `WriteOptions.deferSearchText`. */
  deferSearchText?: boolean;
  /** See `WriteOptions.finishesLiveSession`. */
  finishesLiveSession?: WriteOptions["finishesLiveSession"];
}

/** How a write indexes what it writes. */
export interface WriteOptions {
  /**
   * The document is not indexed for text search by this write (its text is removed from the
   * index until a write without this option): a live session's writes, which follow each other
   * every few seconds and would otherwise re-index the whole transcript each time. The session's
   * last write indexes it.
   */
  deferSearchText?: boolean;
  /**
   * This write finishes a live session served here (its status is `done` or `failed` and nothing
   * of the session writes after it): the conversation's post-call webhooks are queued in the same
   * transaction. `expectAudio`: its recording is (or is about to be) stored, so the audio
   * webhook is queued too. `agentId`: the conversation's agent, when the caller knows it (else it
   * is read). `onlyFrom`: write the change and queue them only when the stored status is one of
   * these (checked on the locked row: otherwise nothing is written and the record is returned as
   * stored, so of concurrent finishers only one queues them).
   * `expectAudio: "if-stored"`: the audio webhook too when the conversation has audio now (a
   * recovered session whose recording was stored before the crash).
   */
  finishesLiveSession?: {
    agentId?: string | null;
    expectAudio?: boolean | "if-stored";
    onlyFrom?: readonly string[];
  };
}

/** The statuses of a conversation that is over: what post-call webhooks are sent for. */
const FINISHED_STATUSES = new Set(["done", "failed"]);

/** A record as a write with `options` stores it. */
function indexedAs(record: ConversationRecord, options: WriteOptions): ConversationRecord {
  return options.deferSearchText ? { ...record, searchText: "" } : record;
}

/**
 * The one write path of conversation documents and their audio: every writer (the ingest API,
 * the importer, the webhook receiver, sync, feedback, tags, analysis, the demo seed) goes through
 * it. A document is validated against the SDK's wire model and turned into its record (index
 * columns, facets, search text) before anything is written; what was written is returned, so no
 * one reads it back. It throws domain errors: InvalidInputError (nothing written), NotFoundError.
 */
export class ConversationService {
  /**
   * `webhooks` plans the post-call webhooks a write queues (none are sent without it): those of a
   * live session's last write, and, in relay mode, those of conversations that arrive finished
   * from elsewhere (the ingest PUT, import, sync, the webhook receiver) and of their audio.
   */
  constructor(
    private readonly store: ConversationStore,
    private readonly blobs: BlobStore,
    private readonly webhooks?: PostCallWebhooks,
  ) {}

  /** Validates and upserts one document; throws InvalidInputError, writing nothing, when it is invalid. */
  async putConversation(body: unknown, options: PutConversationOptions = {}): Promise<PutConversationResult> {
    const checked = checkIncomingDocument(body, options.conversationId, options.loc);
    if (!checked.ok) throw new InvalidInputError(checked.issues);
    const record = indexedAs(checked.record, options);
    // A write that can queue nothing (a live session's turn, relay mode off) does not wait for a plan.
    const deliveries = this.mayQueue(options) ? await this.planPut(record, options) : undefined;
    // A replace keeps the row's audio: the store says whether there is any, so nothing is read back.
    const { outcome, audio } = await this.store.putConversation(record, deliveries);
    this.queued(deliveries);
    return { outcome, index: record.index, json: record.json, ...audioFlagsOf(audio) };
  }

  /**
   * Upserts records in one transaction. The records come from `checkIncomingDocument` (the
   * importer builds them in a worker thread, the demo seed checks its documents first).
   */
  async putRecords(records: readonly ConversationRecord[]): Promise<UpsertOutcome[]> {
    let deliveries: NewOutgoingDelivery[] | undefined;
    if (this.webhooks?.relay) {
      deliveries = [];
      for (const record of records) deliveries.push(...(await this.planPut(record, {})));
    }
    const outcomes = await this.store.upsertConversations(records, deliveries);
    this.queued(deliveries);
    return outcomes;
  }

  /** Whether a put with these options may queue webhooks at all. */
  private mayQueue(options: WriteOptions): boolean {
    return this.webhooks !== undefined && (options.finishesLiveSession !== undefined || this.webhooks.relay);
  }

  /** The webhooks a put of `record` queues: a live session's last write's, or a relayed finished conversation's. */
  private async planPut(record: ConversationRecord, options: WriteOptions): Promise<NewOutgoingDelivery[]> {
    const webhooks = this.webhooks;
    if (!webhooks) return [];
    const ref = { conversationId: record.index.conversationId, agentId: record.index.agentId || null };
    const live = options.finishesLiveSession;
    // A first write that is also the last has no recording stored yet.
    if (live) return webhooks.planFinished(ref, "live", { expectAudio: live.expectAudio === true });
    if (!webhooks.relay || !FINISHED_STATUSES.has(record.index.status)) return [];
    return webhooks.planFinished(ref, "relay");
  }

  /** The webhooks of a change that finishes a live session (none for any other change). */
  private async planChange(conversationId: string, options: WriteOptions): Promise<NewOutgoingDelivery[]> {
    const live = options.finishesLiveSession;
    if (!this.webhooks || !live) return [];
    let agentId = live.agentId;
    let expectAudio = live.expectAudio === true;
    if (agentId === undefined || live.onlyFrom || live.expectAudio === "if-stored") {
      const stored = await this.store.getConversation(conversationId);
      if (!stored) return [];
      const doc = JSON.parse(stored.json) as ConversationDoc;
      if (live.onlyFrom && !live.onlyFrom.includes(String(doc.status))) return [];
      agentId = typeof doc.agent_id === "string" ? doc.agent_id : null;
      if (live.expectAudio === "if-stored") expectAudio = stored.audio !== null;
    }
    return this.webhooks.planFinished({ conversationId, agentId }, "live", { expectAudio });
  }

  /** The audio webhooks of audio that arrived from elsewhere (relay mode only). */
  private async planAudio(conversation: ConversationRef): Promise<NewOutgoingDelivery[]> {
    if (!this.webhooks?.relay) return [];
    return this.webhooks.planAudio(conversation, "relay");
  }

  /** After a write that queued deliveries: the sender sends them now rather than at its next poll. */
  private queued(deliveries: readonly NewOutgoingDelivery[] | undefined): void {
    if (deliveries && deliveries.length > 0) this.webhooks?.notify();
  }

  /**
   * Changes a stored document in one transaction: `change` gets the stored document and returns
   * the new one (it may edit and return the same object). The result is validated and rebuilt
   * like an incoming document, so the list filters see the change. Throws InvalidInputError when
   * the result is invalid and NotFoundError for an unknown conversation; either way nothing is
   * written.
   */
  async changeConversation(
    conversationId: string,
    change: (doc: ConversationDoc) => ConversationDoc,
    options: WriteOptions = {},
  ): Promise<ConversationRecord> {
    const deliveries = options.finishesLiveSession
      ? await this.planChange(conversationId, options)
      : undefined;
    const onlyFrom = options.finishesLiveSession?.onlyFrom;
    const toRecord = (doc: ConversationDoc) => {
      const checked = checkIncomingDocument(doc, conversationId);
      if (!checked.ok) throw new InvalidInputError(checked.issues);
      return indexedAs(checked.record, options);
    };
    let record: ConversationRecord | undefined;
    try {
      record = await this.store.updateConversation(
        conversationId,
        (json) => {
          const stored = JSON.parse(json) as ConversationDoc;
          // Checked on the locked row (FOR UPDATE on PostgreSQL, SQLite's one writer), not on the
          // read that planned the deliveries: of concurrent finishers only the first gets through.
          if (onlyFrom && !onlyFrom.includes(String(stored.status))) throw new Unchanged(toRecord(stored));
          return toRecord(change(stored));
        },
        deliveries,
      );
    } catch (error) {
      // Another writer finished it first: nothing is written, and the record is as stored.
      if (error instanceof Unchanged) return error.record;
      throw error;
    }
    if (!record) throw new NotFoundError("conversation", conversationId);
    this.queued(deliveries);
    return record;
  }

  /**
   * Stores a conversation's audio. The bytes go to a new blob key of their own (never over the
   * blob a row names), then the row is switched to it in one statement and the blob it replaced
   * is deleted: the size and type a row records always describe the bytes at its key, and of
   * concurrent writers the last switch wins whole. This audio is one file: the speaker tracks of
   * a recording it replaces (`putRecording`) are cleared and their blobs deleted too. Throws
   * NotFoundError, keeping nothing, for an unknown conversation.
   */
  async putAudio(
    conversationId: string,
    body: Readable | Buffer,
    contentType: string,
  ): Promise<WrittenConversation> {
    const stored = await this.store.getConversation(conversationId);
    if (!stored) throw new NotFoundError("conversation", conversationId);
    const key = newAudioBlobKey(conversationId);
    const size = await this.blobs.put(key, body);
    const deliveries = await this.planAudio({ conversationId, agentId: agentIdOf(stored.json) });
    await this.switchAudio(conversationId, { blobKey: key, contentType, size }, { deliveries });
    return { json: stored.json, hasAudio: true };
  }

  /**
   * Stores a live call's recording as the conversation's audio: the mix of both speakers (what
   * `GET …/audio` serves) and each speaker's track on its own (`?track=user|agent`) when that
   * speaker was heard, all MP3, encoded off the event loop. The recording's audio is taken (it is
   * empty afterwards). Like `putAudio`, every blob gets a new key, the row is switched to all of
   * them in one step, and the blobs it replaced are deleted. A recording without any audio stores
   * nothing. Returns the flags the document is now served with. Throws NotFoundError, keeping
   * nothing, for an unknown conversation; an aborted `signal` rejects with its reason, keeping
   * nothing.
   */
  async putRecording(
    conversationId: string,
    recording: CallRecording,
    options: PutRecordingOptions = {},
  ): Promise<AudioFlags> {
    // Checked first, so an unknown conversation costs no encode.
    const stored = await this.store.getConversation(conversationId);
    if (!stored) throw new NotFoundError("conversation", conversationId);
    if (!recording.hasUser && !recording.hasAgent) return audioFlagsOf(stored.audio);
    const encoded = await encodeCallRecording(recording, options.signal);
    const audio = await storeRecordingBlobs(this.blobs, conversationId, encoded);
    await this.switchAudio(conversationId, audio);
    return audioFlagsOf(audio);
  }

  /**
   * Points a conversation at audio already in the blob store under a key of its own (audio that
   * arrived before its conversation); the blob it replaces is deleted. Throws NotFoundError for an
   * unknown conversation.
   */
  async attachAudio(conversationId: string, audio: AudioInfo): Promise<void> {
    let deliveries: NewOutgoingDelivery[] = [];
    if (this.webhooks?.relay) {
      const stored = await this.store.getConversation(conversationId);
      if (stored) deliveries = await this.planAudio({ conversationId, agentId: agentIdOf(stored.json) });
    }
    await this.switchAudio(conversationId, audio, { keepOnNotFound: true, deliveries });
  }

  /**
   * Switches the row to `audio` (the recording and its tracks) in one atomic store step and
   * deletes the blobs it replaced. Of concurrent writers (in this process or on other nodes) the
   * last switch wins whole, and every other blob is deleted by the writer that replaced it.
   */
  private async switchAudio(
    conversationId: string,
    audio: AudioInfo,
    options: { keepOnNotFound?: boolean; deliveries?: readonly NewOutgoingDelivery[] } = {},
  ): Promise<void> {
    let switched: Awaited<ReturnType<ConversationStore["setAudio"]>>;
    try {
      switched = await this.store.setAudio(conversationId, audio, options.deliveries);
    } catch (error) {
      // The row was not switched (the database refused): nothing names the new blobs.
      if (!options.keepOnNotFound) await this.deleteBlobs(audioBlobKeys(audio)).catch(() => undefined);
      throw error;
    }
    if (!switched) {
      // Deleted while the bytes arrived: nothing names them.
      if (!options.keepOnNotFound) await this.deleteBlobs(audioBlobKeys(audio));
      throw new NotFoundError("conversation", conversationId);
    }
    this.queued(options.deliveries);
    const { replaced } = switched;
    if (replaced) {
      const kept = new Set(audioBlobKeys(audio));
      await this.deleteBlobs(audioBlobKeys(replaced).filter((key) => !kept.has(key)));
    }
  }

  /** Deletes blobs one after another (a missing blob is not an error). */
  private async deleteBlobs(keys: readonly string[]): Promise<void> {
    for (const key of keys) await this.blobs.delete(key);
  }

  /**
   * Deletes a conversation with its audio (the recording and its speaker tracks) and uploaded
   * files; throws NotFoundError for an unknown one.
   */
  async deleteConversation(conversationId: string): Promise<void> {
    const deleted = await this.store.deleteConversation(conversationId);
    if (!deleted) throw new NotFoundError("conversation", conversationId);
    if (deleted.audio) await this.deleteBlobs(audioBlobKeys(deleted.audio));
    await this.deleteBlobs(deleted.fileBlobKeys ?? []);
  }
}

/**
 * Thrown from a change's callback to roll its transaction back: the stored status is not one the
 * change may finish from. It carries the record as stored, which `changeConversation` returns.
 */
class Unchanged extends Error {
  constructor(readonly record: ConversationRecord) {
    super("the stored status is not one this change finishes from");
  }
}

/** The `agent_id` of a stored document (null when it has none). */
function agentIdOf(json: string): string | null {
  const agentId = (JSON.parse(json) as ConversationDoc).agent_id;
  return typeof agentId === "string" && agentId !== "" ? agentId : null;
}
