import { Transform } from "node:stream";
import type { FastifyInstance } from "fastify";
import { ApiError, conversationNotFound, ValidationFailed } from "../api/api-error.js";
import type { AppServices } from "../api/app.js";
import { renderStoredDocument } from "../domain/conversation.js";

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

/** Counts bytes as they stream through and fails once they pass the limit. */
function limitBytes(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > limit ? tooLarge(limit) : null, chunk);
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
        const declared = Number(request.headers["content-length"] ?? 0);
        if (declared > limits.audioBytes) throw tooLarge(limits.audioBytes);
        const contentType =
          (request.headers["content-type"] ?? "audio/mpeg").split(";")[0]?.trim() || "audio/mpeg";
        const body = request.body as NodeJS.ReadableStream | undefined;
        if (!body || declared === 0) {
          throw new ValidationFailed([{ loc: ["body"], msg: "Audio bytes are required", type: "missing" }]);
        }
        const stream = (body as import("node:stream").Readable).pipe(limitBytes(limits.audioBytes));
        body.on("error", (error) => stream.destroy(error));
        const ok = await ingest.putAudio(id, stream, contentType);
        if (!ok) throw conversationNotFound(id);
        const stored = await db.conversations.getConversation(id);
        if (!stored) throw conversationNotFound(id);
        reply.type("application/json");
        return renderStoredDocument(stored.json, { hasAudio: stored.audio !== null });
      },
    );
  });
}
