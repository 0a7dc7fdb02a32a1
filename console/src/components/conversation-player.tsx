/**
 * The recording of a conversation with its waveform (wavesurfer.js): play/pause, the position as
 * text and as a slider, and a choice of track (both speakers, the caller, the agent) where the
 * server keeps each speaker's track. The audio is fetched with the API key (`apiFetch`) and loaded
 * as a Blob. The page seeks it through `handle` (a transcript turn's time) and hears its position
 * through `onTime`.
 */
import { type RefObject, useEffect, useId, useRef, useState } from "react";
import WaveSurfer from "wavesurfer.js";
import { apiFetch } from "../api/client";
import { formatDuration } from "../format";

/** What the page can ask of the player. */
export interface PlayerHandle {
  /** Moves to `secs` (playing on if it was playing). */
  seek(secs: number): void;
}

/** Which recording is heard: the mix, or one speaker's track (`?track=` of GET audio). */
type Track = "both" | "user" | "agent";

interface Props {
  conversationId: string;
  hasUserAudio: boolean;
  hasResponseAudio: boolean;
  /** Set to the player's controls once it exists. */
  handle: RefObject<PlayerHandle | null>;
  /** The position (seconds) while playing or after a seek, and whether it is playing. */
  onTime: (secs: number, playing: boolean) => void;
}

/** A CSS variable of the page's colour scheme (the waveform is drawn on a canvas, not styled by CSS). */
function cssColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function ConversationPlayer({
  conversationId,
  hasUserAudio,
  hasResponseAudio,
  handle,
  onTime,
}: Props) {
  const container = useRef<HTMLDivElement>(null);
  const surfer = useRef<WaveSurfer | null>(null);
  const resumeAt = useRef(0);
  const [track, setTrack] = useState<Track>("both");
  const [state, setState] = useState<"loading" | "ready" | "error">("loading");
  const [error, setError] = useState<string | null>(null);
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(0);
  const onTimeRef = useRef(onTime);
  onTimeRef.current = onTime;
  const trackId = useId();
  const positionId = useId();

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const controller = new AbortController();
    const ws = WaveSurfer.create({
      container: element,
      height: 72,
      waveColor: cssColor("--fg-muted", "#555d68"),
      progressColor: cssColor("--accent", "#1d4ed8"),
      cursorColor: cssColor("--fg", "#1b1f24"),
      cursorWidth: 2,
      barWidth: 2,
      barGap: 1,
      barRadius: 2,
    });
    surfer.current = ws;
    setState("loading");
    setError(null);
    setPlaying(false);
    const report = (secs: number) => {
      setTime(secs);
      onTimeRef.current(secs, ws.isPlaying());
    };
    ws.on("ready", (secs) => {
      setDuration(secs);
      setState("ready");
      if (resumeAt.current > 0) ws.setTime(Math.min(resumeAt.current, secs));
    });
    ws.on("timeupdate", report);
    ws.on("play", () => {
      setPlaying(true);
      onTimeRef.current(ws.getCurrentTime(), true);
    });
    ws.on("pause", () => {
      setPlaying(false);
      onTimeRef.current(ws.getCurrentTime(), false);
    });
    ws.on("error", () => {
      setState("error");
      setError("The recording could not be played in this browser. Download it to listen to it.");
    });
    handle.current = {
      seek(secs: number) {
        const length = ws.getDuration();
        ws.setTime(length > 0 ? Math.min(secs, length) : secs);
        report(ws.getCurrentTime());
      },
    };
    apiFetch("GET", `/v1/convai/conversations/${encodeURIComponent(conversationId)}/audio`, {
      query: { track: track === "both" ? undefined : track },
      signal: controller.signal,
    })
      .then((response) => response.blob())
      .then((blob) => {
        if (!controller.signal.aborted) return ws.loadBlob(blob);
      })
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        setState("error");
        setError(
          `${e instanceof Error ? e.message : String(e)} Reload the page to try again, or download the audio.`,
        );
      });
    return () => {
      controller.abort();
      resumeAt.current = ws.getCurrentTime();
      handle.current = null;
      surfer.current = null;
      ws.destroy();
    };
  }, [conversationId, track, handle]);

  const ready = state === "ready";
  const tracks = hasUserAudio || hasResponseAudio;
  return (
    <div
      className="conversation-player"
      data-current-time={time.toFixed(2)}
      data-state={state}
      data-playing={playing}
    >
      <div className="player-controls">
        <button type="button" onClick={() => surfer.current?.playPause()} disabled={!ready}>
          {playing ? "Pause" : "Play"}
        </button>
        <span className="player-time" data-testid="player-time">
          {formatDuration(time)} / {formatDuration(duration)}
        </span>
        <label className="visually-hidden" htmlFor={positionId}>
          Position
        </label>
        <input
          id={positionId}
          className="player-position"
          type="range"
          min={0}
          max={Math.max(duration, 0)}
          step={1}
          value={Math.min(time, duration)}
          disabled={!ready}
          aria-valuetext={`${formatDuration(time)} of ${formatDuration(duration)}`}
          onChange={(event) => handle.current?.seek(Number(event.target.value))}
        />
        {tracks && (
          <span className="player-track">
            <label htmlFor={trackId}>Track</label>
            <select id={trackId} value={track} onChange={(event) => setTrack(event.target.value as Track)}>
              <option value="both">both</option>
              {hasUserAudio && <option value="user">caller</option>}
              {hasResponseAudio && <option value="agent">agent</option>}
            </select>
          </span>
        )}
      </div>
      <div ref={container} className="player-waveform" aria-hidden="true" />
      {state === "loading" && (
        <p className="muted" role="status">
          Loading the recording…
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
