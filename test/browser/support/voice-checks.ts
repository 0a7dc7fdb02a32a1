/**
 * What every browser voice call must show, with providers or in development mode: the mode went
 * speaking → listening, the reply was interrupted and corrected to its heard part (on the page and
 * in the stored transcript), and the stored recording is an MP3 as long as the call, with the
 * user's track loud where the user spoke and the agent's where the agent did.
 */
import { expect } from "vitest";
import type { TestServer } from "../../support/test-server.js";
import {
  type BrowserVoiceCall,
  BURST_SECONDS,
  eventsOf,
  GAP_SECONDS,
  metric,
  readRecording,
  readStoredConversation,
  spokeThenListened,
} from "./voice-call.js";

/**
 * Creates a voice agent whose input and output are `format`, that ends a turn after 500 ms of
 * silence (`eager`), greets briefly, and records the call.
 */
export async function createVoiceAgent(server: TestServer, format: string): Promise<string> {
  const response = await server.fetch("/v1/convai/agents/create", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      conversation_config: {
        agent: { first_message: "Hello.", language: "en", prompt: { prompt: "You track orders." } },
        asr: { user_input_audio_format: format },
        tts: { agent_output_audio_format: format, voice_id: "alloy" },
        turn: { turn_eagerness: "eager" },
      },
      platform_settings: { privacy: { record_voice: true } },
    }),
  });
  if (response.status !== 200) throw new Error(`creating the agent answered ${response.status}`);
  return ((await response.json()) as { agent_id: string }).agent_id;
}

/**
 * The tone level that counts as "spoken" in a decoded track: the mic's bursts (peak 0.5, altered
 * by the browser's processing) and the agent's speech measure 0.05 and more; silence and MP3 noise
 * stay under 0.005.
 */
const SPOKEN = 0.02;
const QUIET = 0.005;

/** Checks the page's events, the stored transcript and the stored recording of a finished call. */
export async function checkVoiceCall(
  server: TestServer,
  call: BrowserVoiceCall,
  expected: { reply?: RegExp | string },
): Promise<void> {
  const { events } = call;
  expect(eventsOf(events, "error")).toEqual([]);
  expect(call.audioChunks).toBeGreaterThan(0);
  expect(spokeThenListened(events)).toBe(true);
  expect(eventsOf(events, "disconnect")[0]?.reason).toBe("user");

  const [correction] = eventsOf(events, "correction");
  if (!correction) throw new Error("no correction");
  if (typeof expected.reply === "string") expect(correction.original).toBe(expected.reply);
  else if (expected.reply) expect(correction.original).toMatch(expected.reply);
  expect(correction.corrected.length).toBeLessThan(correction.original.length);
  expect(correction.original.startsWith(correction.corrected)).toBe(true);

  const stored = await readStoredConversation(server, call.conversationId);
  expect(stored).toMatchObject({ has_audio: true, has_user_audio: true, has_response_audio: true });
  const turns = stored.transcript;
  const cut = turns.findIndex((turn) => turn.interrupted === true);
  expect(cut).toBeGreaterThan(0);
  expect(turns[cut]).toMatchObject({
    role: "agent",
    message: correction.corrected,
    original_message: correction.original,
  });
  const user = turns[cut - 1];
  expect(user?.role).toBe("user");
  const speechStart = metric(user, "convai_user_speech_start") ?? Number.NaN;
  const speechEnd = metric(user, "convai_user_speech_end") ?? Number.NaN;
  const agentStart = speechEnd + (metric(turns[cut], "convai_time_to_first_audio") ?? Number.NaN);
  expect(
    [speechStart, speechEnd, agentStart].every(Number.isFinite),
    `the user's speech_start/speech_end and the agent's time_to_first_audio metrics are stored: ${JSON.stringify(turns)}`,
  ).toBe(true);

  const mix = await readRecording(server, call.conversationId);
  const userTrack = await readRecording(server, call.conversationId, "user");
  const agentTrack = await readRecording(server, call.conversationId, "agent");
  expect(userTrack.level(speechStart + 0.15, speechEnd - 0.15)).toBeGreaterThan(SPOKEN);
  expect(agentTrack.level(speechStart + 0.15, speechEnd - 0.15)).toBeLessThan(QUIET);
  expect(agentTrack.level(agentStart + 0.05, agentStart + 0.3)).toBeGreaterThan(SPOKEN);
  // Between the bursts (the mic script's 1.1 s gap) the user's track is quiet.
  const gapEnd = speechStart + BURST_SECONDS + GAP_SECONDS - 0.1;
  expect(userTrack.level(speechEnd + 0.1, gapEnd)).toBeLessThan(QUIET);
  // The second burst, spoken over the reply, is on the user's track.
  expect(userTrack.level(gapEnd + 0.2, gapEnd + 0.5)).toBeGreaterThan(SPOKEN);

  // The recording spans the call. It runs from the session's start on the server to the end of the
  // last user audio received; the page's clock runs from the client's connect callback (which comes
  // after the metadata frame, the microphone and the audio worklets are set up) to its disconnect
  // callback. Measured here, the recording is 0.1–0.5 s the longer; 1 s leaves room for a busy
  // machine while still catching a recording that loses or adds a stretch of the call.
  const wallSeconds = (call.endedAt - call.connectedAt) / 1000;
  expect(Math.abs(mix.seconds - wallSeconds)).toBeLessThan(1);
  expect(Math.abs(mix.seconds - Number(stored.metadata.call_duration_secs))).toBeLessThanOrEqual(1);
  expect(mix.level(speechStart + 0.15, speechEnd - 0.15)).toBeGreaterThan(SPOKEN);
  expect(mix.level(agentStart + 0.05, agentStart + 0.3)).toBeGreaterThan(SPOKEN);
  // Each track alone is the call's length too.
  expect(Math.abs(userTrack.seconds - mix.seconds)).toBeLessThan(0.1);
  expect(Math.abs(agentTrack.seconds - mix.seconds)).toBeLessThan(0.1);
}
