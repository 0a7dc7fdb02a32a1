import type { FastifyInstance } from "fastify";
import { conversationNotFound } from "../api-error.js";
import type { AppServices } from "../app.js";

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

const params = {
  type: "object",
  properties: { conversation_id: { type: "string", minLength: 1, maxLength: 512 } },
  required: ["conversation_id"],
} as const;

/** `PUT /ingest/v1/conversations/{id}/sip-messages`: replaces a conversation's SIP log (docs/ingest.md). */
export async function sipMessageIngestRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  const { db } = services;

  app.put<{ Params: { conversation_id: string }; Body: Record<string, unknown>[] }>(
    "/ingest/v1/conversations/:conversation_id/sip-messages",
    {
      schema: {
        params,
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
      if ((await db.sipMessages.replaceSipMessages(id, messages)) === undefined)
        throw conversationNotFound(id);
      return { conversation_id: id, sip_message_count: messages.length };
    },
  );
}
