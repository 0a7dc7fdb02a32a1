import type { FastifyInstance } from "fastify";
import { WebhookReceiver, type WebhookReceiverDeps } from "../../ingest/webhook-receiver.js";
import { type SignatureSettings, verifyWebhookSignature } from "../../ingest/webhook-signature.js";
import { ApiError } from "../api-error.js";

/** Where ElevenLabs posts its webhooks; authenticated by signature, not by API key. */
export const ELEVENLABS_WEBHOOK_PATH = "/ingest/v1/webhooks/elevenlabs";

const MIB = 1024 * 1024;
/** A JSON string over this size cannot be parsed in one piece by V8, so it is the webhook body ceiling. */
const MAX_WEBHOOK_BODY_BYTES = 500 * MIB;

/** The largest webhook body: base64 audio of OPENCONVAI_MAX_AUDIO_BYTES plus a JSON document, capped. */
export function webhookBodyLimit(limits: { jsonBytes: number; audioBytes: number }): number {
  return Math.min(Math.ceil((limits.audioBytes * 4) / 3) + limits.jsonBytes, MAX_WEBHOOK_BODY_BYTES);
}

/** What the webhook receiver route uses. */
export interface WebhookRoutesDeps extends WebhookReceiverDeps {
  limits: { jsonBytes: number; audioBytes: number };
  /** Secrets and tolerance; without secrets every delivery is answered 503. */
  settings: SignatureSettings | undefined;
}

/** The ElevenLabs post-call webhook receiver (docs/keeping-your-elevenlabs-conversations.md). */
export async function webhookRoutes(app: FastifyInstance, deps: WebhookRoutesDeps): Promise<void> {
  const settings: SignatureSettings = deps.settings ?? { secrets: [], toleranceSecs: 1800 };
  const receiver = new WebhookReceiver(deps);
  const bodyLimit = webhookBodyLimit(deps.limits);

  // The signature covers the exact bytes sent, so the body is kept raw, whatever its content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (_request, body, done) => done(null, body));

  // Checked before the body is read: without secrets no delivery can be verified.
  app.addHook("onRequest", async () => {
    if (settings.secrets.length === 0) {
      throw new ApiError(
        503,
        "webhooks_not_configured",
        "Webhooks are not configured: set OPENCONVAI_WEBHOOK_SECRETS to the ElevenLabs webhook secret " +
          "(several, comma-separated, while rotating) and restart the server.",
      );
    }
  });

  // The error handler names the body in its 413 after `bodyName`, with this route's limit.
  app.post(ELEVENLABS_WEBHOOK_PATH, { bodyLimit, config: { bodyName: "webhook body" } }, async (request) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const header = request.headers["elevenlabs-signature"];
    const check = verifyWebhookSignature(raw, Array.isArray(header) ? header[0] : header, settings);
    if (!check.ok) throw new ApiError(401, "invalid_signature", check.reason);
    const receipt = await receiver.receive(raw);
    if (receipt.outcome === "dead_letter") {
      request.log.warn({ type: receipt.type, reason: receipt.reason }, "webhook kept as a dead letter");
    }
    return {
      status: receipt.outcome,
      type: receipt.type,
      conversation_id: receipt.conversationId,
      ...(receipt.reason ? { reason: receipt.reason } : {}),
    };
  });
}
