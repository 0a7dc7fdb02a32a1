/**
 * The fake-microphone path the voice tests will use: Chromium started with
 * `--use-file-for-fake-audio-capture` on a WAV written by fake-mic.ts gives the page a live
 * microphone track that carries that file's tone.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeChromium, launchChromium } from "./support/chromium.js";
import {
  type ClientPageGlobals,
  type ClientPageServer,
  openClientPage,
  startClientPageServer,
} from "./support/client-page.js";
import {
  encodeFakeMicWav,
  FAKE_MIC_SAMPLE_RATE,
  FAKE_MIC_TONE_HZ,
  writeFakeMicWav,
} from "./support/fake-mic.js";

/** The tone written into the fake microphone's file (the fake device's own beep peaks near 400 Hz). */
const TONE_HZ = FAKE_MIC_TONE_HZ;

describe("Chromium's fake microphone fed from a WAV file", () => {
  let browser: Browser | undefined;
  let pages: ClientPageServer | undefined;
  let wav: string | undefined;

  beforeAll(async () => {
    wav = writeFakeMicWav();
    // allSettled, not all: when one start fails, the other's browser or server is still kept for afterAll to close.
    const [launched, started] = await Promise.allSettled([
      launchChromium({ fakeMicWav: wav }),
      startClientPageServer(),
    ]);
    if (launched.status === "fulfilled") browser = launched.value;
    if (started.status === "fulfilled") pages = started.value;
    if (launched.status === "rejected") throw launched.reason;
    if (started.status === "rejected") throw started.reason;
  });
  afterAll(async () => {
    await closeChromium(browser);
    await pages?.close();
    if (wav) rmSync(path.dirname(wav), { recursive: true, force: true });
  });

  it("writes a 16 kHz mono 16-bit WAV of the given length", () => {
    const bytes = encodeFakeMicWav([
      { hz: TONE_HZ, ms: 100 },
      { hz: 0, ms: 50 },
    ]);
    expect(bytes.toString("ascii", 0, 4)).toBe("RIFF");
    expect(bytes.toString("ascii", 8, 16)).toBe("WAVEfmt ");
    expect(bytes.readUInt16LE(22)).toBe(1);
    expect(bytes.readUInt32LE(24)).toBe(FAKE_MIC_SAMPLE_RATE);
    expect(bytes.readUInt16LE(34)).toBe(16);
    expect(bytes.readUInt32LE(40)).toBe(0.15 * FAKE_MIC_SAMPLE_RATE * 2);
    expect(bytes.length).toBe(44 + 0.15 * FAKE_MIC_SAMPLE_RATE * 2);
    // A quarter period into the tone is near its peak; the silence is zero.
    expect(bytes.readInt16LE(44 + 2 * Math.round(FAKE_MIC_SAMPLE_RATE / TONE_HZ / 4))).toBeGreaterThan(
      16_000,
    );
    expect(bytes.readInt16LE(44 + 2 * (0.12 * FAKE_MIC_SAMPLE_RATE))).toBe(0);
  });

  it("gives getUserMedia a live track whose level rises during the tone and falls in the silence", async () => {
    if (!browser || !pages) throw new Error("the suite's setup did not finish");
    const page = await openClientPage(browser, pages);
    try {
      const levels = await page.evaluate(
        (ms) => (globalThis as unknown as ClientPageGlobals).measureMicLevel(ms),
        1_500,
      );
      expect(levels.trackState).toBe("live");
      expect(levels.maxRms).toBeGreaterThan(0.01);
      expect(levels.minRms).toBeLessThan(levels.maxRms / 10);
      // The strongest frequency is the file's tone, within the analyser's resolution.
      expect(Math.abs(levels.peakHz - TONE_HZ)).toBeLessThan((2 * levels.sampleRate) / 2048 + 1);
    } finally {
      await page.context().close();
    }
  });
});
