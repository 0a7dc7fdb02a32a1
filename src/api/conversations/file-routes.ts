import { randomBytes } from "node:crypto";
import multipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";
import { fileBlobKey } from "../../blobs/blob-keys.js";
import type { BlobStore } from "../../blobs/blob-store.js";
import type { ConversationDoc } from "../../domain/conversation.js";
import { NotFoundError } from "../../domain/errors.js";
import type { ConversationFileStore } from "../../store/file-store.js";
import type { ConversationStore } from "../../store/store.js";
import { ApiError, bodyTooLarge, ValidationFailed } from "../api-error.js";
import { type ConversationIdParam, conversationIdParams, idParams } from "../path-params.js";

/** What the file routes use. */
export interface FileRoutesDeps {
  conversationStore: ConversationStore;
  files: ConversationFileStore;
  blobs: BlobStore;
  limits: { fileBytes: number };
}

/**
 * The file types a conversation accepts (upstream: "an image, PDF, or text file"), by MIME type,
 * with the extensions that stand for them when a part is sent as `application/octet-stream`.
 */
export const ALLOWED_FILE_TYPES: Readonly<Record<string, readonly string[]>> = {
  "image/png": [".png"],
  "image/jpeg": [".jpg", ".jpeg"],
  "image/gif": [".gif"],
  "image/webp": [".webp"],
  "application/pdf": [".pdf"],
  "text/plain": [".txt"],
  "text/markdown": [".md", ".markdown"],
  "text/csv": [".csv"],
};

/** Picks the allowed MIME type of an upload from its part type, or its file name's extension. */
function allowedTypeOf(mimetype: string, filename: string | undefined): string | undefined {
  const declared = mimetype.split(";")[0]?.trim().toLowerCase() ?? "";
  if (declared in ALLOWED_FILE_TYPES) return declared;
  if (declared !== "" && declared !== "application/octet-stream") return undefined;
  const extension = /\.[^.]+$/.exec((filename ?? "").toLowerCase())?.[0];
  if (!extension) return undefined;
  return Object.entries(ALLOWED_FILE_TYPES).find(([, exts]) => exts.includes(extension))?.[0];
}

const fileParams = idParams("conversation_id", "file_id");

/** Room for the multipart framing around the file: boundaries, part headers, up to ten small fields. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

function fileRequired(): ValidationFailed {
  return new ValidationFailed([{ loc: ["body", "file"], msg: "Field required", type: "missing" }]);
}

/**
 * Maps what can go wrong while reading a multipart body to upstream's envelopes: the parser's
 * limits are 413s, a body the parser cannot read is a 422; anything else (the disk) stays a 500.
 */
function toUploadError(error: unknown, fileBytes: number): unknown {
  if (error instanceof ApiError || error instanceof ValidationFailed) return error;
  const code = (error as { code?: unknown }).code;
  if (code === "FST_REQ_FILE_TOO_LARGE") {
    return bodyTooLarge(fileBytes, "file");
  }
  if (typeof code === "string" && /^FST_(PARTS|FILES|FIELDS)_LIMIT$/.test(code)) {
    return new ApiError(
      413,
      "payload_too_large",
      "The multipart body has more parts than accepted (one file, ten fields).",
    );
  }
  // Node's system errors carry a syscall; the multipart parser's errors do not.
  if (error instanceof Error && (error as NodeJS.ErrnoException).syscall === undefined) {
    return new ValidationFailed([
      { loc: ["body"], msg: `Malformed multipart body: ${error.message}`, type: "value_error" },
    ]);
  }
  return error;
}

/** Whether the document's transcript refers to the file (`transcript[].file_inputs[].file_id`). */
function isFileUsed(doc: ConversationDoc, fileId: string): boolean {
  for (const entry of Array.isArray(doc.transcript) ? doc.transcript : []) {
    const inputs = (entry as Record<string, unknown> | null)?.file_inputs;
    if (!Array.isArray(inputs)) continue;
    if (inputs.some((input) => (input as Record<string, unknown> | null)?.file_id === fileId)) return true;
  }
  return false;
}

/** `POST /v1/convai/conversations/{id}/files` (multipart upload) and `DELETE …/files/{file_id}`. */
export async function fileRoutes(app: FastifyInstance, deps: FileRoutesDeps): Promise<void> {
  const { conversationStore, files, blobs, limits } = deps;

  // Multipart parsing only in this scope: the rest of the API keeps its JSON-only body parsing.
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: {
        fileSize: limits.fileBytes,
        files: 1,
        fields: 10,
        fieldSize: 1024,
        parts: 20,
        headerPairs: 100,
      },
    });

    // A body that announces more than the file limit (plus framing) is refused before it is read,
    // and the connection is closed so its unread bytes are never parsed.
    scope.addHook("onRequest", async (request, reply) => {
      const announced = Number(request.headers["content-length"] ?? 0);
      if (announced > limits.fileBytes + MULTIPART_OVERHEAD_BYTES) {
        reply.header("connection", "close");
        throw bodyTooLarge(limits.fileBytes, "file");
      }
    });

    scope.post<{ Params: ConversationIdParam }>(
      "/v1/convai/conversations/:conversation_id/files",
      { schema: { params: conversationIdParams } },
      async (request, reply) => {
        const { conversation_id: id } = request.params;
        if (!request.isMultipart()) throw fileRequired();
        const closeIfUnread = () => reply.header("connection", "close");
        if (!(await conversationStore.getConversation(id))) {
          closeIfUnread();
          throw new NotFoundError("conversation", id);
        }
        let part: Awaited<ReturnType<typeof request.file>>;
        try {
          part = await request.file();
        } catch (error) {
          closeIfUnread();
          throw toUploadError(error, limits.fileBytes);
        }
        if (part?.fieldname !== "file") {
          part?.file.resume();
          closeIfUnread();
          throw fileRequired();
        }
        const contentType = allowedTypeOf(part.mimetype, part.filename);
        if (!contentType) {
          part.file.resume();
          closeIfUnread();
          throw new ApiError(
            415,
            "unsupported_media_type",
            `Files of type ${part.mimetype || "unknown"} are not accepted; send one of ${Object.keys(ALLOWED_FILE_TYPES).join(", ")}.`,
          );
        }
        const fileId = `file_${randomBytes(12).toString("hex")}`;
        const key = fileBlobKey(id, fileId);
        let size: number;
        try {
          size = await blobs.put(key, part.file);
        } catch (error) {
          closeIfUnread();
          // The blob store removes its temporary file; a failed write keeps nothing.
          throw toUploadError(error, limits.fileBytes);
        }
        if (part.file.truncated) {
          await blobs.delete(key);
          closeIfUnread();
          throw bodyTooLarge(limits.fileBytes, "file");
        }
        if (size === 0) {
          await blobs.delete(key);
          throw new ValidationFailed([
            { loc: ["body", "file"], msg: "The file is empty", type: "value_error" },
          ]);
        }
        const stored = await files.insertFile({
          fileId,
          conversationId: id,
          blobKey: key,
          fileName: part.filename ? part.filename.slice(0, 512) : null,
          contentType,
          size,
          createdAtUnixSecs: Math.floor(Date.now() / 1000),
        });
        if (!stored) {
          // The conversation was deleted while the bytes arrived.
          await blobs.delete(key);
          throw new NotFoundError("conversation", id);
        }
        return { file_id: fileId };
      },
    );
  });

  app.delete<{ Params: { conversation_id: string; file_id: string } }>(
    "/v1/convai/conversations/:conversation_id/files/:file_id",
    { schema: { params: fileParams } },
    async (request) => {
      const { conversation_id: id, file_id: fileId } = request.params;
      const conversation = await conversationStore.getConversation(id);
      if (!conversation) throw new NotFoundError("conversation", id);
      if (!(await files.getFile(id, fileId))) {
        throw new NotFoundError("file", fileId, `Conversation ${id} has no file ${fileId}.`);
      }
      // Upstream only removes a file the conversation has not used yet.
      if (isFileUsed(JSON.parse(conversation.json) as ConversationDoc, fileId)) {
        throw new ApiError(409, "file_in_use", `File ${fileId} is already used in conversation ${id}.`);
      }
      const removed = await files.deleteFile(id, fileId);
      if (!removed) throw new NotFoundError("file", fileId, `Conversation ${id} has no file ${fileId}.`);
      await blobs.delete(removed.blobKey);
      return { file_id: fileId };
    },
  );
}
