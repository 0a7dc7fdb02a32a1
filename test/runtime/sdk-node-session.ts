/**
 * The server SDK's Node `Conversation` (`@elevenlabs/elevenlabs-js`, BETA, not exported from the
 * package root) driven in text against a test server, with everything it reported.
 */
import { AudioInterface } from "@elevenlabs/elevenlabs-js/api/resources/conversationalAi/conversation/AudioInterface.js";
import type { ClientTools } from "@elevenlabs/elevenlabs-js/api/resources/conversationalAi/conversation/ClientTools.js";
import { Conversation } from "@elevenlabs/elevenlabs-js/api/resources/conversationalAi/conversation/Conversation.js";
import type { ConversationInitiationData } from "@elevenlabs/elevenlabs-js/api/resources/conversationalAi/conversation/ConversationConfig.js";
import type { ConversationClient } from "@elevenlabs/elevenlabs-js/api/resources/conversationalAi/conversation/interfaces/ConversationClient.js";
import type {
  WebSocketFactory,
  WebSocketInterface,
} from "@elevenlabs/elevenlabs-js/api/resources/conversationalAi/conversation/interfaces/WebSocketInterface.js";
import { WebSocket } from "ws";
import { ReportLog } from "./report-log.js";

/** Where the SDK's Node `Conversation` connects when it builds the URL itself. */
export const SDK_DEFAULT_ORIGIN = "wss://api.elevenlabs.io";

/**
 * An audio interface with no microphone and no speaker: it never calls the input callback, so the
 * SDK sends no `user_audio_chunk` and the session stays text only.
 */
export class NoAudioInterface extends AudioInterface {
  /** Audio the agent sent (none in a text session). */
  readonly received: Buffer[] = [];
  override start(_inputCallback: (audio: Buffer) => void): void {}
  override stop(): void {}
  override output(audio: Buffer): void {
    this.received.push(audio);
  }
  override interrupt(): void {}
}

/**
 * A WebSocket factory that sends the SDK's own `wss://api.elevenlabs.io` URL to `origin` instead
 * (an http(s) or ws(s) origin), with the query as the SDK built it and optional extra headers
 * (e.g. `xi-api-key` for a server-side connection to an agent with enable_auth).
 */
export function redirectingWebSocketFactory(
  origin: string,
  headers: Record<string, string> = {},
): WebSocketFactory & { urls: string[] } {
  const urls: string[] = [];
  const target = new URL(origin);
  target.protocol = target.protocol === "https:" || target.protocol === "wss:" ? "wss:" : "ws:";
  return {
    urls,
    create(url: string, options?: Record<string, unknown>): WebSocketInterface {
      urls.push(url);
      const redirected = url.startsWith(SDK_DEFAULT_ORIGIN)
        ? `${target.origin}${url.slice(SDK_DEFAULT_ORIGIN.length)}`
        : url;
      return new WebSocket(redirected, { ...options, headers });
    },
  };
}

/** A server frame as the SDK received it. */
export type ServerFrame = { type?: string } & Record<string, unknown>;

/** Something the SDK's `Conversation` reported, in order. */
export type NodeSdkReport =
  | { kind: "started"; conversationId: string }
  | { kind: "agent_response"; text: string }
  | { kind: "correction"; original: string; corrected: string }
  | { kind: "latency"; ms: number }
  | { kind: "frame"; frame: ServerFrame }
  | { kind: "error"; message: string }
  | { kind: "closed"; code: number; reason: string };

type Report<K extends NodeSdkReport["kind"]> = Extract<NodeSdkReport, { kind: K }>;

/** A running session of the SDK's Node `Conversation`, with everything it reported. */
export interface NodeSdkSession {
  conversation: Conversation;
  reports: NodeSdkReport[];
  /** The server frames received, in order (the SDK's `callbackMessageReceived`). */
  frames(): ServerFrame[];
  /** Resolves with the first report (from the start) that matches; rejects after `timeoutMs`. */
  waitFor<K extends NodeSdkReport["kind"]>(
    kind: K,
    match?: (report: Report<K>) => boolean,
    timeoutMs?: number,
  ): Promise<Report<K>>;
}

/** How to start a session: what the SDK's `Conversation` constructor takes, text only by default. */
export interface NodeSdkSessionOptions {
  agentId: string;
  /** true: the URL comes from `conversationClient`'s get-signed-url; false: the SDK builds its own. */
  requiresAuth: boolean;
  /**
   * An `ElevenLabsClient` whose `baseUrl` is the server, for the signed URL. Passed as
   * `conversationClient`: the SDK types its `client` option as its inner client class, which the
   * exported `ElevenLabsClient` does not satisfy in TypeScript (at run time either works).
   */
  conversationClient?: ConversationClient;
  webSocketFactory?: WebSocketFactory;
  /** The init frame's contents; `conversation.text_only: true` is added unless given. */
  config?: ConversationInitiationData;
  clientTools?: ClientTools;
}

/**
 * Starts the SDK's Node `Conversation` in text mode (a no-audio interface, `text_only: true` in
 * the init frame's override) and resolves once its socket is open; refusals then arrive as a
 * `closed` report.
 */
export async function startNodeSdkSession(options: NodeSdkSessionOptions): Promise<NodeSdkSession> {
  const log = new ReportLog<NodeSdkReport>();
  const { reports } = log;
  const report = (entry: NodeSdkReport) => log.add(entry);
  const config = options.config ?? {};
  const override = config.conversationConfigOverride ?? {};
  const conversation = new Conversation({
    agentId: options.agentId,
    requiresAuth: options.requiresAuth,
    conversationClient: options.conversationClient,
    webSocketFactory: options.webSocketFactory,
    clientTools: options.clientTools,
    audioInterface: new NoAudioInterface(),
    config: {
      ...config,
      conversationConfigOverride: {
        ...override,
        conversation: { text_only: true, ...(override.conversation as Record<string, unknown> | undefined) },
      },
    },
    callbackAgentResponse: (text) => report({ kind: "agent_response", text }),
    callbackAgentResponseCorrection: (original, corrected) =>
      report({ kind: "correction", original, corrected }),
    callbackLatencyMeasurement: (ms) => report({ kind: "latency", ms }),
    callbackMessageReceived: (frame: ServerFrame) => report({ kind: "frame", frame }),
  });
  conversation.on("conversation_started", (conversationId: string) =>
    report({ kind: "started", conversationId }),
  );
  // Emitted with a code only when the socket closed (endSession emits it without one first).
  conversation.on("session_ended", (_id: string | undefined, code?: number, reason?: string) => {
    if (code !== undefined) report({ kind: "closed", code, reason: reason ?? "" });
  });
  // An "error" event without a listener would be thrown from inside the socket's callback.
  conversation.on("error", (error: Error) => report({ kind: "error", message: error.message }));
  await conversation.startSession();

  const waitFor: NodeSdkSession["waitFor"] = (kind, match, timeoutMs) => log.waitFor(kind, match, timeoutMs);
  const frames = () => reports.flatMap((r) => (r.kind === "frame" ? [r.frame] : []));
  return { conversation, reports, frames, waitFor };
}
