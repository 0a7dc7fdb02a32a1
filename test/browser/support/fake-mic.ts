/**
 * A WAV file for Chromium's fake microphone (`--use-file-for-fake-audio-capture`, which loops it):
 * 16 kHz mono 16-bit PCM, bursts of a sine tone standing in for speech, separated by silence.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** The fake microphone's sample rate. */
export const FAKE_MIC_SAMPLE_RATE = 16_000;

/** One stretch of the recording: a tone at `hz` (0 for silence) lasting `ms`. */
export interface FakeMicSegment {
  hz: number;
  ms: number;
  /** The tone's amplitude, a fraction of full scale (default 0.5). */
  level?: number;
}

/**
 * The default tone. Chromium's own fake device beeps with its strongest frequency near 400 Hz, so a
 * 1 kHz tone shows that the file, not the built-in beep, reached the page.
 */
export const FAKE_MIC_TONE_HZ = 1000;

/** The default recording: 600 ms of tone standing in for speech, then 400 ms of silence, twice. */
export const DEFAULT_FAKE_MIC_SEGMENTS: readonly FakeMicSegment[] = [
  { hz: FAKE_MIC_TONE_HZ, ms: 600 },
  { hz: 0, ms: 400 },
  { hz: FAKE_MIC_TONE_HZ, ms: 600 },
  { hz: 0, ms: 400 },
];

/** The tone's amplitude, as a fraction of full scale (loud enough to survive the mic processing). */
const AMPLITUDE = 0.5;

/**
 * Encodes the segments as a WAV file's bytes. Hand-written: a 44-byte RIFF header and the samples
 * are all it takes, and no WAV package is among the project's dependencies.
 */
export function encodeFakeMicWav(segments: readonly FakeMicSegment[] = DEFAULT_FAKE_MIC_SEGMENTS): Buffer {
  const counts = segments.map(({ ms }) => Math.round((FAKE_MIC_SAMPLE_RATE * ms) / 1000));
  const data = counts.reduce((sum, count) => sum + count, 0) * 2;
  const wav = Buffer.alloc(44 + data);
  wav.write("RIFF", 0, "ascii");
  wav.writeUInt32LE(36 + data, 4);
  wav.write("WAVEfmt ", 8, "ascii");
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(FAKE_MIC_SAMPLE_RATE, 24);
  wav.writeUInt32LE(FAKE_MIC_SAMPLE_RATE * 2, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write("data", 36, "ascii");
  wav.writeUInt32LE(data, 40);
  let offset = 44;
  segments.forEach(({ hz, level = AMPLITUDE }, s) => {
    for (let i = 0; i < (counts[s] ?? 0); i++, offset += 2) {
      const value = level * Math.sin((2 * Math.PI * hz * i) / FAKE_MIC_SAMPLE_RATE);
      wav.writeInt16LE(Math.round(value * 32_767), offset);
    }
  });
  return wav;
}

/** Writes the recording to a new temp directory and returns the WAV's absolute path. */
export function writeFakeMicWav(segments: readonly FakeMicSegment[] = DEFAULT_FAKE_MIC_SEGMENTS): string {
  const dir = mkdtempSync(path.join(tmpdir(), "openconvai-fake-mic-"));
  const file = path.join(dir, "mic.wav");
  writeFileSync(file, encodeFakeMicWav(segments));
  return file;
}
