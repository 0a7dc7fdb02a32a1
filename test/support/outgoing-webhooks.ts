/** Rows of the outgoing-webhook store for tests: an enabled HMAC webhook and a transcription delivery, with plain defaults. */
import type { NewOutgoingDelivery, WorkspaceWebhook } from "../../src/store/outgoing-webhook-store.js";

/** An enabled webhook with retries on and no failures; `change` overrides any field. */
export function testWebhook(webhookId: string, change: Partial<WorkspaceWebhook> = {}): WorkspaceWebhook {
  return {
    webhookId,
    name: webhookId,
    url: `https://receiver.example/${webhookId}`,
    secret: `wsec_${webhookId}`,
    authType: "hmac",
    isDisabled: false,
    isAutoDisabled: false,
    retryEnabled: true,
    requestHeaders: {},
    events: [],
    createdAtUnix: 1_700_000_000,
    mostRecentFailureErrorCode: null,
    mostRecentFailureTimestamp: null,
    consecutiveFailures: 0,
    lastSuccessAtMs: null,
    ...change,
  };
}

/**
 * A `post_call_transcription` delivery of its own conversation (`conv_<id>`) to `wh_1`, queued at
 * `createdAtMs` (its event timestamp the same second); `change` overrides any field.
 */
export function testDelivery(
  deliveryId: string,
  createdAtMs: number,
  change: Partial<NewOutgoingDelivery> = {},
): NewOutgoingDelivery {
  return {
    deliveryId,
    webhookId: "wh_1",
    eventType: "post_call_transcription",
    conversationId: `conv_${deliveryId}`,
    agentId: "agent_1",
    eventTimestamp: Math.floor(createdAtMs / 1000),
    payload: null,
    excludeTranscript: false,
    maxAttempts: 3,
    createdAtMs,
    ...change,
  };
}
