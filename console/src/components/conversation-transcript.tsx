/**
 * A conversation's transcript: each turn with its speaker, time in the call and message; tool
 * calls and results folded in a <details>; the turn's timings where the document has them. With a
 * recording, each turn's time is a button that seeks the player there, and the turn being heard
 * is marked (aria-current) and kept in view while playing.
 */
import { useEffect, useRef } from "react";
import { formatDuration } from "../format";
import { prettyJson, type ToolCall, type ToolResult, type Turn } from "./conversation-doc";

interface Props {
  turns: Turn[];
  /** The turn being heard, if any. */
  activeIndex: number | null;
  /** Whether the recording is playing (the active turn is scrolled into view only then). */
  playing: boolean;
  /** Seeks the recording to a turn's time; absent when there is no recording. */
  onSeek?: (secs: number) => void;
}

/** The turn heard at `secs`: the first turn of the latest time at or before it (null before the first). */
export function activeTurnIndex(turns: readonly Turn[], secs: number): number | null {
  let best: number | null = null;
  let bestTime = Number.NEGATIVE_INFINITY;
  for (const [i, turn] of turns.entries()) {
    const at = turn.time_in_call_secs;
    if (typeof at !== "number" || at > secs + 0.05) continue;
    if (at > bestTime) {
      best = i;
      bestTime = at;
    }
  }
  return best;
}

const ROLE_NAMES: Record<string, string> = { agent: "Agent", user: "Caller" };

/** Readable names of the timings upstream records per turn. */
const METRIC_NAMES: Record<string, string> = {
  convai_llm_service_ttfb: "LLM first token",
  convai_llm_service_ttf_sentence: "LLM first sentence",
  convai_tts_service_ttfb: "TTS first byte",
  convai_asr_trailing_service_latency: "ASR trailing",
};

function formatSeconds(secs: number): string {
  return secs < 1 ? `${Math.round(secs * 1000)} ms` : `${secs.toFixed(2)} s`;
}

function TurnTimings({ turn }: { turn: Turn }) {
  const metrics = turn.conversation_turn_metrics?.metrics ?? {};
  const entries = Object.entries(metrics).filter(
    (e): e is [string, { elapsed_time: number }] => typeof e[1]?.elapsed_time === "number",
  );
  const model = turn.producing_llm ?? turn.llm_override;
  if (entries.length === 0 && !model) return null;
  return (
    <ul className="turn-timings" aria-label="Timings">
      {entries.map(([name, value]) => (
        <li key={name}>
          {METRIC_NAMES[name] ?? name}: {formatSeconds(value.elapsed_time)}
        </li>
      ))}
      {model && <li>Model: {model}</li>}
    </ul>
  );
}

function ToolCallDetails({ call }: { call: ToolCall }) {
  const details = call.tool_details as { method?: string; url?: string } | null | undefined;
  return (
    <details className="tool">
      <summary>
        Tool call: <code>{call.tool_name ?? "unknown"}</code>
        {call.type && <span className="muted"> ({call.type})</span>}
      </summary>
      {details?.url && (
        <p className="tool-line">
          <code>
            {details.method ?? ""} {details.url}
          </code>
        </p>
      )}
      <p className="tool-line">Parameters</p>
      <pre>{prettyJson(call.params_as_json) || "{}"}</pre>
    </details>
  );
}

function ToolResultDetails({ result }: { result: ToolResult }) {
  const text =
    result.result_value !== undefined && result.result_value !== ""
      ? prettyJson(result.result_value)
      : result.result !== undefined
        ? JSON.stringify(result.result, null, 2)
        : "";
  return (
    <details className={`tool${result.is_error ? " tool-error" : ""}`}>
      <summary>
        Tool result: <code>{result.tool_name ?? "unknown"}</code>{" "}
        {result.is_error ? (
          <span className="badge failure">error</span>
        ) : (
          <span className="badge success">ok</span>
        )}
        {typeof result.tool_latency_secs === "number" && (
          <span className="muted"> in {formatSeconds(result.tool_latency_secs)}</span>
        )}
      </summary>
      {result.is_error && (
        <p className="tool-line error">
          {result.error_type ?? "Error"}
          {result.raw_error_message ? `: ${result.raw_error_message}` : ""}
        </p>
      )}
      <p className="tool-line">Result</p>
      <pre>{text || "(empty)"}</pre>
    </details>
  );
}

export function ConversationTranscript({ turns, activeIndex, playing, onSeek }: Props) {
  const items = useRef<(HTMLLIElement | null)[]>([]);

  useEffect(() => {
    if (!playing || activeIndex === null) return;
    items.current[activeIndex]?.scrollIntoView({ block: "nearest" });
  }, [activeIndex, playing]);

  if (turns.length === 0) return <p className="muted">This conversation has no transcript.</p>;
  return (
    <ol className="transcript">
      {turns.map((turn, i) => {
        const role = turn.role ?? "unknown";
        const at = typeof turn.time_in_call_secs === "number" ? turn.time_in_call_secs : null;
        const active = i === activeIndex;
        return (
          <li
            // The transcript is fixed for the page's life: the index is the turn's identity.
            // biome-ignore lint/suspicious/noArrayIndexKey: turns have no id of their own.
            key={i}
            ref={(element) => {
              items.current[i] = element;
            }}
            className={`turn turn-${role}${active ? " turn-active" : ""}`}
            aria-current={active ? "true" : undefined}
            data-time={at ?? undefined}
          >
            <div className="turn-head">
              <span className="turn-role">{ROLE_NAMES[role] ?? role}</span>
              {at !== null &&
                (onSeek ? (
                  <button type="button" className="secondary turn-time" onClick={() => onSeek(at)}>
                    <span className="visually-hidden">Play from </span>
                    {formatDuration(at)}
                  </button>
                ) : (
                  <span className="turn-time muted">{formatDuration(at)}</span>
                ))}
              {turn.interrupted && <span className="badge warning">interrupted</span>}
            </div>
            {turn.message && <p className="turn-message">{turn.message}</p>}
            {(turn.tool_calls ?? []).map((call, k) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a call's request id may repeat or be missing.
              <ToolCallDetails key={k} call={call} />
            ))}
            {(turn.tool_results ?? []).map((result, k) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: as above.
              <ToolResultDetails key={k} result={result} />
            ))}
            <TurnTimings turn={turn} />
          </li>
        );
      })}
    </ol>
  );
}
