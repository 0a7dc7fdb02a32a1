import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { WebhookReceiver, type WebhookReceiverDeps } from "../../ingest/webhook-receiver.js";
import {
  parseSignatureHeader,
  type SignatureHeader,
  type SignatureSettings,
  StreamingSignatureVerifier,
} from "../../ingest/webhook-signature.js";
import { ApiError, bodyTooLarge } from "../api-error.js";

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
  /** Where bodies are spooled while their signature is checked; each file is removed afterwards. */
  tempDir: string;
}

/** The signature header each delivery was admitted with (checked in onRequest, used by the handler). */
const admitted = new WeakMap<FastifyRequest, SignatureHeader>();

/** Answers without reading the body: the connection is closed so its unread bytes are never parsed. */
function refuseUnread(reply: FastifyReply, error: ApiError): ApiError {
  reply.header("connection", "close");
  return error;
}

/**
 * Streams a body to a temporary file while it is authenticated, so no body is ever held in memory
 * before it is known to be signed: the limit is enforced as bytes arrive, the HMAC is computed
 * incrementally, and only a verified body is read back. The file is always removed.
 */
async function readVerifiedBody(
  source: Readable,
  verifier: StreamingSignatureVerifier,
  bodyLimit: number,
  tempDir: string,
  reply: FastifyReply,
): Promise<Buffer> {
  await mkdir(tempDir, { recursive: true });
  const file = path.join(tempDir, `webhook-${randomUUID()}.tmp`);
  try {
    let size = 0;
    // The request is read through an iterator that leaves it open when the loop stops early, so a
    // 413 can still be answered on its socket (destroying the request would close the socket).
    async function* checkedChunks(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > bodyLimit) throw refuseUnread(reply, bodyTooLarge(bodyLimit, "webhook body"));
          verifier.update(chunk);
          yield chunk;
        }
      } catch (error) {
        if (error instanceof ApiError) throw error;
        // The client went away (or was timed out) mid-body: its fault, not the server's.
        throw new ApiError(400, "invalid_request", "The webhook body ended early; send it again.", {
          cause: error,
        });
      }
    }
    await pipeline(checkedChunks, createWriteStream(file));
    const check = verifier.check();
    if (!check.ok) throw new ApiError(401, "invalid_signature", check.reason);
    return await readFile(file);
  } finally {
    await rm(file, { force: true });
  }
}

/** The ElevenLabs post-call webhook receiver (docs/keeping-your-elevenlabs-conversations.md). */
export async function webhookRoutes(app: FastifyInstance, deps: WebhookRoutesDeps): Promise<void> {
  const settings: SignatureSettings = deps.settings ?? { secrets: [], toleranceSecs: 1800 };
  const receiver = new WebhookReceiver(deps);
  const bodyLimit = webhookBodyLimit(deps.limits);

  // The signature covers the exact bytes sent, so the body is never parsed by the framework: the
  // handler streams it (readVerifiedBody), whatever its content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));

  // Everything that can be decided without the body is decided before a byte of it is read.
  app.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.url !== ELEVENLABS_WEBHOOK_PATH) return;
    if (settings.secrets.length === 0) {
      throw refuseUnread(
        reply,
        new ApiError(
          503,
          "webhooks_not_configured",
          "Webhooks are not configured: set OPENCONVAI_WEBHOOK_SECRETS to the ElevenLabs webhook secret " +
            "(several, comma-separated, while rotating) and restart the server.",
        ),
      );
    }
    const header = request.headers["elevenlabs-signature"];
    const parsed = parseSignatureHeader(Array.isArray(header) ? header[0] : header, settings);
    if (!parsed.ok) throw refuseUnread(reply, new ApiError(401, "invalid_signature", parsed.reason));
    const announced = Number(request.headers["content-length"] ?? 0);
    if (announced > bodyLimit) throw refuseUnread(reply, bodyTooLarge(bodyLimit, "webhook body"));
    admitted.set(request, parsed.header);
  });

  // The error handler names the body in its 413 after `bodyName`, with this route's limit.
  app.post(
    ELEVENLABS_WEBHOOK_PATH,
    { bodyLimit, config: { bodyName: "webhook body" } },
    async (request, reply) => {
      const header = admitted.get(request);
      if (!header) throw new ApiError(401, "invalid_signature", "Missing ElevenLabs-Signature header.");
      const verifier = new StreamingSignatureVerifier(header, settings.secrets);
      const raw = await readVerifiedBody(request.raw, verifier, bodyLimit, deps.tempDir, reply);
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
    },
  );
}
