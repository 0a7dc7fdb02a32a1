/**
 * Applies ElevenLabs post-call webhooks once their signature has been checked: transcriptions
 * become conversations, audio becomes the conversation's recording, failed call initiations become
 * failed conversations. Anything else is kept in the dead-letter table. Every delivery is recorded
 * by the SHA-256 of its body, so a redelivery is answered without being applied twice.
 */
import { createHash } from "node:crypto";
import { newAudioBlobKey } from "../blobs/blob-keys.js";
import type { BlobStore } from "../blobs/blob-store.js";
import type { ConversationService } from "../conversations/conversation-service.js";
import { parseJson } from "../conversations/parse-json.js";
import { describeIssues, InvalidInputError, NotFoundError } from "../domain/errors.js";
import { MAX_ID_LENGTH, unstorableIdReason } from "../domain/id-length.js";
import type { ConversationStore } from "../store/store.js";
import type { WebhookOutcome, WebhookStore } from "../store/webhook-store.js";

/** What a delivery led to; `duplicate` when the same body was received before. */
export interface WebhookReceipt {
  outcome: WebhookOutcome | "duplicate";
  type: string;
  conversationId: string | null;
  /** For a dead letter: why it could not be applied. */
  reason?: string;
}

/** What the receiver reads and writes. */
export interface WebhookReceiverDeps {
  /** Deliveries, dead letters and audio that arrived before its conversation. */
  webhooks: WebhookStore;
  conversationStore: ConversationStore;
  /** Every conversation write goes through it. */
  conversations: ConversationService;
  /** Audio that arrives before its conversation is kept here until the transcription comes. */
  blobs: BlobStore;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** An id as the HTTP paths accept it: 1–512 characters that every backend can store as they are. */
function validId(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= MAX_ID_LENGTH &&
    unstorableIdReason(value) === undefined
  );
}

/**
 * Text kept in a dead letter with each NUL shown as U+FFFD: PostgreSQL text cannot hold a NUL, and
 * both backends keep the same text. The delivery is still recognised by the hash of its raw bytes.
 */
function storableText(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}

const INVALID_ID =
  "data.conversation_id is missing or invalid: send 1 to 512 characters of well-formed Unicode without NUL, as the ingest API accepts.";

/** Applies verified webhook bodies to the store (see the module comment). */
export class WebhookReceiver {
  constructor(
    private readonly deps: WebhookReceiverDeps,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** Applies one raw (already verified) body; resolves once what it carries is stored. */
  async receive(rawBody: Buffer): Promise<WebhookReceipt> {
    const bodySha256 = createHash("sha256").update(rawBody).digest("hex");
    const seen = await this.deps.webhooks.findDelivery(bodySha256);
    // The answer names the conversation a delivery stored: a dead letter stored none.
    if (seen)
      return {
        outcome: "duplicate",
        type: seen.type,
        conversationId: seen.outcome === "dead_letter" ? null : seen.conversationId,
      };

    let envelope: Record<string, unknown> | undefined;
    try {
      envelope = asObject(parseJson(rawBody.toString("utf8")));
    } catch {
      envelope = undefined;
    }
    const type = typeof envelope?.type === "string" ? storableText(envelope.type) : "(none)";
    // Set once `data` is read: a dead letter keeps the payload's conversation id when it is usable.
    let conversationId: string | undefined;
    const deadLetter = async (why: string): Promise<WebhookReceipt> => {
      const reason = storableText(why);
      await this.deps.webhooks.addDeadLetter({
        bodySha256,
        type,
        conversationId,
        reason,
        body: storableText(rawBody.toString("utf8")),
        receivedAtUnixSecs: this.now(),
      });
      return { outcome: "dead_letter", type, conversationId: null, reason };
    };
    if (!envelope) return deadLetter("The body is not a JSON object.");
    const data = asObject(envelope.data);
    if (!data) return deadLetter("The body has no `data` object.");
    if (validId(data.conversation_id)) conversationId = data.conversation_id;

    let receipt: WebhookReceipt;
    switch (type) {
      case "post_call_transcription":
        receipt = await this.applyTranscription(data, deadLetter);
        break;
      case "post_call_audio":
        receipt = await this.applyAudio(data, deadLetter);
        break;
      case "call_initiation_failure":
        receipt = await this.applyInitiationFailure(data, envelope.event_timestamp, deadLetter);
        break;
      default:
        return deadLetter(`Unknown webhook event type "${type}".`);
    }
    if (receipt.outcome !== "dead_letter") {
      await this.deps.webhooks.recordDelivery({
        bodySha256,
        type,
        conversationId: receipt.conversationId,
        outcome: receipt.outcome as WebhookOutcome,
        receivedAtUnixSecs: this.now(),
      });
    }
    return receipt;
  }

  private async applyTranscription(
    data: Record<string, unknown>,
    deadLetter: (reason: string) => Promise<WebhookReceipt>,
  ): Promise<WebhookReceipt> {
    if (!validId(data.conversation_id)) return deadLetter(INVALID_ID);
    const invalid = await this.put(data);
    if (invalid) return deadLetter(`Invalid conversation document: ${invalid}`);
    const id = data.conversation_id;
    await this.settlePendingAudio(id);
    return { outcome: "stored", type: "post_call_transcription", conversationId: id };
  }

  private async applyAudio(
    data: Record<string, unknown>,
    deadLetter: (reason: string) => Promise<WebhookReceipt>,
  ): Promise<WebhookReceipt> {
    const id = data.conversation_id;
    if (!validId(id)) return deadLetter(INVALID_ID);
    if (typeof data.full_audio !== "string" || data.full_audio.length === 0) {
      return deadLetter("data.full_audio is missing or empty.");
    }
    const bytes = Buffer.from(data.full_audio, "base64");
    if (bytes.length === 0) return deadLetter("data.full_audio is not base64.");
    try {
      await this.deps.conversations.putAudio(id, bytes, "audio/mpeg");
      return { outcome: "stored", type: "post_call_audio", conversationId: id };
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    // The transcription has not arrived yet: keep the bytes under a key of their own and remember
    // them; the transcription attaches them when it comes. A newer pending recording replaces this one.
    const blobKey = newAudioBlobKey(id);
    const size = await this.deps.blobs.put(blobKey, bytes);
    const replaced = await this.deps.webhooks.getPendingAudio(id);
    await this.deps.webhooks.putPendingAudio({
      conversationId: id,
      audio: { blobKey, contentType: "audio/mpeg", size },
      receivedAtUnixSecs: this.now(),
    });
    if (replaced && replaced.audio.blobKey !== blobKey) await this.deps.blobs.delete(replaced.audio.blobKey);
    // The transcription may have been stored while the bytes were written; it would have missed them.
    const settled = await this.settlePendingAudio(id);
    if (settled === "waiting")
      return { outcome: "audio_pending", type: "post_call_audio", conversationId: id };
    return {
      outcome: settled === "attached" ? "stored" : "ignored",
      type: "post_call_audio",
      conversationId: id,
    };
  }

  private async applyInitiationFailure(
    data: Record<string, unknown>,
    eventTimestamp: unknown,
    deadLetter: (reason: string) => Promise<WebhookReceipt>,
  ): Promise<WebhookReceipt> {
    const id = data.conversation_id;
    if (!validId(id)) return deadLetter(INVALID_ID);
    if (typeof data.agent_id !== "string" || data.agent_id.length === 0) {
      return deadLetter("data.agent_id is missing or invalid.");
    }
    // A conversation that exists (the call went ahead after all, or this is old news) is kept as it is.
    if (await this.deps.conversationStore.getConversation(id)) {
      return { outcome: "ignored", type: "call_initiation_failure", conversationId: id };
    }
    const failureReason = typeof data.failure_reason === "string" ? data.failure_reason : null;
    const start =
      typeof eventTimestamp === "number" && Number.isFinite(eventTimestamp)
        ? Math.floor(eventTimestamp)
        : this.now();
    const doc: Record<string, unknown> = {
      agent_id: data.agent_id,
      conversation_id: id,
      status: "failed",
      ...(typeof data.user_id === "string" ? { user_id: data.user_id } : {}),
      transcript: [],
      metadata: {
        start_time_unix_secs: start,
        call_duration_secs: 0,
        termination_reason: failureReason ?? "call_initiation_failure",
        // The payload as it came: the failure reason and the provider's metadata (e.g. Twilio's callback).
        call_initiation_failure: { failure_reason: failureReason, metadata: data.metadata ?? null },
      },
    };
    const invalid = await this.put(doc);
    if (invalid) return deadLetter(`Invalid failure payload: ${invalid}`);
    return { outcome: "stored", type: "call_initiation_failure", conversationId: id };
  }

  /** Writes a document from a delivery (issues located under `data`); returns what is wrong with it, if anything. */
  private async put(doc: Record<string, unknown>): Promise<string | undefined> {
    try {
      await this.deps.conversations.putConversation(doc, { loc: ["data"] });
      return undefined;
    } catch (error) {
      if (error instanceof InvalidInputError) return describeIssues(error.issues);
      throw error;
    }
  }

  /**
   * Settles the audio that arrived before its conversation, once the conversation exists: attached
   * when the conversation has no audio yet, dropped (record and blob) when it already has some,
   * which came later (an upload through the ingest API). "waiting" while there is no conversation.
   */
  private async settlePendingAudio(conversationId: string): Promise<"attached" | "superseded" | "waiting"> {
    const pending = await this.deps.webhooks.getPendingAudio(conversationId);
    if (!pending) return "waiting";
    const stored = await this.deps.conversationStore.getConversation(conversationId);
    if (!stored) return "waiting";
    if (stored.audio) {
      await this.deps.webhooks.deletePendingAudio(conversationId);
      // A record of the older layout may share the row's key: never delete the served blob.
      if (pending.audio.blobKey !== stored.audio.blobKey) await this.deps.blobs.delete(pending.audio.blobKey);
      return "superseded";
    }
    try {
      await this.deps.conversations.attachAudio(conversationId, pending.audio);
    } catch (error) {
      if (error instanceof NotFoundError) return "waiting";
      throw error;
    }
    await this.deps.webhooks.deletePendingAudio(conversationId);
    return "attached";
  }
}
