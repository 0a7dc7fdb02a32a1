import { Conversation, type TextConversation } from "@elevenlabs/client";
import { WebSocket } from "ws";
import { ReportLog } from "./report-log.js";

// The official client needs a global WebSocket; Node 20 has none without a flag.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

/** Something the official client reported, in order. */
export type ClientReport =
  | { kind: "connect"; conversationId: string }
  | { kind: "message"; role: string; message: string }
  | { kind: "part"; type: string; text: string; eventId: number }
  | { kind: "tool_response"; toolName: string }
  | { kind: "ping"; eventId: number }
  | { kind: "error"; message: string }
  | { kind: "disconnect"; reason: string; closeCode?: number; closeReason?: string };

/** A text session of the official client against a test server, with everything it reported. */
export interface TextSession {
  conversation: TextConversation;
  reports: ClientReport[];
  /** Resolves with the first report (from the start) that matches; rejects after `timeoutMs`. */
  waitFor<K extends ClientReport["kind"]>(
    kind: K,
    match?: (report: Extract<ClientReport, { kind: K }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ClientReport, { kind: K }>>;
}

/** Extra options passed to startSession as they are. */
export type SessionExtras = {
  dynamicVariables?: Record<string, string | number | boolean>;
  userId?: string;
  /** A signed URL from the server: the client connects to it as given. */
  signedUrl?: string;
  /** The client's overrides, as the official client takes them (camelCase). */
  overrides?: { agent?: { firstMessage?: string; prompt?: { prompt?: string } } };
};

/** Starts `Conversation.startSession` in text mode over a WebSocket at the server's origin. */
export async function startTextSession(
  origin: string,
  agentId: string,
  extras: SessionExtras = {},
): Promise<TextSession> {
  const log = new ReportLog<ClientReport>();
  const { reports } = log;
  const report = (entry: ClientReport) => log.add(entry);
  const { signedUrl, ...rest } = extras;
  // A signed URL is used as given; otherwise the client builds the URL from the origin and agent.
  const target = signedUrl
    ? { signedUrl, connectionType: "websocket" as const }
    : { agentId, origin, connectionType: "websocket" as const };
  const conversation = await Conversation.startSession({
    ...target,
    textOnly: true,
    ...rest,
    onConnect: ({ conversationId }) => report({ kind: "connect", conversationId }),
    onMessage: ({ role, message }) => report({ kind: "message", role, message }),
    onAgentChatResponsePart: (part) =>
      report({ kind: "part", type: part.type, text: part.text, eventId: part.event_id }),
    onAgentToolResponse: (tool) => report({ kind: "tool_response", toolName: tool.tool_name }),
    onPing: (ping) => report({ kind: "ping", eventId: ping.event_id }),
    onError: (message) => report({ kind: "error", message }),
    onDisconnect: (details) =>
      report({
        kind: "disconnect",
        reason: details.reason,
        closeCode: "closeCode" in details ? details.closeCode : undefined,
        closeReason: "closeReason" in details ? details.closeReason : undefined,
      }),
  });
  const waitFor: TextSession["waitFor"] = (kind, match, timeoutMs) => log.waitFor(kind, match, timeoutMs);
  return { conversation, reports, waitFor };
}
