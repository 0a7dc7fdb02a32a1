import { type Readable, Transform } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { ConversationService } from "../../conversations/conversation-service.js";
import { renderStoredDocument } from "../../domain/stored-document.js";
import { bodyTooLarge, ValidationFailed } from "../api-error.js";
import { type ConversationIdParam, conversationIdParams } from "../path-params.js";

/** What the ingest routes use. */
export interface IngestRoutesDeps {
  conversations: ConversationService;
  limits: { audioBytes: number };
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
      callback(seen > limit ? bodyTooLarge(limit) : null, chunk);
    },
    flush(callback) {
      callback(seen === 0 ? audioRequired() : null);
    },
  });
}

/** Our own ingest API (documented in docs/ingest.md): how conversations and audio get in. */
export async function ingestRoutes(app: FastifyInstance, deps: IngestRoutesDeps): Promise<void> {
  const { conversations, limits } = deps;

  app.put<{ Params: ConversationIdParam }>(
    "/ingest/v1/conversations/:conversation_id",
    { schema: { params: conversationIdParams } },
    async (request, reply) => {
      const written = await conversations.putConversation(request.body, {
        conversationId: request.params.conversation_id,
      });
      reply.code(written.outcome === "created" ? 201 : 200).type("application/json");
      return renderStoredDocument(written.json, written);
    },
  );

  // Audio is streamed to the blob store as it arrives, so it gets its own body handling.
  await app.register(async (audio) => {
    audio.removeAllContentTypeParsers();
    audio.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    audio.put<{ Params: ConversationIdParam }>(
      "/ingest/v1/conversations/:conversation_id/audio",
      { schema: { params: conversationIdParams } },
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
          throw bodyTooLarge(limits.audioBytes);
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
        try {
          const written = await conversations.putAudio(id, stream, contentType);
          reply.type("application/json");
          return renderStoredDocument(written.json, written);
        } catch (error) {
          closeIfUnread();
          throw error;
        }
      },
    );
  });
}
