/**
 * The voice benchmark's client: many raw `ws` voice sessions in this one process. Sessions are set
 * up a bounded number at a time (connect → init frame → metadata, which must announce pcm_16000
 * both ways); from its metadata on, each streams its microphone in real time, a pre-encoded
 * 32 ms `user_audio_chunk` every 32 ms (bench/voice-audio.ts), answering pings. Once every greeting
 * has arrived, the talk phase starts: each session speaks a ~1 s burst every `periodMs`, its first
 * staggered over the period, for `seconds`; then the client waits for the replies and closes
 * every session with 1000.
 *
 * One timer drives every session: on each tick it sends each session the chunks that are due by
 * its own timeline (start + 32 ms × n), so a late tick catches up rather than drifting. What is
 * timed (`performance.now()` in this process):
 * - per spoken turn: when its burst ended, when the chunk that completed the server's silence
 *   window was sent (the 16th silent chunk after the burst, with `eager`'s 500 ms window: the
 *   turn's end is decided on the frame that ends 512 ms after the last voiced one), the
 *   `user_transcript` (its benchmark token), the reply's first `audio` event and `agent_response`;
 * - per reply (greetings too): its `audio` events as a playback queue starting when the first
 *   arrives: an event is late by (its arrival − when the audio before it has finished playing).
 */
import { buildVoiceAudio, CHUNK_MS } from "./voice-audio.js";
import type { ReplyAudio, VoiceLoadOptions, VoiceLoadResult, VoiceTurnRecord } from "./voice-records.js";
import { VoiceSession } from "./voice-session.js";

export type {
  ReplyAudio,
  VoiceLoadOptions,
  VoiceLoadResult,
  VoiceSessionRecord,
  VoiceTurnRecord,
} from "./voice-records.js";

/** How often the one timer sends every session the chunks due. */
const TICK_MS = 4;

/** Runs the load and returns every session's, turn's and reply's record. */
export async function runVoiceLoad(options: VoiceLoadOptions): Promise<VoiceLoadResult> {
  const audio = buildVoiceAudio();
  const turns: VoiceTurnRecord[] = [];
  const replies: ReplyAudio[] = [];
  const sessions: VoiceSession[] = [];
  const ticker = setInterval(() => {
    const now = performance.now();
    for (const session of sessions) session.tick(now);
  }, TICK_MS);
  try {
    let next = 0;
    const setupWorker = async () => {
      while (next < options.sessions) {
        const session = new VoiceSession(next++, options.url, audio, options, turns, replies);
        sessions.push(session);
        await session.ready();
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(options.setupConcurrency, options.sessions) }, setupWorker),
    );
    await Promise.all(sessions.map((session) => session.greeting()));

    const talkStart = performance.now() + options.leadMs;
    const talkEnd = talkStart + options.seconds * 1000;
    sessions.forEach((session, i) => {
      session.talk(talkStart + (i / sessions.length) * options.periodMs, talkEnd);
    });
    await new Promise((resolve) => setTimeout(resolve, options.leadMs));
    options.onPhase?.("talk-start");
    await new Promise((resolve) => setTimeout(resolve, talkEnd - performance.now()));
    // the last bursts end and their silence windows pass; then every reply must come
    await new Promise((resolve) =>
      setTimeout(resolve, audio.burstMs + options.silenceWindowMs + 2 * CHUNK_MS),
    );
    await Promise.all(sessions.map((session) => session.idle()));
    const talkSeconds = (performance.now() - talkStart) / 1000;
    options.onPhase?.("talk-done");
    clearInterval(ticker);
    await Promise.all(sessions.map((session) => session.close()));
    return { sessions: sessions.map((s) => s.record), turns, replies, talkSeconds };
  } finally {
    clearInterval(ticker);
  }
}
