import type { NewOutgoingDelivery } from "../store/outgoing-webhook-store.js";

/** The conversation an event is about. */
export interface ConversationRef {
  conversationId: string;
  agentId: string | null;
}

/**
 * Why a conversation write queues webhooks: `live`, a session served here ended; `relay`, a
 * conversation arrived from elsewhere (ingest, import, sync, the ElevenLabs webhook receiver),
 * which queues webhooks only in relay mode.
 */
export type WebhookOrigin = "live" | "relay";

/**
 * Plans the post-call webhooks a conversation write queues in its own transaction (the outbox),
 * from the workspace's ConvAI settings and the agent's `workspace_overrides` (src/webhooks-out/
 * implements it). Every method answers [] when nothing is to be sent.
 */
export interface PostCallWebhooks {
  /** Relay mode is on: conversations from elsewhere queue webhooks too. */
  readonly relay: boolean;
  /**
   * A finished conversation (`done` or `failed`): its transcription (`post_call_transcription`,
   * or `_otel` with `transcript_format: opentelemetry`), and, when `expectAudio` and the audio
   * event is on, its audio (`post_call_audio`, queued after the transcription, sent once the
   * recording is stored).
   */
  planFinished(
    conversation: ConversationRef,
    origin: WebhookOrigin,
    options?: { expectAudio?: boolean },
  ): Promise<NewOutgoingDelivery[]>;
  /** A conversation's audio was stored (relay mode: `post_call_audio`). */
  planAudio(conversation: ConversationRef, origin: WebhookOrigin): Promise<NewOutgoingDelivery[]>;
  /** A write queued deliveries: send them now rather than at the next poll. */
  notify(): void;
}

/** Why a live session could not start, as the `call_initiation_failure` webhook tells it. */
export interface InitiationFailure {
  agentId: string | null;
  conversationId: string | null;
  /** A short machine-readable reason: `auth_failed`, `origin_not_allowed`, `override_error`, `missing_dynamic_variable`, `capacity`. */
  failureReason: string;
  /** What went with it: `{ type: "websocket", body: { close_code, close_reason } }`. */
  metadata: { type: string; body: Record<string, unknown> };
}

/** Queues `call_initiation_failure` webhooks (src/webhooks-out/ implements it). */
export interface InitiationFailureReporter {
  /** Queues the failure's webhooks (none when the event is off); never throws (failures are logged). */
  report(failure: InitiationFailure): Promise<void>;
}
