/**
 * The voice benchmark's microphone: `user_audio_chunk` frames of 32 ms at pcm_16000, built and
 * encoded once (base64 inside the JSON frame, as a Buffer ready for the socket) and shared by
 * every session. A spoken turn is a burst of about 1 s made of four tone steps of different pitch
 * and level (the energy VAD treats one level held for 1.5 s as noise, so a steady tone would not
 * do); between turns, silence with a faint noise floor (about −58 dBFS), as a real microphone sends.
 */

/** The sample rate of the user's audio (`pcm_16000`). */
export const VOICE_RATE = 16_000;
/** One `user_audio_chunk`: 32 ms, one VAD frame. */
export const CHUNK_MS = 32;
const CHUNK_SAMPLES = (VOICE_RATE * CHUNK_MS) / 1000;
/** The burst's tone steps: pitch (Hz), amplitude, and 32 ms chunks each. */
const STEPS: [number, number, number][] = [
  [190, 9000, 8],
  [260, 5000, 8],
  [150, 11_000, 8],
  [230, 6500, 8],
];
/** Bytes of one millisecond of the agent's `pcm_16000` audio. */
const OUTPUT_BYTES_PER_MS = 32;

/** The pre-encoded frames. */
export interface VoiceAudio {
  /** One 32 ms chunk of silence, as a whole text frame. */
  silence: Buffer;
  /** The burst's chunks in order, each a whole text frame. */
  burst: Buffer[];
  /** The burst's length in ms. */
  burstMs: number;
}

/** The faint noise floor under everything (RMS about 40 of 32768). */
function noise(n: number): number {
  return (n % 7) * 20 - 60;
}

function frameOf(samples: Int16Array): Buffer {
  const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  return Buffer.from(JSON.stringify({ user_audio_chunk: bytes.toString("base64") }));
}

/** Builds the silence chunk and the burst's chunks (the tone keeps its phase across a step's chunks). */
export function buildVoiceAudio(): VoiceAudio {
  const silence = new Int16Array(CHUNK_SAMPLES);
  for (let n = 0; n < silence.length; n++) silence[n] = noise(n);
  const burst: Buffer[] = [];
  for (const [hz, amplitude, chunks] of STEPS) {
    const step = new Int16Array(chunks * CHUNK_SAMPLES);
    for (let n = 0; n < step.length; n++)
      step[n] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * n) / VOICE_RATE)) + noise(n);
    for (let c = 0; c < chunks; c++)
      burst.push(frameOf(step.subarray(c * CHUNK_SAMPLES, (c + 1) * CHUNK_SAMPLES)));
  }
  return { silence: frameOf(silence), burst, burstMs: burst.length * CHUNK_MS };
}

/** The playing time (ms) of an `audio` event's `audio_base_64` at pcm_16000, without decoding it. */
export function audioMsOfBase64(base64: string): number {
  const padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
  return ((base64.length / 4) * 3 - padding) / OUTPUT_BYTES_PER_MS;
}
