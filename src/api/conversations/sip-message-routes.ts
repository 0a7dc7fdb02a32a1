import type { FastifyInstance } from "fastify";
import { NotFoundError } from "../../domain/errors.js";
import type { SipMessageStore } from "../../store/sip-message-store.js";
import type { ConversationStore } from "../../store/store.js";
import { invalidCursor } from "../api-error.js";
import { type ConversationIdParam, conversationIdParams, integerParam } from "../path-params.js";

/** Encodes the SIP message cursor: the last message's position in the log, opaque to clients. */
function encodeSipCursor(position: number): string {
  return Buffer.from(JSON.stringify(["sip", position])).toString("base64url");
}

/** Decodes a SIP message cursor, or throws a 422. */
function decodeSipCursor(cursor: string): number {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value[0] === "sip" && Number.isSafeInteger(value[1]))
      return value[1] as number;
  } catch {
    // reported below
  }
  throw invalidCursor();
}

/** `GET /v1/convai/conversations/{id}/sip-messages`: the SIP log put through ingest, a page at a time. */
export async function sipMessageRoutes(
  app: FastifyInstance,
  deps: { conversationStore: ConversationStore; sipMessages: SipMessageStore },
): Promise<void> {
  const { conversationStore, sipMessages } = deps;

  app.get<{ Params: ConversationIdParam; Querystring: { page_size: number; cursor?: string } }>(
    "/v1/convai/conversations/:conversation_id/sip-messages",
    {
      schema: {
        params: conversationIdParams,
        querystring: {
          type: "object",
          properties: {
            page_size: integerParam({ minimum: 1, maximum: 1000, default: 100 }),
            cursor: { type: "string", maxLength: 256 },
          },
        },
      },
    },
    async (request, reply) => {
      const { conversation_id: id } = request.params;
      const { page_size: pageSize, cursor } = request.query;
      const after = cursor ? decodeSipCursor(cursor) : null;
      if (!(await conversationStore.getConversation(id))) throw new NotFoundError("conversation", id);
      const rows = await sipMessages.listSipMessages(id, after, pageSize + 1);
      const hasMore = rows.length > pageSize;
      const page = rows.slice(0, pageSize);
      const last = page[page.length - 1];
      const next = hasMore && last ? JSON.stringify(encodeSipCursor(last.position)) : "null";
      reply.type("application/json");
      // The messages are served as they were stored (wire JSON), without re-serialising them.
      return `{"sip_messages":[${page.map((r) => r.json).join(",")}],"has_more":${hasMore},"next_cursor":${next}}`;
    },
  );
}
