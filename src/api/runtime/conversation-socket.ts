import type { WebsocketPluginOptions } from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import type { RawData, WebSocket } from "ws";
import type { AgentService } from "../../agents/agent-service.js";
import type { ApiKeyService } from "../../auth/api-keys.js";
import type { ConversationService } from "../../conversations/conversation-service.js";
import type { Brain } from "../../runtime/brain.js";
import { type ClientEvent, parseClientFrame } from "../../runtime/client-frames.js";
import { type Clock, systemClock } from "../../runtime/clock.js";
import { ConversationSession, type SessionLifecycle } from "../../runtime/conversation-session.js";
import { verifyConversationSignature } from "../../runtime/conversation-signature.js";
import { DevelopmentAgent } from "../../runtime/development-agent.js";
import { CloseCode, fitCloseReason } from "../../runtime/server-frames.js";
import type { SessionTimings } from "../../runtime/session-setup.js";
import type { ConversationSignatureStore } from "../../store/conversation-signature-store.js";
import { ApiError } from "../api-error.js";
import type { PublicRoutes } from "../public-routes.js";

/** Where the official clients open a conversation (`${origin}/v1/convai/conversation?agent_id=…`). */
export const CONVERSATION_SOCKET_PATH = "/v1/convai/conversation";

/** The subprotocol the official clients ask for; they refuse a handshake that does not echo it. */
export const CONVAI_SUBPROTOCOL = "convai";

/** The largest text frame a client may send (a larger one closes the socket with 1009). */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * The WebSocket plugin's options: `convai` is selected when the client offers it, and a client
 * that offers no subprotocol (the server SDK's Node client) is accepted without one.
 */
export const CONVERSATION_SOCKET_PLUGIN_OPTIONS: WebsocketPluginOptions = {
  options: {
    maxPayload: MAX_FRAME_BYTES,
    handleProtocols: (protocols: Set<string>) =>
      protocols.has(CONVAI_SUBPROTOCOL) ? CONVAI_SUBPROTOCOL : false,
  },
};

/** A node's live-session limits and what happens around each session. */
export interface LiveSessionOptions {
  /** Concurrent sessions this node serves (OPENCONVAI_MAX_SESSIONS). */
  maxSessions: number;
  /** Frames one session may send a minute, pongs and audio aside. */
  messagesPerMinute: number;
  /** The node's register of live sessions (crash recovery); none in tests that don't need one. */
  lifecycle?: SessionLifecycle;
}

/** What the socket route is built from. */
export interface ConversationSocketDeps {
  agents: Pick<AgentService, "getAgentConfig">;
  keys: Pick<ApiKeyService, "verify">;
  conversations: Pick<ConversationService, "putConversation">;
  /** Where signed URLs' signing key and used single-use signatures are kept. */
  signatures: ConversationSignatureStore;
  /** The agent's mind (default: the development agent). */
  brain?: Brain;
  clock?: Clock;
  timings?: SessionTimings;
  /** The app's set of routes served without an API key: the socket authenticates by itself. */
  publicRoutes?: PublicRoutes;
}

/** Whether an agent requires authenticated sessions (`platform_settings.auth.enable_auth`). */
function requiresAuth(platformSettings: Record<string, unknown> | null): boolean {
  const auth = platformSettings?.auth as Record<string, unknown> | undefined;
  return auth?.enable_auth === true;
}

/** A frame's bytes as text. */
function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}

/**
 * `GET /v1/convai/conversation` (WebSocket): a live text conversation with an agent. The route
 * authenticates by itself (public agents need no key), parses each frame at the edge into a typed
 * event and hands it to the session; every refusal is a close with 1008 and a readable reason.
 */
export async function conversationSocketRoutes(
  app: FastifyInstance,
  deps: ConversationSocketDeps,
): Promise<void> {
  const brain = deps.brain ?? new DevelopmentAgent();
  const clock = deps.clock ?? systemClock;
  deps.publicRoutes?.add("GET", CONVERSATION_SOCKET_PATH);
  app.route({
    method: "GET",
    url: CONVERSATION_SOCKET_PATH,
    schema: {
      summary: "Talk to an agent live (WebSocket, text only)",
      description:
        "Upgrade to a WebSocket (subprotocol `convai`) and exchange the agent protocol's JSON frames. " +
        "Public agents need no key; agents with `platform_settings.auth.enable_auth` need a signed URL's " +
        "`conversation_signature` or an `xi-api-key` header. " +
        "Refusals close the socket with 1008 and a reason. See docs/live-conversations.md.",
      tags: ["Live conversations"],
      querystring: {
        type: "object",
        properties: {
          agent_id: { type: "string", description: "The agent to talk to." },
          conversation_signature: { type: "string", description: "A signed URL's token." },
        },
      },
      response: {
        101: { description: "Switching protocols: the conversation runs over the socket.", type: "null" },
      },
    },
    // A plain HTTP request (no upgrade) is told what the route is for.
    handler: async () => {
      throw new ApiError(
        426,
        "invalid_request",
        "This is a WebSocket endpoint: connect with a WebSocket client (e.g. @elevenlabs/client with connectionType websocket).",
      );
    },
    wsHandler: (socket: WebSocket, request) => {
      const pending: ClientEvent[] = [];
      let session: ConversationSession | undefined;
      let refused: string | undefined;
      let closed: { code: number; reason: string } | undefined;
      const close = (code: number, reason: string) => {
        if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)
          socket.close(code, fitCloseReason(reason));
      };
      // Listeners first: the client sends its init frame as soon as the socket opens.
      socket.on("message", (data, isBinary) => {
        const parsed = isBinary
          ? ({ ok: false, reason: "Invalid message: frames must be JSON text" } as const)
          : parseClientFrame(frameText(data));
        if (!parsed.ok) {
          if (session) void session.refuse(parsed.reason);
          else refused ??= parsed.reason;
          return;
        }
        if (session) void session.handle(parsed.event);
        else pending.push(parsed.event);
      });
      socket.on("close", (code, reason) => {
        closed = { code, reason: reason.toString("utf8") };
        void session?.transportClosed(closed.code, closed.reason);
      });
      socket.on("error", (error) => request.log.debug({ err: error }, "conversation socket error"));

      void (async () => {
        const query = request.query as Record<string, unknown>;
        const agentId = typeof query.agent_id === "string" ? query.agent_id : "";
        if (!agentId)
          return close(
            CloseCode.policy,
            "agent_id is required: connect to /v1/convai/conversation?agent_id=…",
          );
        const agent = await deps.agents.getAgentConfig(agentId);
        if (!agent) return close(CloseCode.policy, `Agent ${agentId} not found: check the agent_id`);
        // A signature is checked whenever one is given (a single-use one is spent here, and fixes
        // the conversation id); without one, an agent with enable_auth needs an API key.
        let fixedConversationId: string | undefined;
        const signature = query.conversation_signature;
        if (typeof signature === "string" && signature !== "") {
          const check = await verifyConversationSignature(deps.signatures, {
            agentId,
            signature,
            now: clock.now(),
          });
          if (!check.ok) {
            return close(
              CloseCode.policy,
              `Authentication failed: ${check.reason}. Ask your server for a new signed URL (GET /v1/convai/conversation/get-signed-url).`,
            );
          }
          fixedConversationId = check.conversationId;
        } else if (requiresAuth(agent.platformSettings)) {
          const key = request.headers["xi-api-key"];
          if (!(await deps.keys.verify(Array.isArray(key) ? key[0] : key)))
            return close(
              CloseCode.policy,
              "Authentication required: this agent has enable_auth; connect with a signed URL or an xi-api-key header",
            );
        }
        if (closed) return;
        if (refused) return close(CloseCode.policy, refused);
        session = new ConversationSession({
          agent,
          conversationId: fixedConversationId,
          brain,
          writer: deps.conversations,
          clock,
          timings: deps.timings,
          transport: {
            send: (frame) => {
              if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
            },
            close,
          },
          onError: (error) => request.log.error({ err: error }, "conversation session failed"),
        });
        for (const event of pending.splice(0)) void session.handle(event);
      })().catch((error: unknown) => {
        request.log.error({ err: error }, "conversation socket failed to start");
        close(CloseCode.internal, "Internal error: the conversation could not start");
      });
    },
  });
}
