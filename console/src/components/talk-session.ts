/**
 * A live conversation with an agent in the page, through the official `@elevenlabs/client`: the
 * console asks the server for a signed URL with its key (so agents that require authentication
 * work too), then the client opens the agent's WebSocket with it, in text or voice mode. The hook
 * keeps what the page shows: the status, the transcript, the conversation's id and why it ended.
 */
import type { Conversation, DisconnectionDetails } from "@elevenlabs/client";
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";

/** Text only, or the microphone and the agent's voice. */
export type TalkMode = "text" | "voice";

/** Where the session is. */
export type TalkStatus = "idle" | "connecting" | "connected" | "ended";

/** One line of the transcript. */
export interface TalkLine {
  key: number;
  role: "user" | "agent";
  text: string;
  /** The agent was interrupted: `text` is what was heard. */
  interrupted?: boolean;
}

/** What the page shows of a session, and what it can do. */
export interface TalkSession {
  status: TalkStatus;
  mode: TalkMode;
  lines: TalkLine[];
  conversationId: string | null;
  /** Whether the agent is speaking (voice). */
  speaking: boolean;
  /** Why the session could not start, or how it ended when not normally. */
  error: string | null;
  /** How the session ended, in words. */
  ending: string | null;
  start(mode: TalkMode): Promise<void>;
  send(text: string): void;
  end(): Promise<void>;
}

/** How a disconnection is told. */
function endingOf(details: DisconnectionDetails): { ending: string; error: string | null } {
  if (details.reason === "user") return { ending: "You ended the call.", error: null };
  if (details.reason === "agent") return { ending: "The agent ended the call.", error: null };
  const reason = details.closeReason || details.message;
  return {
    ending: "The call ended with an error.",
    error: `The call ended: ${reason || "the connection was lost"}${details.closeCode ? ` (close code ${details.closeCode})` : ""}.`,
  };
}

/** Why a session did not start, from what the client or the server said. */
function startProblem(error: unknown, mode: TalkMode): string {
  const e = error as { name?: string; message?: string; closeReason?: string; closeCode?: number };
  if (e?.name === "NotAllowedError" || e?.name === "NotFoundError")
    return "The microphone is not available: allow this page to use it, or talk in text mode.";
  const reason = e?.closeReason || e?.message || String(error);
  const advice =
    mode === "voice"
      ? " Try text mode, or check the server's speech settings."
      : " Check the agent's settings and try again.";
  return `The session did not start: ${reason}.${advice}`;
}

let lineKey = 1;

/** Runs at most one session for `agentId`; ends it when the page goes away. */
export function useTalkSession(agentId: string): TalkSession {
  const [status, setStatus] = useState<TalkStatus>("idle");
  const [mode, setMode] = useState<TalkMode>("text");
  const [lines, setLines] = useState<TalkLine[]>([]);
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [speaking, setSpeaking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ending, setEnding] = useState<string | null>(null);
  const conversation = useRef<Conversation | null>(null);
  const mounted = useRef(true);
  /** End call was pressed: a session still connecting is hung up as soon as it exists. */
  const cancelled = useRef(false);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      const current = conversation.current;
      conversation.current = null;
      void current?.endSession();
    };
  }, []);

  const addLine = useCallback((role: TalkLine["role"], text: string) => {
    setLines((all) => [...all, { key: lineKey++, role, text }]);
  }, []);

  const start = useCallback(
    async (chosen: TalkMode) => {
      if (conversation.current) return;
      cancelled.current = false;
      setMode(chosen);
      setStatus("connecting");
      setLines([]);
      setConversationId(null);
      setError(null);
      setEnding(null);
      setSpeaking(false);
      try {
        const { signed_url: signedUrl } = await api<{ signed_url: string }>(
          "GET",
          "/v1/convai/conversation/get-signed-url",
          { query: { agent_id: agentId } },
        );
        // Loaded when a session starts, so the rest of the console does not carry the client.
        const { Conversation } = await import("@elevenlabs/client");
        if (!mounted.current) return;
        if (cancelled.current) {
          setStatus("idle");
          return;
        }
        // The call can end before startSession resolves (the agent hangs up at once).
        let ended = false;
        const session = await Conversation.startSession({
          signedUrl,
          connectionType: "websocket",
          textOnly: chosen === "text",
          onConnect: ({ conversationId: id }) => {
            if (!mounted.current) return;
            setConversationId(id);
            setStatus("connected");
          },
          onMessage: ({ role, message }) => {
            // A typed message is shown when it is sent; the server tells only what it heard.
            if (mounted.current && message) addLine(role, message);
          },
          onAgentResponseCorrection: ({ original_agent_response, corrected_agent_response }) => {
            if (!mounted.current) return;
            setLines((all) => {
              const index = all.findLastIndex(
                (l) => l.role === "agent" && l.text === original_agent_response,
              );
              if (index < 0) return all;
              const next = [...all];
              next[index] = {
                ...(next[index] as TalkLine),
                text: corrected_agent_response,
                interrupted: true,
              };
              return next;
            });
          },
          onModeChange: ({ mode: now }) => {
            if (mounted.current) setSpeaking(now === "speaking");
          },
          onDisconnect: (details) => {
            ended = true;
            conversation.current = null;
            if (!mounted.current) return;
            const told = endingOf(details);
            setEnding(told.ending);
            if (told.error) setError(told.error);
            setSpeaking(false);
            setStatus("ended");
          },
        });
        if (!mounted.current || cancelled.current) {
          // Ended while connecting (End call pressed, or the page left): hang up now.
          await session.endSession();
          if (mounted.current && !ended) setStatus("idle");
          return;
        }
        setConversationId(session.getId());
        if (ended) return;
        conversation.current = session;
        setStatus((s) => (s === "connecting" ? "connected" : s));
      } catch (e) {
        if (!mounted.current) return;
        conversation.current = null;
        setError(startProblem(e, chosen));
        setStatus("idle");
      }
    },
    [agentId, addLine],
  );

  const send = useCallback(
    (text: string) => {
      const current = conversation.current;
      if (!current || !text.trim()) return;
      current.sendUserMessage(text);
      addLine("user", text);
    },
    [addLine],
  );

  const end = useCallback(async () => {
    // While connecting there is no session yet: start() hangs up as soon as it has one.
    cancelled.current = true;
    await conversation.current?.endSession();
  }, []);

  return { status, mode, lines, conversationId, speaking, error, ending, start, send, end };
}
