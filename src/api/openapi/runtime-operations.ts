/**
 * The descriptions of the live-conversation HTTP endpoints (src/api/runtime/): signed URLs and
 * the WebRTC token endpoint, which this server answers with an explanation.
 */
import {
  SIGNED_URL_PATHS,
  WEBRTC_NOT_SUPPORTED,
  WEBRTC_NOT_SUPPORTED_MESSAGE,
  WEBRTC_TOKEN_PATH,
} from "../runtime/signed-url-routes.js";
import { errorResponses, jsonResponse, type OperationDoc, type ResponseDoc } from "./response-docs.js";

const NO_AGENT = { 404: "No such agent (`agent_not_found`): list the agents to find its id." };

const SIGNED_URL_ANSWER = jsonResponse(
  "A WebSocket URL for the agent: `ws(s)://<public origin>/v1/convai/conversation?agent_id=…&conversation_signature=…`, " +
    "valid for 15 minutes on every node of the deployment.",
  {
    type: "object",
    properties: { signed_url: { type: "string" } },
    required: ["signed_url"],
  },
);

const SIGNED_URL_DESCRIPTION =
  "The origin is OPENCONVAI_PUBLIC_URL when set, else the request's `X-Forwarded-Proto`/`X-Forwarded-Host` or " +
  "`Host` (http becomes ws, https wss). The signature covers the agent, its expiry and a nonce, not the URL, so " +
  "the parameters clients append (`source`, `version`, `environment`) do not break it. With " +
  "`include_conversation_id=true` it is single-use and fixes the id of the conversation it starts. " +
  "`branch_id`, `version_id`, `environment` and `debug_events_request` are accepted and ignored.";

function signedUrlOperation(summary: string): OperationDoc {
  return {
    tag: "Conversations",
    summary,
    description: SIGNED_URL_DESCRIPTION,
    responses: { "200": SIGNED_URL_ANSWER, ...errorResponses([400, 401, 404, 422], NO_AGENT) },
  };
}

const TOKEN_ERROR: ResponseDoc = jsonResponse(
  `Always, with \`status\` \`${WEBRTC_NOT_SUPPORTED.code}\` and the message: ${WEBRTC_NOT_SUPPORTED_MESSAGE}`,
  { $ref: "#/components/schemas/ErrorResponse" },
);

/** The descriptions of the signed-URL and token routes, by `METHOD /route`. */
export const RUNTIME_OPERATIONS: Record<string, OperationDoc> = {
  [`GET ${SIGNED_URL_PATHS[0]}`]: signedUrlOperation("Get a signed URL for a conversation with an agent"),
  [`GET ${SIGNED_URL_PATHS[1]}`]: signedUrlOperation(
    "Get a signed URL (the older spelling of get-signed-url)",
  ),
  [`GET ${WEBRTC_TOKEN_PATH}`]: {
    tag: "Conversations",
    summary: "Get a WebRTC conversation token (not supported: use the WebSocket)",
    description:
      "This server speaks the conversation WebSocket only, so this endpoint always answers " +
      `${WEBRTC_NOT_SUPPORTED.status} \`${WEBRTC_NOT_SUPPORTED.code}\` with how to connect instead. It needs no API ` +
      "key: the browser client calls it without one.",
    auth: "none",
    responses: { [String(WEBRTC_NOT_SUPPORTED.status)]: TOKEN_ERROR, ...errorResponses([422]) },
  },
};
