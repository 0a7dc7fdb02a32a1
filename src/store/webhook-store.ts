import type { AudioInfo } from "./audio-info.js";

/** What happened to one webhook delivery. */
export type WebhookOutcome = "stored" | "audio_pending" | "ignored" | "dead_letter";

/** A received webhook delivery, recorded so that a redelivery is recognised and not applied twice. */
export interface WebhookDelivery {
  /** SHA-256 (hex) of the raw body: the same event redelivered has the same body. */
  bodySha256: string;
  type: string;
  conversationId: string | null;
  outcome: WebhookOutcome;
  receivedAtUnixSecs: number;
}

/** A delivery that could not be applied (unknown event type, invalid payload), kept as it arrived. */
export interface DeadLetter {
  bodySha256: string;
  type: string;
  /** The payload's `data.conversation_id`, when it has one that can be stored; absent otherwise. */
  conversationId?: string;
  reason: string;
  /** The raw body as received (UTF-8 text). */
  body: string;
  receivedAtUnixSecs: number;
}

/** Audio that arrived before its conversation: the bytes are in the blob store, waiting for the transcript. */
export interface PendingAudio {
  conversationId: string;
  audio: AudioInfo;
  receivedAtUnixSecs: number;
}

/** Webhook bookkeeping: deliveries seen, dead letters, audio waiting for its conversation. */
export interface WebhookStore {
  /** The recorded delivery with this body hash; undefined if there is none. */
  findDelivery(bodySha256: string): Promise<WebhookDelivery | undefined>;
  /** Records a delivery; recording the same hash again keeps the first record. */
  recordDelivery(delivery: WebhookDelivery): Promise<void>;
  /**
   * Keeps a dead letter and records its delivery (with its conversation id), in one transaction;
   * the same hash again is a no-op.
   */
  addDeadLetter(letter: DeadLetter): Promise<void>;
  /** Dead letters, oldest first, each with the conversation id recorded with its delivery. */
  listDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Records (or replaces) the pending audio of a conversation. */
  putPendingAudio(pending: PendingAudio): Promise<void>;
  /** The audio waiting for a conversation; undefined if there is none. */
  getPendingAudio(conversationId: string): Promise<PendingAudio | undefined>;
  deletePendingAudio(conversationId: string): Promise<void>;
  /** Pending audio, oldest first. */
  listPendingAudio(limit: number): Promise<PendingAudio[]>;
}
