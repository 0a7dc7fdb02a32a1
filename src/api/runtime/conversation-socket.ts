import type { WebsocketPluginOptions } from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import type { RawData, WebSocket } from "ws";
import type { AgentService } from "../../agents/agent-service.js";
import type { AnalysisDeps } from "../../analysis/analysis-service.js";
import { analyseLiveConversation } from "../../analysis/live-analysis.js";
import type { ApiKeyService } from "../../auth/api-keys.js";
import type { ConversationService } from "../../conversations/conversation-service.js";
import type { InitiationFailureReporter } from "../../conversations/post-call-webhooks.js";
import type { SpeechToText } from "../../providers/asr/speech-to-text.js";
import type { ChatModel } from "../../providers/llm/chat-model.js";
import type { TextToSpeech } from "../../providers/tts/text-to-speech.js";
import type { CallRecording } from "../../recording/call-recording.js";
import type { Brain } from "../../runtime/brain.js";
import { type ClientEvent, parseClientFrame } from "../../runtime/client-frames.js";
import { type Clock, systemClock } from "../../runtime/clock.js";
import { ConversationSession, type SessionLifecycle } from "../../runtime/conversation-session.js";
import { verifyConversationSignature } from "../../runtime/conversation-signature.js";
import { DevelopmentAgent } from "../../runtime/development-agent.js";
import { CloseCode, fitCloseReason } from "../../runtime/server-frames.js";
import type { SessionTimings } from "../../runtime/session-setup.js";
import type { TurnStageObserver } from "../../runtime/turn-stage-observer.js";
import type { AnalysisSettingsStore } from "../../store/analysis-settings-store.js";
import type { ConversationSignatureStore } from "../../store/conversation-signature-store.js";
import type { ConversationStore } from "../../store/store.js";
import { ApiError } from "../api-error.js";
import type { PublicRoutes } from "../public-routes.js";
import { frameSender, MAX_QUEUED_BYTES } from "./frame-batcher.js";
import { drainOnClose, type LiveSessions } from "./live-sessions.js";
import { originRefusal } from "./origin-allowlist.js";
import {
  AUDIO_REAL_TIME_FACTOR,
  AudioRate,
  errorSummary,
  frameErrorReason,
  isUncounted,
  MAX_AUDIO_BYTES_PER_SECOND,
  MessageRate,
} from "./socket-limits.js";

/** Where the official clients open a conversation (`${origin}/v1/convai/conversation?agent_id=…`). */
export const CONVERSATION_SOCKET_PATH = "/v1/convai/conversation";

/** The subprotocol the official clients ask for; they refuse a handshake that does not echo it. */
export const CONVAI_SUBPROTOCOL = "convai";

/** The largest text frame a client may send (a larger one closes the socket with 1009). */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * The WebSocket plugin's options: `convai` is selected when the client offers it, and a client
 * that offers no subprotocol (the server SDK's Node client) is accepted without one. On shutdown
 * the node's live sessions end on the record before their sockets close.
 */
export function conversationSocketPluginOptions(live: LiveSessions): WebsocketPluginOptions {
  return {
    options: {
      maxPayload: MAX_FRAME_BYTES,
      handleProtocols: (protocols: Set<string>) =>
        protocols.has(CONVAI_SUBPROTOCOL) ? CONVAI_SUBPROTOCOL : false,
    },
    preClose: drainOnClose(live),
  };
}

/**
 * The close code of a connection over the node's session cap: 1013 "Try Again Later" (RFC 6455's
 * registry), the standard code for a server that is overloaded for now. Upstream never sends it;
 * the official client treats every code but 1000 alike (a SessionConnectionError carrying the
 * code and reason, no retry), so it reaches the app as a readable refusal, and a generic client
 * knows from the code alone to come back later.
 */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/**
 * The close reason of a connection made while the server is stopping (closed 1013, like one over
 * the cap: the client learns from the code to come back, and a load balancer sends it elsewhere).
 */
export const SHUTTING_DOWN_REASON = "Server shutting down: connect again to start the conversation";

/** A node's limits when the app is built without live options (the configuration's defaults). */
export const DEFAULT_LIVE_LIMITS = { maxSessions: 1000, messagesPerMinute: 120 } as const;

/** A node's live-session limits and what happens around each session. */
export interface LiveSessionOptions {
  /** Concurrent sessions this node serves (OPENCONVAI_MAX_SESSIONS). */
  maxSessions: number;
  /** Frames one session may send a minute, pongs and audio aside. */
  messagesPerMinute: number;
  /** The node's register of live sessions (crash recovery); none in tests that don't need one. */
  lifecycle?: SessionLifecycle;
  /** Told each voice reply's latency by stage (the server's metrics). */
  turnStages?: TurnStageObserver;
  /** The node's live sessions, which also say when it is stopping (default: the app makes its own). */
  sessions?: LiveSessions;
}

/** What the socket route is built from. */
export interface ConversationSocketDeps {
  agents: Pick<AgentService, "getAgentConfig">;
  keys: Pick<ApiKeyService, "verify">;
  /**
   * The one write path: sessions record through it, post-call analysis writes through it, and a
   * voice session's recording is stored through it (`putRecording`, when given).
   */
  conversations: Pick<ConversationService, "putConversation" | "changeConversation"> &
    Partial<Pick<ConversationService, "putRecording">>;
  /** Read by post-call analysis (the conversation as recorded). */
  conversationStore: Pick<ConversationStore, "getConversation">;
  /** The ingest route's analysis settings, for agents that live elsewhere. */
  analysisSettings: AnalysisSettingsStore;
  /**
   * With an LLM, every session that ends well is analysed (`processing`, then `done`). Voice
   * sessions hear and speak with the speech providers; without them, with the development voice.
   */
  ai?: {
    llm?: ChatModel | undefined;
    speechToText?: SpeechToText | undefined;
    textToSpeech?: TextToSpeech | undefined;
  };
  /** This node's limits (default: DEFAULT_LIVE_LIMITS) and its register of live sessions. */
  live?: LiveSessionOptions;
  /** Where signed URLs' signing key and used single-use signatures are kept. */
  signatures: ConversationSignatureStore;
  /** The agent's mind (default: the development agent). */
  brain?: Brain;
  clock?: Clock;
  timings?: SessionTimings;
  /** The app's set of routes served without an API key: the socket authenticates by itself. */
  publicRoutes?: PublicRoutes;
  /** This node's live sessions, ended on the record when the server stops. */
  liveSessions?: LiveSessions;
  /** Sessions that could not start are told to the `call_initiation_failure` webhooks. */
  initiationFailures?: InitiationFailureReporter;
}

/** Whether an agent requires authenticated sessions (`platform_settings.auth.enable_auth`). */
function requiresAuth(platformSettings: Record<string, unknown> | null): boolean {
  const auth = platformSettings?.auth as Record<string, unknown> | undefined;
  return auth?.enable_auth === true;
}

/**
 * A frame's bytes as text, read where they lie: a voice session's ~31 audio frames a second would
 * otherwise each be copied once more outside V8's heap (see docs/design-notes.md, "Memory outside
 * the heap").
 */
function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  return Buffer.from(data).toString("utf8");
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
  const limits = deps.live ?? DEFAULT_LIVE_LIMITS;
  const llm = deps.ai?.llm;
  const analysisDeps: AnalysisDeps = {
    conversationStore: deps.conversationStore,
    conversations: deps.conversations,
    analysisSettings: deps.analysisSettings,
    agents: deps.agents,
  };
  // Without an LLM there is no post-call work: a session that ends well is recorded `done` at once.
  const postCall = llm
    ? (conversationId: string, options: { expectAudio: boolean }) =>
        analyseLiveConversation(analysisDeps, llm, conversationId, app.log, options)
    : undefined;
  // A voice session's recording becomes the conversation's audio (mixed, MP3) after its last write.
  const putRecording = deps.conversations.putRecording?.bind(deps.conversations);
  const storeRecording = putRecording
    ? async (conversationId: string, recording: CallRecording) => {
        await putRecording(conversationId, recording);
      }
    : undefined;
  /** Sockets of this node counted against the cap, from the upgrade until they close. */
  let liveSockets = 0;
  deps.publicRoutes?.add("GET", CONVERSATION_SOCKET_PATH);
  app.route({
    method: "GET",
    url: CONVERSATION_SOCKET_PATH,
    schema: {
      summary: "Talk to an agent live (WebSocket, voice or text)",
      description:
        "Upgrade to a WebSocket (subprotocol `convai`) and exchange the agent protocol's JSON frames. " +
        "Public agents need no key; agents with `platform_settings.auth.enable_auth` need a signed URL's " +
        "`conversation_signature` or an `xi-api-key` header; an agent with an `auth.allowlist` admits other " +
        "connections only from an `Origin` whose hostname is on it. " +
        "Refusals close the socket with 1008 and a reason (also a session over its message rate); " +
        "a frame over 1 MiB closes it with 1009, a connection over the node's session cap or made while the " +
        "server is shutting down with 1013 (try again later). See docs/live-conversations.md.",
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
      const close = (code: number, reason: string) => {
        if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)
          socket.close(code, fitCloseReason(reason));
      };
      const queryAgentId = (request.query as Record<string, unknown>).agent_id;
      /** Closes a connection whose session could not start, and tells the `call_initiation_failure` webhooks. */
      const refuseStart = (code: number, reason: string, failureReason: string, conversationId?: string) => {
        close(code, reason);
        void deps.initiationFailures?.report({
          agentId: typeof queryAgentId === "string" && queryAgentId !== "" ? queryAgentId : null,
          conversationId: conversationId ?? null,
          failureReason,
          metadata: { type: "websocket", body: { close_code: code, close_reason: fitCloseReason(reason) } },
        });
      };
      // Frames of one tick leave in one write (an agent's reply is several at once).
      const sendFrame = frameSender(socket, {
        maxQueuedBytes: MAX_QUEUED_BYTES,
        onOverflow: () => {
          request.log.warn(
            { maxQueuedBytes: MAX_QUEUED_BYTES },
            "live session closed: the client stopped reading",
          );
          close(CloseCode.policy, "The client is not reading its frames: too much is waiting to be sent.");
        },
      });
      // The server is stopping (SIGTERM): accepted, then closed at once, as over the cap.
      if (deps.liveSessions?.stopping) {
        request.log.info("live session refused: the server is shutting down");
        return close(CLOSE_TRY_AGAIN_LATER, SHUTTING_DOWN_REASON);
      }
      // Over the cap: accepted, then closed at once; no session starts and nothing is recorded.
      if (liveSockets >= limits.maxSessions) {
        request.log.warn({ maxSessions: limits.maxSessions }, "live session refused: the node is at its cap");
        return refuseStart(
          CLOSE_TRY_AGAIN_LATER,
          `Server busy: at most ${limits.maxSessions} live conversations at once here. Try again later.`,
          "capacity",
        );
      }
      liveSockets += 1;
      const pending: ClientEvent[] = [];
      const rate = new MessageRate(limits.messagesPerMinute, clock);
      const audioRate = new AudioRate(clock);
      let session: ConversationSession | undefined;
      let refused: string | undefined;
      let closed: { code: number; reason: string } | undefined;
      /** Ends the session (recorded) or, before it starts, has it refused; later frames are ignored. */
      const refuse = (reason: string) => {
        if (refused !== undefined) return;
        refused = reason;
        if (session) void session.refuse(reason);
      };
      // Listeners first: the client sends its init frame as soon as the socket opens.
      socket.on("message", (data, isBinary) => {
        if (refused !== undefined || session?.state === "ended") return;
        const parsed = isBinary
          ? ({ ok: false, reason: "Invalid message: frames must be JSON text" } as const)
          : parseClientFrame(frameText(data));
        if (!parsed.ok) return refuse(parsed.reason);
        if (parsed.event.type === "user_audio_chunk") {
          const bytes = Math.floor((parsed.event.user_audio_chunk.length * 3) / 4);
          const perSecond = session?.inputBytesPerSecond ?? MAX_AUDIO_BYTES_PER_SECOND;
          if (!audioRate.admit(bytes, perSecond))
            return refuse(
              `Invalid message: audio sent faster than ${AUDIO_REAL_TIME_FACTOR}x real time; stream it as it is captured`,
            );
        }
        if (!isUncounted(parsed.event) && !rate.admit()) {
          request.log.info(
            { messagesPerMinute: limits.messagesPerMinute },
            "live session over its message rate",
          );
          return refuse(`Too many messages: at most ${limits.messagesPerMinute} a minute`);
        }
        if (session) void session.handle(parsed.event);
        else pending.push(parsed.event);
      });
      socket.on("close", (code, reason) => {
        liveSockets -= 1;
        closed = { code, reason: reason.toString("utf8") };
        if (!session) return;
        // The session counts as live until its end is recorded and its post-call work is done.
        const ending = session;
        const finished = ending.transportClosed(closed.code, closed.reason).then(() => ending.settled());
        deps.liveSessions?.release(ending, finished);
      });
      socket.on("error", (error) => {
        request.log.debug({ err: error }, "conversation socket error");
        // The socket library has already closed the socket (1009 for a frame over the limit):
        // the session records why it ended rather than a bare disconnect.
        const reason = frameErrorReason(error, MAX_FRAME_BYTES);
        if (reason) refuse(reason);
      });

      void (async () => {
        const query = request.query as Record<string, unknown>;
        const agentId = typeof query.agent_id === "string" ? query.agent_id : "";
        if (!agentId)
          return close(
            CloseCode.policy,
            "agent_id is required: connect to /v1/convai/conversation?agent_id=…",
          );
        const agent = await deps.agents.getAgentConfig(agentId);
        // An agent that is not here belongs to no one's webhooks: nothing is reported.
        if (!agent) return close(CloseCode.policy, `Agent ${agentId} not found: check the agent_id`);
        // A signature is checked whenever one is given (a single-use one is spent here, and fixes
        // the conversation id); without one, an agent with enable_auth needs an API key. A
        // connection authenticated by neither must come from an Origin on the agent's allowlist.
        let fixedConversationId: string | undefined;
        let authenticated = false;
        const signature = query.conversation_signature;
        const originCheck = originRefusal(agent.platformSettings, request.headers.origin);
        if (typeof signature === "string" && signature !== "") {
          const check = await verifyConversationSignature(deps.signatures, {
            agentId,
            signature,
            now: clock.now(),
          });
          if (!check.ok) {
            return refuseStart(
              CloseCode.policy,
              `Authentication failed: ${check.reason}. Ask your server for a new signed URL (GET /v1/convai/conversation/get-signed-url).`,
              "auth_failed",
            );
          }
          fixedConversationId = check.conversationId;
          authenticated = true;
        } else if (requiresAuth(agent.platformSettings) || originCheck !== undefined) {
          const key = request.headers["xi-api-key"];
          authenticated = await deps.keys.verify(Array.isArray(key) ? key[0] : key);
          if (!authenticated && requiresAuth(agent.platformSettings))
            return refuseStart(
              CloseCode.policy,
              "Authentication required: this agent has enable_auth; connect with a signed URL or an xi-api-key header",
              "auth_failed",
            );
        }
        if (!authenticated && originCheck !== undefined) {
          request.log.info({ agentId }, "live session refused: origin not on the agent's allowlist");
          return refuseStart(CloseCode.policy, originCheck, "origin_not_allowed", fixedConversationId);
        }
        if (closed) return;
        if (refused) return close(CloseCode.policy, refused);
        // The server began stopping while this connection authenticated: no session starts.
        if (deps.liveSessions?.stopping) return close(CLOSE_TRY_AGAIN_LATER, SHUTTING_DOWN_REASON);
        session = new ConversationSession({
          agent,
          conversationId: fixedConversationId,
          brain,
          writer: deps.conversations,
          clock,
          timings: deps.timings,
          lifecycle: deps.live?.lifecycle,
          ...(deps.live?.turnStages ? { turnStages: deps.live.turnStages } : {}),
          postCall,
          ...(storeRecording ? { storeRecording } : {}),
          ...(deps.initiationFailures ? { initiationFailures: deps.initiationFailures } : {}),
          speech: {
            ...(deps.ai?.speechToText ? { speechToText: deps.ai.speechToText } : {}),
            ...(deps.ai?.textToSpeech ? { textToSpeech: deps.ai.textToSpeech } : {}),
          },
          transport: {
            send: (frame) => {
              if (socket.readyState === socket.OPEN) sendFrame(JSON.stringify(frame));
            },
            close,
          },
          onError: (error) => {
            request.log.error({ err: errorSummary(error) }, "conversation session failed");
            request.log.debug({ err: error }, "conversation session failure");
          },
          onNotice: (message) => request.log.info({ conversationId: session?.conversationId }, message),
        });
        deps.liveSessions?.add(session);
        for (const event of pending.splice(0)) void session.handle(event);
      })().catch((error: unknown) => {
        request.log.error({ err: errorSummary(error) }, "conversation socket failed to start");
        request.log.debug({ err: error }, "conversation socket start failure");
        close(CloseCode.internal, "Internal error: the conversation could not start");
      });
    },
  });
}
