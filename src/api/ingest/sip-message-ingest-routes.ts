import type { FastifyInstance } from "fastify";
import { NotFoundError } from "../../domain/errors.js";
import type { SipMessageStore } from "../../store/sip-message-store.js";
import { type ConversationIdParam, conversationIdParams } from "../path-params.js";

/** The most SIP messages one conversation's log may hold. */
export const MAX_SIP_MESSAGES = 10_000;

const SHORT = { type: "string", maxLength: 1024 } as const;

/** SipLogMessage as upstream serves it (every key required); unknown keys are kept. */
const sipMessageSchema = {
  type: "object",
  properties: {
    call_id: SHORT,
    phone_numbers: { type: "array", items: { type: "string", maxLength: 256 }, maxItems: 32 },
    local_address: SHORT,
    remote_address: SHORT,
    transport: SHORT,
    raw_message: { type: "string", maxLength: 65_536 },
    error_message: { type: "string", maxLength: 65_536 },
    // The SDK accepts directions it does not know, so any short string is kept.
    direction: { type: "string", maxLength: 32 },
    created_at_unix_micro: { type: "number" },
  },
  required: [
    "call_id",
    "phone_numbers",
    "local_address",
    "remote_address",
    "transport",
    "raw_message",
    "error_message",
    "direction",
    "created_at_unix_micro",
  ],
} as const;

/** `PUT /ingest/v1/conversations/{id}/sip-messages`: replaces a conversation's SIP log (docs/ingest.md). */
export async function sipMessageIngestRoutes(
  app: FastifyInstance,
  deps: { sipMessages: SipMessageStore },
): Promise<void> {
  app.put<{ Params: ConversationIdParam; Body: Record<string, unknown>[] }>(
    "/ingest/v1/conversations/:conversation_id/sip-messages",
    {
      schema: {
        params: conversationIdParams,
        body: { type: "array", items: sipMessageSchema, maxItems: MAX_SIP_MESSAGES },
      },
    },
    async (request) => {
      const { conversation_id: id } = request.params;
      // Log order is time order; messages with the same time keep the order they were sent in.
      const messages = request.body
        .map((message, i) => ({ message, i }))
        .sort(
          (a, b) =>
            (a.message.created_at_unix_micro as number) - (b.message.created_at_unix_micro as number) ||
            a.i - b.i,
        )
        .map(({ message }) => JSON.stringify(message));
      if ((await deps.sipMessages.replaceSipMessages(id, messages)) === undefined) {
        throw new NotFoundError("conversation", id);
      }
      return { conversation_id: id, sip_message_count: messages.length };
    },
  );
}
