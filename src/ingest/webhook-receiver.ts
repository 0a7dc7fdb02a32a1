/**
 * Applies ElevenLabs post-call webhooks once their signature has been checked: transcriptions
 * become conversations, audio becomes the conversation's recording, failed call initiations become
 * failed conversations. Anything else is kept in the dead-letter table. Every delivery is recorded
 * by the SHA-256 of its body, so a redelivery is answered without being applied twice.
 */
import { createHash } from "node:crypto";
import type { ValidationIssue } from "../api/api-error.js";
import { audioBlobKey } from "../blobs/blob-keys.js";
import type { BlobStore } from "../blobs/blob-store.js";
import { checkIncomingDocument, type IngestService } from "../conversations/conversation-service.js";
import type { Database } from "../store/store.js";
import type { WebhookOutcome } from "../store/webhook-store.js";

/** What a delivery led to; `duplicate` when the same body was received before. */
export interface WebhookReceipt {
  outcome: WebhookOutcome | "duplicate";
  type: string;
  conversationId: string | null;
  /** For a dead letter: why it could not be applied. */
  reason?: string;
}

const MAX_CONVERSATION_ID_LENGTH = 512;

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function describeIssues(issues: ValidationIssue[]): string {
  return issues.map((i) => `${i.loc.join(".")}: ${i.msg}`).join("; ");
}

function validId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_CONVERSATION_ID_LENGTH;
}

/** Applies verified webhook bodies to the store (see the module comment). */
export class WebhookReceiver {
  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
    private readonly ingest: IngestService,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** Applies one raw (already verified) body; resolves once what it carries is stored. */
  async receive(rawBody: Buffer): Promise<WebhookReceipt> {
    const bodySha256 = createHash("sha256").update(rawBody).digest("hex");
    const seen = await this.db.webhooks.findDelivery(bodySha256);
    if (seen) return { outcome: "duplicate", type: seen.type, conversationId: seen.conversationId };

    let envelope: Record<string, unknown> | undefined;
    try {
      envelope = asObject(JSON.parse(rawBody.toString("utf8")));
    } catch {
      envelope = undefined;
    }
    const type = typeof envelope?.type === "string" ? envelope.type : "(none)";
    const deadLetter = async (reason: string): Promise<WebhookReceipt> => {
      await this.db.webhooks.addDeadLetter({
        bodySha256,
        type,
        reason,
        body: rawBody.toString("utf8"),
        receivedAtUnixSecs: this.now(),
      });
      return { outcome: "dead_letter", type, conversationId: null, reason };
    };
    if (!envelope) return deadLetter("The body is not a JSON object.");
    const data = asObject(envelope.data);
    if (!data) return deadLetter("The body has no `data` object.");

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
      await this.db.webhooks.recordDelivery({
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
    if (!validId(data.conversation_id)) return deadLetter("data.conversation_id is missing or invalid.");
    const checked = checkIncomingDocument(data, undefined, ["data"]);
    if (!checked.ok) return deadLetter(`Invalid conversation document: ${describeIssues(checked.issues)}`);
    await this.ingest.putRecords([checked.record]);
    const id = data.conversation_id;
    await this.attachPendingAudio(id);
    return { outcome: "stored", type: "post_call_transcription", conversationId: id };
  }

  private async applyAudio(
    data: Record<string, unknown>,
    deadLetter: (reason: string) => Promise<WebhookReceipt>,
  ): Promise<WebhookReceipt> {
    const id = data.conversation_id;
    if (!validId(id)) return deadLetter("data.conversation_id is missing or invalid.");
    if (typeof data.full_audio !== "string" || data.full_audio.length === 0) {
      return deadLetter("data.full_audio is missing or empty.");
    }
    const bytes = Buffer.from(data.full_audio, "base64");
    if (bytes.length === 0) return deadLetter("data.full_audio is not base64.");
    if (await this.ingest.putAudio(id, bytes, "audio/mpeg")) {
      return { outcome: "stored", type: "post_call_audio", conversationId: id };
    }
    // The transcription has not arrived yet: keep the bytes where the conversation's audio goes
    // and remember them; the transcription attaches them when it comes.
    const blobKey = audioBlobKey(id);
    const size = await this.blobs.put(blobKey, bytes);
    await this.db.webhooks.putPendingAudio({
      conversationId: id,
      audio: { blobKey, contentType: "audio/mpeg", size },
      receivedAtUnixSecs: this.now(),
    });
    // The transcription may have been stored while the bytes were written; it would have missed them.
    if (await this.attachPendingAudio(id)) {
      return { outcome: "stored", type: "post_call_audio", conversationId: id };
    }
    return { outcome: "audio_pending", type: "post_call_audio", conversationId: id };
  }

  private async applyInitiationFailure(
    data: Record<string, unknown>,
    eventTimestamp: unknown,
    deadLetter: (reason: string) => Promise<WebhookReceipt>,
  ): Promise<WebhookReceipt> {
    const id = data.conversation_id;
    if (!validId(id)) return deadLetter("data.conversation_id is missing or invalid.");
    if (typeof data.agent_id !== "string" || data.agent_id.length === 0) {
      return deadLetter("data.agent_id is missing or invalid.");
    }
    // A conversation that exists (the call went ahead after all, or this is old news) is kept as it is.
    if (await this.db.conversations.getConversation(id)) {
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
    const checked = checkIncomingDocument(doc, undefined, ["data"]);
    if (!checked.ok) return deadLetter(`Invalid failure payload: ${describeIssues(checked.issues)}`);
    await this.ingest.putRecords([checked.record]);
    return { outcome: "stored", type: "call_initiation_failure", conversationId: id };
  }

  /** Points a conversation at audio that arrived before it; true when there was some and it is attached now. */
  private async attachPendingAudio(conversationId: string): Promise<boolean> {
    const pending = await this.db.webhooks.getPendingAudio(conversationId);
    if (!pending) return false;
    if (!(await this.db.conversations.setAudio(conversationId, pending.audio))) return false;
    await this.db.webhooks.deletePendingAudio(conversationId);
    return true;
  }
}
