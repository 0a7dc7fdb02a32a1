/** The building blocks of the operation descriptions: responses, error envelopes, media types. */
import { wireModelRef } from "./wire-components.js";

/** An OpenAPI response object. */
export interface ResponseDoc {
  description: string;
  content?: Record<string, { schema: unknown }>;
  headers?: Record<string, { description: string; schema: unknown }>;
}

/** The description of one operation (a method and path) beyond what its route schemas say. */
export interface OperationDoc {
  summary: string;
  description?: string;
  /** `Ingest` (our own ingest API), `Conversations` and `Agents` (upstream's, with our extensions) or `Server`. */
  tag: "Ingest" | "Conversations" | "Agents" | "Webhooks" | "Server";
  /** Who may call it: an API key unless said otherwise. */
  auth?: "none" | "webhook_signature";
  /** The request body, for a route that reads and checks its body in code rather than with a route schema. */
  requestBody?: { description: string; required?: boolean; content: Record<string, { schema: unknown }> };
  responses: Record<string, ResponseDoc>;
}

/** Upstream's envelope of every error but a 422, as the component `ErrorResponse`. */
export const ERROR_RESPONSE_SCHEMA = {
  type: "object",
  description: 'Every error but a 422: `{"detail":{"status":"<code>","message":"<what to do next>"}}`.',
  properties: {
    detail: {
      type: "object",
      properties: {
        status: { type: "string", description: "A machine-readable code, e.g. `conversation_not_found`." },
        message: { type: "string", description: "What went wrong and what to do next." },
      },
      required: ["status", "message"],
    },
  },
  required: ["detail"],
} as const;

/** A JSON response with the given schema. */
export function jsonResponse(description: string, schema: unknown): ResponseDoc {
  return { description, content: { "application/json": { schema } } };
}

/** A reference to the document's own error envelope component. */
const ERROR_REF = { $ref: "#/components/schemas/ErrorResponse" };

/** What each error status means across the API (the codes the error handler sends). */
const ERROR_MEANINGS: Record<number, string> = {
  400: "The request cannot be served as sent (`invalid_request`, or a feature that is not configured).",
  401: "Missing or wrong `xi-api-key` (`invalid_api_key`).",
  404: "Not found (`conversation_not_found`, …).",
  408: "The request did not arrive in time (`request_timeout`).",
  409: "Conflict with the stored state.",
  413: "The body is over its size limit (`payload_too_large`); the connection is closed.",
  415: "The body's type is not accepted (`unsupported_media_type`).",
  416: "The `Range` cannot be served (`range_not_satisfiable`).",
  502: "A configured model provider failed; nothing was written.",
  503: "Not configured on this server, or (PostgreSQL) a query ran past the statement timeout (`query_timeout`).",
};

/**
 * The error responses of an operation: 422 is upstream's validation body (HttpValidationError),
 * every other status the `{"detail":{"status","message"}}` envelope. `meanings` overrides the
 * general description of a status for this operation.
 */
export function errorResponses(
  statuses: readonly number[],
  meanings: Record<number, string> = {},
): Record<string, ResponseDoc> {
  const out: Record<string, ResponseDoc> = {};
  for (const status of statuses) {
    out[String(status)] =
      status === 422
        ? jsonResponse(
            meanings[422] ?? 'Validation failed: `{"detail":[{"loc","msg","type"}]}`, as FastAPI answers.',
            wireModelRef("HttpValidationError"),
          )
        : jsonResponse(meanings[status] ?? ERROR_MEANINGS[status] ?? "Error.", ERROR_REF);
  }
  return out;
}

/** A stored conversation, as `GET /v1/convai/conversations/{id}` serves it. */
export function conversationResponse(description: string): ResponseDoc {
  return jsonResponse(description, wireModelRef("GetConversationResponseModel"));
}

/** Raw bytes of any media type (audio uploads and downloads). */
export const BINARY_SCHEMA = { type: "string", format: "binary" } as const;
