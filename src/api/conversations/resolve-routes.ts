import type { FastifyInstance } from "fastify";
import {
  deriveReferenceConversationId,
  MAX_REFERENCE_LENGTH,
  normaliseReference,
} from "../../domain/conversation-reference.js";
import { NotFoundError } from "../../domain/errors.js";
import { renderStoredDocument } from "../../domain/stored-document.js";
import { audioFlagsOf } from "../../store/audio-info.js";
import type { ConversationStore } from "../../store/store.js";
import { ValidationFailed } from "../api-error.js";
import { ID_SCHEMA } from "../path-params.js";

/**
 * `GET /v1/convai/conversations/resolve`: a Slack message URL or Zendesk ticket URL, with an agent
 * id, to the conversation. A stored conversation of that agent whose
 * `metadata.async_metadata.external_link` is the same reference wins (newest first); otherwise
 * the id derived from the agent id and the reference (see conversation-reference.ts) is looked up.
 */
export async function resolveRoutes(
  app: FastifyInstance,
  deps: { conversationStore: ConversationStore },
): Promise<void> {
  const store = deps.conversationStore;

  app.get<{ Querystring: { agent_id: string; reference: string } }>(
    "/v1/convai/conversations/resolve",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            agent_id: ID_SCHEMA,
            reference: { type: "string", minLength: 1, maxLength: MAX_REFERENCE_LENGTH },
          },
          required: ["agent_id", "reference"],
        },
      },
    },
    async (request, reply) => {
      const { agent_id: agentId, reference } = request.query;
      const key = normaliseReference(reference);
      if (!key) {
        throw new ValidationFailed([
          {
            loc: ["query", "reference"],
            msg: "Expected a Slack message URL (https://<workspace>.slack.com/archives/<channel>/p<ts>) or a Zendesk ticket URL (https://<subdomain>.zendesk.com/agent/tickets/<id>)",
            type: "value_error",
          },
        ]);
      }
      const page = await store.listConversations({
        pageSize: 1,
        cursor: null,
        direction: "desc",
        agentId,
        anyOf: [{ kind: "reference", values: [key] }],
        evaluations: [],
        dataCollection: [],
        dynamicVariables: [],
      });
      const first = page.items[0];
      const conversationId = first
        ? String((JSON.parse(first.listItemJson) as { conversation_id: unknown }).conversation_id)
        : deriveReferenceConversationId(agentId, key);
      const stored = await store.getConversation(conversationId);
      const agentMatches =
        stored !== undefined && (JSON.parse(stored.json) as { agent_id?: unknown }).agent_id === agentId;
      if (!stored || !agentMatches) {
        throw new NotFoundError(
          "conversation",
          conversationId,
          `No conversation of agent ${agentId} was found for reference ${reference}.`,
        );
      }
      reply.type("application/json");
      return renderStoredDocument(stored.json, audioFlagsOf(stored.audio));
    },
  );
}
