import type { FastifyInstance } from "fastify";
import type { ConversationService } from "../../conversations/conversation-service.js";
import { applyFeedback, type FeedbackChange } from "../../domain/feedback.js";
import { type ConversationIdParam, conversationIdParams } from "../path-params.js";

/** The longest feedback comment accepted, in characters. */
export const MAX_FEEDBACK_COMMENT_LENGTH = 10_000;

/** ConversationFeedbackRequestModel, plus the rating form the browser client sends to the same path. */
// compat: `rating` and `comment` are not in the SDK's request model; @elevenlabs/client posts them
// here (its rating form), and upstream stores them in metadata.feedback, so they are accepted.
const feedbackBodySchema = {
  type: "object",
  properties: {
    feedback: { type: ["string", "null"], enum: ["like", "dislike", null] },
    rating: { type: ["number", "null"], minimum: 1, maximum: 5 },
    comment: { type: ["string", "null"], maxLength: MAX_FEEDBACK_COMMENT_LENGTH },
  },
} as const;

/** `POST /v1/convai/conversations/{id}/feedback`: stores feedback in the document's `metadata.feedback`. */
export async function feedbackRoutes(
  app: FastifyInstance,
  deps: { conversations: ConversationService },
): Promise<void> {
  app.post<{ Params: ConversationIdParam; Body: FeedbackChange | undefined }>(
    "/v1/convai/conversations/:conversation_id/feedback",
    { schema: { params: conversationIdParams, body: feedbackBodySchema } },
    async (request) => {
      const { conversation_id: id } = request.params;
      const change: FeedbackChange = {};
      for (const key of ["feedback", "rating", "comment"] as const) {
        if (request.body && key in request.body) (change as Record<string, unknown>)[key] = request.body[key];
      }
      await deps.conversations.changeConversation(id, (doc) => {
        const metadata = doc.metadata as Record<string, unknown>;
        const current = metadata.feedback;
        metadata.feedback = applyFeedback(
          current !== null && typeof current === "object" && !Array.isArray(current)
            ? (current as Record<string, unknown>)
            : undefined,
          change,
        );
        return doc;
      });
      // The SDK does not read this body; `{}` is what DELETE conversation answers too.
      return {};
    },
  );
}
