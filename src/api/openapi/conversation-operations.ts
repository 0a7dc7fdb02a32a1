/**
 * The descriptions of upstream's conversations resource as this server serves it (upstream's own
 * OpenAPI document is the reference for these; docs/compatibility.md says where we differ and
 * what we add). Responses are the SDK's wire models.
 */
import { SEARCH_MODE_HEADER } from "../search/message-search-routes.js";
import {
  BINARY_SCHEMA,
  conversationResponse,
  errorResponses,
  jsonResponse,
  type OperationDoc,
} from "./response-docs.js";
import { wireModelRef } from "./wire-components.js";

const CONVERSATION = "/v1/convai/conversations/:conversation_id";
const NO_CONVERSATION = { 404: "No such conversation (`conversation_not_found`)." };
const EMPTY_OBJECT = jsonResponse("Done: `{}`.", { type: "object" });
const CONVERSATION_TAGS = jsonResponse("The conversation's tags.", {
  type: "object",
  properties: { conversation_id: { type: "string" }, tag_ids: { type: "array", items: { type: "string" } } },
  required: ["conversation_id", "tag_ids"],
});
const TAG = wireModelRef("ConversationTagResponseModel");
const SEARCH_PAGE = {
  ...jsonResponse("A page of hits.", wireModelRef("MessagesSearchResponse")),
  headers: {
    [SEARCH_MODE_HEADER]: {
      description: "Which search ran: `text` or `semantic` (an extension).",
      schema: { type: "string", enum: ["text", "semantic"] },
    },
  },
};
const ANALYSIS_ERRORS = errorResponses([400, 401, 404, 422, 502], {
  400: "No LLM provider is configured (`analysis_not_configured`): set OPENCONVAI_LLM_BASE_URL.",
  404: "No such conversation, or criterion the agent does not define.",
  502: "The LLM provider failed or answered unusably (`llm_provider_error`, `llm_invalid_output`); nothing was written.",
});

/** The descriptions of upstream's routes, by `METHOD /route/:param`. */
export const CONVERSATION_OPERATIONS: Record<string, OperationDoc> = {
  "GET /v1/convai/conversations": {
    tag: "Conversations",
    summary: "List conversations",
    description: "Every filter the SDK sends; also `parent_conversation_id` and `topic_ids` (extensions).",
    responses: {
      "200": jsonResponse("A page of conversations.", wireModelRef("GetConversationsPageResponseModel")),
      ...errorResponses([401, 422]),
    },
  },
  "GET /v1/convai/conversations/resolve": {
    tag: "Conversations",
    summary: "Resolve a Slack or Zendesk reference to a conversation",
    responses: {
      "200": conversationResponse("The conversation."),
      ...errorResponses([401, 404, 422], NO_CONVERSATION),
    },
  },
  [`GET ${CONVERSATION}`]: {
    tag: "Conversations",
    summary: "Get a conversation",
    description:
      "`format=opentelemetry` (an extension) adds `otlp_traces`, an OTLP/JSON trace of the conversation.",
    responses: {
      "200": conversationResponse("The stored conversation."),
      ...errorResponses([401, 404, 422], NO_CONVERSATION),
    },
  },
  [`DELETE ${CONVERSATION}`]: {
    tag: "Conversations",
    summary: "Delete a conversation",
    description: "Removes it with its audio, uploaded files and SIP log.",
    responses: { "200": EMPTY_OBJECT, ...errorResponses([401, 404, 422], NO_CONVERSATION) },
  },
  [`GET ${CONVERSATION}/summary`]: {
    tag: "Conversations",
    summary: "Get a conversation's summary",
    responses: {
      "200": jsonResponse("The summary.", wireModelRef("GetConversationSummaryResponseModel")),
      ...errorResponses([401, 404, 422], NO_CONVERSATION),
    },
  },
  [`GET ${CONVERSATION}/audio`]: {
    tag: "Conversations",
    summary: "Get a conversation's audio",
    description: "Served with the content type it was uploaded with; `Range` is supported.",
    responses: {
      "200": { description: "The recording.", content: { "audio/*": { schema: BINARY_SCHEMA } } },
      "206": { description: "The requested range.", content: { "audio/*": { schema: BINARY_SCHEMA } } },
      ...errorResponses([401, 404, 416, 422], {
        404: "No such conversation, or no audio (`audio_not_found`).",
      }),
    },
  },
  [`GET ${CONVERSATION}/sip-messages`]: {
    tag: "Conversations",
    summary: "Get a conversation's SIP log",
    responses: {
      "200": jsonResponse("A page of SIP messages.", wireModelRef("GetSipLogMessagesResponse")),
      ...errorResponses([401, 404, 422], NO_CONVERSATION),
    },
  },
  [`POST ${CONVERSATION}/feedback`]: {
    tag: "Conversations",
    summary: "Send feedback on a conversation",
    description: "Stored in `metadata.feedback`; the browser client's `rating` and `comment` are taken too.",
    responses: { "200": EMPTY_OBJECT, ...errorResponses([401, 404, 422], NO_CONVERSATION) },
  },
  [`POST ${CONVERSATION}/files`]: {
    tag: "Conversations",
    summary: "Upload a file to a conversation",
    requestBody: {
      description: "One multipart part named `file`: an image, a PDF or text.",
      content: {
        "multipart/form-data": {
          schema: { type: "object", properties: { file: BINARY_SCHEMA }, required: ["file"] },
        },
      },
    },
    responses: {
      "200": jsonResponse("Stored.", wireModelRef("ConvAiFileUploadResponseModel")),
      ...errorResponses([401, 404, 413, 415, 422], NO_CONVERSATION),
    },
  },
  [`DELETE ${CONVERSATION}/files/:file_id`]: {
    tag: "Conversations",
    summary: "Delete an uploaded file",
    responses: {
      "200": jsonResponse("Deleted.", wireModelRef("ConvAiFileUploadResponseModel")),
      ...errorResponses([401, 404, 409, 422], {
        404: "No such conversation or file.",
        409: "The transcript already uses the file (`file_in_use`).",
      }),
    },
  },
  [`POST ${CONVERSATION}/tags`]: {
    tag: "Conversations",
    summary: "Assign tags to a conversation",
    responses: {
      "200": CONVERSATION_TAGS,
      ...errorResponses([401, 404, 422], { 404: "No such conversation or tag." }),
    },
  },
  [`DELETE ${CONVERSATION}/tags/:tag_id`]: {
    tag: "Conversations",
    summary: "Unassign a tag from a conversation",
    responses: {
      "200": CONVERSATION_TAGS,
      ...errorResponses([401, 404, 422], { 404: "No such conversation or tag." }),
    },
  },
  "GET /v1/convai/tags": {
    tag: "Conversations",
    summary: "List tags",
    responses: {
      "200": jsonResponse("A page of tags.", wireModelRef("GetConversationTagsPageResponseModel")),
      ...errorResponses([401, 422]),
    },
  },
  "POST /v1/convai/tags": {
    tag: "Conversations",
    summary: "Create a tag",
    responses: { "200": jsonResponse("The new tag.", TAG), ...errorResponses([401, 422]) },
  },
  "GET /v1/convai/tags/:tag_id": {
    tag: "Conversations",
    summary: "Get a tag",
    responses: { "200": jsonResponse("The tag.", TAG), ...errorResponses([401, 404, 422]) },
  },
  "PATCH /v1/convai/tags/:tag_id": {
    tag: "Conversations",
    summary: "Update a tag",
    responses: { "200": jsonResponse("The updated tag.", TAG), ...errorResponses([401, 404, 422]) },
  },
  "DELETE /v1/convai/tags/:tag_id": {
    tag: "Conversations",
    summary: "Delete a tag",
    description: "Also unassigns it from every conversation.",
    responses: { "200": EMPTY_OBJECT, ...errorResponses([401, 404, 422]) },
  },
  "GET /v1/convai/agents/:agent_id/topics": {
    tag: "Conversations",
    summary: "Get an agent's topic report",
    description:
      "Topics defined with `PUT /ingest/v1/agents/{agent_id}/topics`; metrics from stored conversations.",
    responses: {
      "200": jsonResponse("The report.", wireModelRef("GetAgentTopicsResponseModel")),
      ...errorResponses([401, 404, 422], { 404: "The agent has no topic definitions (`topics_not_found`)." }),
    },
  },
  "GET /v1/convai/conversations/messages/text-search": {
    tag: "Conversations",
    summary: "Search messages by text",
    responses: { "200": SEARCH_PAGE, ...errorResponses([401, 422]) },
  },
  "GET /v1/convai/conversations/messages/smart-search": {
    tag: "Conversations",
    summary: "Search messages by meaning",
    description: "Semantic with an embeddings provider configured, else ranked text search.",
    responses: {
      "200": SEARCH_PAGE,
      ...errorResponses([401, 422, 502], {
        502: "The embeddings provider failed (`embeddings_provider_error`).",
      }),
    },
  },
  [`POST ${CONVERSATION}/analysis/run`]: {
    tag: "Conversations",
    summary: "Run post-call analysis",
    responses: { "200": conversationResponse("The conversation with its new analysis."), ...ANALYSIS_ERRORS },
  },
  [`POST ${CONVERSATION}/analysis/evaluations/run`]: {
    tag: "Conversations",
    summary: "Re-run one evaluation criterion",
    responses: { "200": conversationResponse("The conversation with the new result."), ...ANALYSIS_ERRORS },
  },
};
