import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AgentService } from "../../agents/agent-service.js";
import { NotFoundError } from "../../domain/errors.js";
import { createConversationSignature } from "../../runtime/conversation-signature.js";
import type { ConversationSignatureStore } from "../../store/conversation-signature-store.js";
import { ApiError } from "../api-error.js";
import { ID_SCHEMA } from "../path-params.js";
import type { PublicRoutes } from "../public-routes.js";

/** Where signed URLs are issued; `get_signed_url` is the older spelling upstream still answers. */
export const SIGNED_URL_PATHS = [
  "/v1/convai/conversation/get-signed-url",
  "/v1/convai/conversation/get_signed_url",
] as const;

/** Where upstream issues WebRTC (LiveKit) conversation tokens; answered here with an explanation. */
export const WEBRTC_TOKEN_PATH = "/v1/convai/conversation/token";

/** The path of the conversation WebSocket a signed URL points at. */
const CONVERSATION_SOCKET_PATH = "/v1/convai/conversation";

/** The status and code of the token endpoint's answer (docs/live-conversations.md). */
export const WEBRTC_NOT_SUPPORTED = { status: 501, code: "webrtc_not_supported" } as const;

/** The token endpoint's message: what this server speaks, and how a client asks for it. */
export const WEBRTC_NOT_SUPPORTED_MESSAGE =
  "This server speaks the conversation WebSocket, not WebRTC, so it issues no conversation tokens. " +
  'Start the session over the WebSocket: with @elevenlabs/client pass connectionType: "websocket" ' +
  "(and origin: this server's URL) to startSession, or pass a signedUrl from " +
  "GET /v1/convai/conversation/get-signed-url.";

/** What the signed-URL routes use. */
export interface SignedUrlRoutesDeps {
  agents: AgentService;
  signatures: ConversationSignatureStore;
  /** OPENCONVAI_PUBLIC_URL (an http(s) origin); unset, the origin is read from the request. */
  publicUrl: string | undefined;
  /** Routes the auth hook lets through without an API key: the token route is added to it. */
  publicRoutes: PublicRoutes;
}

interface SignedUrlQuery {
  agent_id: string;
  include_conversation_id?: boolean;
}

/** A query text the SDK may send and this server accepts and ignores (one branch, no versions). */
const IGNORED_TEXT = { type: "string", maxLength: 512 } as const;

const signedUrlQuery = {
  type: "object",
  required: ["agent_id"],
  properties: {
    agent_id: ID_SCHEMA,
    include_conversation_id: { type: "boolean", default: false },
    branch_id: IGNORED_TEXT,
    version_id: IGNORED_TEXT,
    environment: IGNORED_TEXT,
    debug_events_request: { type: "boolean" },
  },
} as const;

const tokenQuery = {
  type: "object",
  required: ["agent_id"],
  properties: {
    agent_id: ID_SCHEMA,
    participant_name: IGNORED_TEXT,
    branch_id: IGNORED_TEXT,
    version_id: IGNORED_TEXT,
    environment: IGNORED_TEXT,
    debug_events_request: { type: "boolean" },
  },
} as const;

/** The first value of a header that may repeat or be a comma-separated list (proxies append). */
function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const first = (Array.isArray(value) ? value[0] : value)?.split(",")[0]?.trim();
  return first === "" ? undefined : first;
}

/** A `host[:port]` as a URL's authority, or undefined for anything else (a path, userinfo, spaces). */
function parseHost(value: string | undefined): string | undefined {
  if (value === undefined || !/^[A-Za-z0-9.\-[\]:]+$/.test(value)) return undefined;
  try {
    const url = new URL(`http://${value}`);
    return url.host === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * The WebSocket origin a signed URL points at: OPENCONVAI_PUBLIC_URL when set, else the request's
 * `X-Forwarded-Proto` / `X-Forwarded-Host` (as a proxy in front sets them), else its own scheme and
 * `Host`; http becomes ws and https wss.
 */
export function socketOrigin(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl !== undefined) {
    const url = new URL(publicUrl);
    return `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`;
  }
  const forwardedProto = firstHeaderValue(request.headers["x-forwarded-proto"])?.toLowerCase();
  const proto =
    forwardedProto === "https" || forwardedProto === "wss"
      ? "https"
      : forwardedProto === "http" || forwardedProto === "ws"
        ? "http"
        : request.protocol;
  const host =
    parseHost(firstHeaderValue(request.headers["x-forwarded-host"])) ??
    parseHost(firstHeaderValue(request.headers.host));
  if (host === undefined) {
    throw new ApiError(
      400,
      "invalid_request",
      "The request names no usable host to build the signed URL from: send a Host header, or set " +
        "OPENCONVAI_PUBLIC_URL to the server's public URL (e.g. https://convai.example.com).",
    );
  }
  return `${proto === "https" ? "wss" : "ws"}://${host}`;
}

/**
 * Signed URLs (`GET /v1/convai/conversation/get-signed-url`, and `get_signed_url`): a WebSocket URL
 * for the agent carrying a `conversation_signature` that any node of the deployment accepts for 15
 * minutes. And the WebRTC token endpoint, which this server answers with an error that says how to
 * connect instead (it is served without a key: the browser client calls it with none).
 */
export async function signedUrlRoutes(app: FastifyInstance, deps: SignedUrlRoutesDeps): Promise<void> {
  const { agents, signatures, publicUrl } = deps;

  const issue = async (request: FastifyRequest<{ Querystring: SignedUrlQuery }>) => {
    const { agent_id: agentId, include_conversation_id: includeConversationId } = request.query;
    if ((await agents.getAgent(agentId)) === undefined) {
      throw new NotFoundError(
        "agent",
        agentId,
        `Agent ${agentId} was not found. List the agents with GET /v1/convai/agents to find its id.`,
      );
    }
    const origin = socketOrigin(request, publicUrl);
    const issued = await createConversationSignature(signatures, { agentId, includeConversationId });
    const query = new URLSearchParams({ agent_id: agentId, conversation_signature: issued.signature });
    return { signed_url: `${origin}${CONVERSATION_SOCKET_PATH}?${query}` };
  };
  for (const path of SIGNED_URL_PATHS) {
    app.get<{ Querystring: SignedUrlQuery }>(path, { schema: { querystring: signedUrlQuery } }, issue);
  }

  app.get(WEBRTC_TOKEN_PATH, { schema: { querystring: tokenQuery } }, async (_request, reply: FastifyReply) =>
    reply.code(WEBRTC_NOT_SUPPORTED.status).send({
      detail: { status: WEBRTC_NOT_SUPPORTED.code, message: WEBRTC_NOT_SUPPORTED_MESSAGE },
    }),
  );
  deps.publicRoutes.add("GET", WEBRTC_TOKEN_PATH);
}
