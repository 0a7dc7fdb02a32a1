import { type Readable, Transform } from "node:stream";
import type { FastifyInstance } from "fastify";
import { renderStoredDocument } from "../../domain/conversation.js";
import { ApiError, conversationNotFound, ValidationFailed } from "../api-error.js";
import type { AppServices } from "../app.js";

const params = {
  type: "object",
  properties: { conversation_id: { type: "string", minLength: 1, maxLength: 512 } },
  required: ["conversation_id"],
} as const;

function tooLarge(limit: number): ApiError {
  return new ApiError(
    413,
    "payload_too_large",
    `The request body is larger than the limit of ${limit} bytes.`,
  );
}

function audioRequired(): ValidationFailed {
  return new ValidationFailed([{ loc: ["body"], msg: "Audio bytes are required", type: "missing" }]);
}

/** Counts bytes as they stream through; fails once they pass the limit, or at the end if there were none. */
function limitBytes(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > limit ? tooLarge(limit) : null, chunk);
    },
    flush(callback) {
      callback(seen === 0 ? audioRequired() : null);
    },
  });
}

/** Our own ingest API (documented in docs/ingest.md): how conversations and audio get in. */
export async function ingestRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  const { db, ingest, limits } = services;

  app.put<{ Params: { conversation_id: string } }>(
    "/ingest/v1/conversations/:conversation_id",
    { schema: { params } },
    async (request, reply) => {
      const { conversation_id: id } = request.params;
      const outcome = await ingest.putConversation(id, request.body);
      const stored = await db.conversations.getConversation(id);
      if (!stored) throw conversationNotFound(id);
      reply.code(outcome === "created" ? 201 : 200).type("application/json");
      return renderStoredDocument(stored.json, { hasAudio: stored.audio !== null });
    },
  );

  // Audio is streamed to the blob store as it arrives, so it gets its own body handling.
  await app.register(async (audio) => {
    audio.removeAllContentTypeParsers();
    audio.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    audio.put<{ Params: { conversation_id: string } }>(
      "/ingest/v1/conversations/:conversation_id/audio",
      { schema: { params } },
      async (request, reply) => {
        const { conversation_id: id } = request.params;
        const body = request.body as Readable | undefined;
        // Whatever of the upload is left unread must not be parsed as the next request on the
        // connection, so an answer given before the end of the body closes the connection.
        const closeIfUnread = () => {
          if (body && !body.readableEnded) reply.header("connection", "close");
        };
        const declared = Number(request.headers["content-length"] ?? 0);
        if (declared > limits.audioBytes) {
          closeIfUnread();
          throw tooLarge(limits.audioBytes);
        }
        const contentType =
          (request.headers["content-type"] ?? "audio/mpeg").split(";")[0]?.trim() || "audio/mpeg";
        // A chunked upload has no Content-Length: an empty one is caught as the bytes stream through.
        if (!body || request.headers["content-length"] === "0") throw audioRequired();
        const stream = limitBytes(limits.audioBytes);
        // Bytes flow (and may pass the limit) before the blob store starts reading: until then no
        // one listens for errors. The stream stays errored, so the blob store's pipeline still
        // fails with the error when it attaches; this listener only keeps it from being uncaught.
        stream.on("error", () => {});
        body.on("error", (error) => stream.destroy(error));
        body.pipe(stream);
        let ok: boolean;
        try {
          ok = await ingest.putAudio(id, stream, contentType);
        } catch (error) {
          closeIfUnread();
          throw error;
        }
        if (!ok) {
          closeIfUnread();
          throw conversationNotFound(id);
        }
        const stored = await db.conversations.getConversation(id);
        if (!stored) throw conversationNotFound(id);
        reply.type("application/json");
        return renderStoredDocument(stored.json, { hasAudio: stored.audio !== null });
      },
    );
  });
}
