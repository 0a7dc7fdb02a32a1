/**
 * The descriptions of upstream's Agents API as this server serves it (src/api/agents/). Bodies are
 * checked by the agent service, so they are described from the schemas it validates with.
 */
import { agentDocumentSchema, duplicateBodySchema } from "../../agents/agent-schema.js";
import { errorResponses, jsonResponse, type OperationDoc } from "./response-docs.js";

const AGENT = "/v1/convai/agents/:agent_id";
const NO_AGENT = { 404: "No such agent (`agent_not_found`): list the agents to find its id." };

/** An agent as GET answers it: its id, the stored document, and the server's metadata. */
const AGENT_ANSWER = jsonResponse("The agent.", {
  type: "object",
  properties: {
    agent_id: { type: "string" },
    ...agentDocumentSchema.properties,
    name: { type: "string" },
    metadata: {
      type: "object",
      properties: { created_at_unix_secs: { type: "integer" }, updated_at_unix_secs: { type: "integer" } },
      required: ["created_at_unix_secs", "updated_at_unix_secs"],
    },
  },
  required: ["agent_id", "name", "conversation_config", "metadata"],
});

const AGENT_ID_ANSWER = jsonResponse("The new agent's id.", {
  type: "object",
  properties: { agent_id: { type: "string" } },
  required: ["agent_id"],
});

const AGENT_SUMMARY = {
  type: "object",
  properties: {
    agent_id: { type: "string" },
    name: { type: "string" },
    voice_id: { type: "string" },
    tags: { type: "array", items: { type: "string" } },
    created_at_unix_secs: { type: "integer" },
    access_info: { type: "object" },
    archived: { type: "boolean" },
  },
  required: ["agent_id", "name", "tags", "created_at_unix_secs", "access_info"],
};

/** The descriptions of the agent routes, by `METHOD /route/:param`. */
export const AGENT_OPERATIONS: Record<string, OperationDoc> = {
  "POST /v1/convai/agents/create": {
    tag: "Agents",
    summary: "Create an agent",
    description: "The agent document is stored as sent; keys the schema does not name are kept.",
    requestBody: {
      description: "The agent document.",
      content: { "application/json": { schema: agentDocumentSchema } },
    },
    responses: { "200": AGENT_ID_ANSWER, ...errorResponses([401, 413, 422]) },
  },
  "GET /v1/convai/agents": {
    tag: "Agents",
    summary: "List agents",
    responses: {
      "200": jsonResponse("A page of agents, newest first.", {
        type: "object",
        properties: {
          agents: { type: "array", items: AGENT_SUMMARY },
          next_cursor: { type: ["string", "null"] },
          has_more: { type: "boolean" },
        },
        required: ["agents", "has_more"],
      }),
      ...errorResponses([401, 422]),
    },
  },
  [`GET ${AGENT}`]: {
    tag: "Agents",
    summary: "Get an agent",
    responses: { "200": AGENT_ANSWER, ...errorResponses([401, 404, 422], NO_AGENT) },
  },
  [`PATCH ${AGENT}`]: {
    tag: "Agents",
    summary: "Update an agent",
    description:
      "The body is merged into the stored document key by key (an array, a scalar or null replaces what " +
      "was there); the result must still be a valid agent document.",
    requestBody: {
      description: "The keys to change.",
      content: {
        "application/json": { schema: { type: "object", properties: agentDocumentSchema.properties } },
      },
    },
    responses: { "200": AGENT_ANSWER, ...errorResponses([401, 404, 413, 422], NO_AGENT) },
  },
  [`DELETE ${AGENT}`]: {
    tag: "Agents",
    summary: "Delete an agent",
    responses: {
      "200": jsonResponse("Deleted: `{}`.", { type: "object" }),
      ...errorResponses([401, 404, 422], NO_AGENT),
    },
  },
  [`POST ${AGENT}/duplicate`]: {
    tag: "Agents",
    summary: "Duplicate an agent",
    requestBody: {
      description: "An optional name for the copy.",
      required: false,
      content: { "application/json": { schema: duplicateBodySchema } },
    },
    responses: { "200": AGENT_ID_ANSWER, ...errorResponses([401, 404, 413, 422], NO_AGENT) },
  },
};
