/**
 * Talk to an agent in the page (`/agents/:agentId/talk`): a live session with the official browser
 * client, in text or voice. The transcript grows as the agent and the user speak; at the end, a
 * link opens the conversation the server recorded.
 */
import "./talk.css";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { api } from "../api/client";
import { usePageTitle } from "../components/page-title";
import { ErrorLine } from "../components/status";
import { type TalkMode, type TalkStatus, useTalkSession } from "../components/talk-session";
import { useApi } from "../components/use-api";

/** The status line's words. */
const STATUS_TEXT: Record<TalkStatus, string> = {
  idle: "Not started",
  connecting: "Connecting…",
  connected: "Connected",
  ended: "Ended",
};

export function TalkPage() {
  const { agentId = "" } = useParams();
  // A fresh session per agent.
  return <Talk key={agentId} agentId={agentId} />;
}

function Talk({ agentId }: { agentId: string }) {
  const ids = useId();
  const agent = useApi(
    (signal) => api<{ name?: string }>("GET", `/v1/convai/agents/${encodeURIComponent(agentId)}`, { signal }),
    [agentId],
  );
  const name = agent.data?.name || "the agent";
  usePageTitle(agent.data ? `Talk to ${name}` : "Talk");

  const session = useTalkSession(agentId);
  const [mode, setMode] = useState<TalkMode>("text");
  const [draft, setDraft] = useState("");
  const inputRef = useRef<HTMLInputElement>(null);
  const recordedRef = useRef<HTMLAnchorElement>(null);
  const live = session.status === "connecting" || session.status === "connected";
  const lineCount = session.lines.length;

  useEffect(() => {
    // Keep the newest line and the message box in view as the transcript grows.
    if (lineCount > 0) inputRef.current?.scrollIntoView({ block: "nearest" });
  }, [lineCount]);

  useEffect(() => {
    if (session.status === "connected") inputRef.current?.focus();
    if (session.status === "ended") recordedRef.current?.focus();
  }, [session.status]);

  function send(event: FormEvent) {
    event.preventDefault();
    if (!draft.trim()) return;
    session.send(draft);
    setDraft("");
  }

  const agentPath = `/agents/${encodeURIComponent(agentId)}`;
  const statusText =
    session.status === "connected" && session.mode === "voice"
      ? `Connected: ${session.speaking ? "the agent is speaking" : "listening"}`
      : STATUS_TEXT[session.status];

  return (
    <div className="talk">
      <p className="talk-breadcrumb">
        <Link to="/agents">Agents</Link> / <Link to={agentPath}>{agent.data?.name || agentId}</Link>
      </p>
      <h1>Talk to {name}</h1>
      <ErrorLine error={agent.error} />

      <div className="talk-controls">
        <fieldset className="talk-mode" disabled={live}>
          <legend>Mode</legend>
          <div className="talk-choice">
            <input
              id={`${ids}-text`}
              type="radio"
              name="talk-mode"
              value="text"
              checked={mode === "text"}
              onChange={() => setMode("text")}
            />
            <label htmlFor={`${ids}-text`}>Text</label>
          </div>
          <div className="talk-choice">
            <input
              id={`${ids}-voice`}
              type="radio"
              name="talk-mode"
              value="voice"
              checked={mode === "voice"}
              aria-describedby={`${ids}-voice-hint`}
              onChange={() => setMode("voice")}
            />
            <label htmlFor={`${ids}-voice`}>Voice</label>
          </div>
          <p id={`${ids}-voice-hint`} className="muted talk-hint">
            Voice uses your microphone and the server's speech settings (or its development voice).
          </p>
        </fieldset>
        <div className="talk-buttons">
          {live ? (
            <button type="button" className="danger" onClick={() => void session.end()}>
              End call
            </button>
          ) : (
            <button type="button" onClick={() => void session.start(mode)}>
              {session.status === "ended" ? "Start again" : "Start conversation"}
            </button>
          )}
        </div>
      </div>

      <p className="talk-status" role="status">
        <span className={`badge ${session.status === "connected" ? "success" : ""}`}>{statusText}</span>
        {session.ending && <span> {session.ending}</span>}
      </p>
      <ErrorLine error={session.error} />

      {session.status === "ended" && session.conversationId && (
        <p className="talk-recorded">
          <Link ref={recordedRef} to={`/conversations/${encodeURIComponent(session.conversationId)}`}>
            Open the recorded conversation
          </Link>
        </p>
      )}

      <h2 id={`${ids}-transcript`}>Transcript</h2>
      <div role="log" aria-live="polite" aria-labelledby={`${ids}-transcript`}>
        <ol className="talk-log">
          {session.lines.length === 0 && (
            <li className="muted talk-empty">
              {session.status === "connecting"
                ? "Connecting…"
                : "Start the conversation; what is said appears here."}
            </li>
          )}
          {session.lines.map((line) => (
            <li key={line.key} className={`talk-line talk-${line.role}`}>
              <span className="talk-role">{line.role === "agent" ? "Agent" : "You"}</span>
              <span className="talk-text">
                {line.text}
                {line.interrupted && <span className="muted"> (interrupted)</span>}
              </span>
            </li>
          ))}
        </ol>
      </div>

      <form className="talk-send" onSubmit={send}>
        <div className="field">
          <label htmlFor={`${ids}-message`}>Message</label>
          <input
            ref={inputRef}
            id={`${ids}-message`}
            value={draft}
            autoComplete="off"
            disabled={session.status !== "connected"}
            onChange={(e) => setDraft(e.target.value)}
          />
        </div>
        <button type="submit" disabled={session.status !== "connected" || !draft.trim()}>
          Send
        </button>
      </form>
    </div>
  );
}
