/**
 * A small live call's recording for the recording-storage suites, and how to read an MP3 of it
 * back: the user speaks (a 440 Hz tone) from 0 to 1 s, the agent (660 Hz) from 1.5 to 2.5 s.
 */
import { MPEGDecoder } from "mpg123-decoder";
import { CallRecording } from "../../src/recording/call-recording.js";
import { rms, tone } from "../recording/signals.js";

/** The recordings' sample rate. */
export const RATE = 16_000;
/** The call's length in seconds: where the agent stops. */
export const CALL_SECONDS = 2.5;
/** LAME's encoder delay (576 + 529 samples): lamejs writes no tag saying so, so a decoder keeps it. */
export const ENCODER_DELAY = 1105;
/** Samples per MPEG-2 Layer III frame (the most padding at the end). */
export const FRAME = 576;
/** The RMS level of the test tones (peak 8000), as a decoder's floats. */
export const TONE_LEVEL = 8000 / 32768 / Math.SQRT2;

/** Builds the call: who speaks is up to the caller (both by default). */
export function buildCallRecording(speakers: { user?: boolean; agent?: boolean } = {}): CallRecording {
  const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
  if (speakers.user ?? true) recording.addUser(0, tone(440, 1, RATE));
  if (speakers.agent ?? true) recording.addAgent(1500, tone(660, 1, RATE));
  return recording;
}

/** Decodes an MP3 to mono samples on the call's timeline (the encoder delay skipped). */
export async function decodeCallMp3(mp3: Uint8Array): Promise<{ samples: Float32Array; sampleRate: number }> {
  const decoder = new MPEGDecoder();
  await decoder.ready;
  try {
    const decoded = decoder.decode(mp3);
    if (decoded.errors.length > 0)
      throw new Error(`the MP3 did not decode: ${JSON.stringify(decoded.errors)}`);
    const samples = decoded.channelData[0] ?? new Float32Array();
    return { samples: samples.subarray(ENCODER_DELAY), sampleRate: decoded.sampleRate };
  } finally {
    decoder.free();
  }
}

/** Whether there is a tone (`true`) or silence (`false`) in each speaker's window. */
export function whoSpeaks(samples: Float32Array): { user: boolean | "unclear"; agent: boolean | "unclear" } {
  const level = (from: number, to: number) => {
    const value = rms(samples, RATE, from, to);
    if (value > TONE_LEVEL * 0.8) return true;
    if (value < TONE_LEVEL / 50) return false;
    return "unclear" as const;
  };
  return { user: level(0.1, 0.9), agent: level(1.6, 2.4) };
}
