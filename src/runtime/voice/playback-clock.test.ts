import { describe, expect, it } from "vitest";
import { type AudioAlignment, estimateAlignment, splitAlignment } from "./alignment.js";
import { PlaybackClock } from "./playback-clock.js";

/** 30 characters, one per 100 ms: 3 s of speech with a known timing. */
const TEXT = "the quick brown fox jumps over";

function uniformAlignment(text: string, msPerChar: number): AudioAlignment {
  const chars = Array.from(text);
  return {
    chars,
    char_start_times_ms: chars.map((_, i) => i * msPerChar),
    char_durations_ms: chars.map(() => msPerChar),
  };
}

/** Sends the text's 3 s of audio as 100 ms chunks, all at once at `sentAtMs`. */
function sendAll(clock: PlaybackClock, sentAtMs: number, alignment = uniformAlignment(TEXT, 100)): void {
  const durations = new Array<number>(30).fill(100);
  for (const part of splitAlignment(alignment, durations)) clock.schedule(sentAtMs, 100, part);
}

describe("PlaybackClock", () => {
  it("queues chunks sent faster than real time one after the other", () => {
    const clock = new PlaybackClock();
    const first = clock.schedule(0, 100);
    const second = clock.schedule(0, 100);
    const late = clock.schedule(500, 100);
    expect([first.playsAtMs, second.playsAtMs, late.playsAtMs]).toEqual([0, 100, 500]);
    expect(clock.endsAtMs).toBe(600);
    expect(clock.isPlayingAt(50)).toBe(true);
    expect(clock.isPlayingAt(600)).toBe(false);
    // The gap between 200 and 500 ms played nothing.
    expect(clock.playedMsAt(550)).toBe(250);
  });

  it("says 1.2 s played when 3 s sent at once is interrupted at 1.2 s, and which words were heard", () => {
    const clock = new PlaybackClock();
    sendAll(clock, 0);
    expect(clock.endsAtMs).toBe(3000);
    const cut = clock.interrupt(1200);
    expect(cut.playedMs).toBe(1200);
    expect(cut.unplayedMs).toBe(1800);
    expect(cut.fullText).toBe(TEXT);
    // 12 characters had started ("the quick br"); the word cut in the middle is dropped.
    expect(cut.heardText).toBe("the quick");
    expect(clock.interrupt(1200, false).heardText).toBe("the quick br");
  });

  it("places the reply after the moment it was sent", () => {
    const clock = new PlaybackClock();
    sendAll(clock, 10_000);
    expect(clock.interrupt(10_000).heardText).toBe("");
    expect(clock.interrupt(11_600).playedMs).toBe(1600);
    expect(clock.interrupt(11_600).heardText).toBe("the quick brown");
    expect(clock.interrupt(20_000).heardText).toBe(TEXT);
  });

  it("works with an estimated alignment, and starts over after reset", () => {
    const clock = new PlaybackClock();
    const text = "Hello there, how can I help you today?";
    const alignment = estimateAlignment(text, 3000);
    const parts = splitAlignment(alignment, [1000, 1000, 1000]);
    for (const part of parts) clock.schedule(0, 1000, part);
    const heard = clock.interrupt(1500).heardText;
    expect(text.startsWith(heard)).toBe(true);
    expect(heard.length).toBeGreaterThan(10);
    expect(heard.length).toBeLessThan(text.length / 2 + 5);
    clock.reset();
    expect(clock.interrupt(1500)).toEqual({ playedMs: 0, unplayedMs: 0, fullText: "", heardText: "" });
    expect(clock.schedule(2000, 100).playsAtMs).toBe(2000);
  });

  it("does not count a word cut before its apostrophe as heard", () => {
    const clock = new PlaybackClock();
    clock.schedule(0, 1000, uniformAlignment("I don't know", 50));
    expect(clock.interrupt(250).heardText).toBe("I");
    expect(clock.interrupt(450).heardText).toBe("I don't");
  });

  it("drops a word cut in the middle with the punctuation attached to it", () => {
    const clock = new PlaybackClock();
    clock.schedule(0, 1000, uniformAlignment("You said: [speech 0.9 s]", 40));
    // 500 ms in: "You said: [spee" has played.
    expect(clock.interrupt(500).heardText).toBe("You said:");
  });

  it("rejects a bad chunk duration with a clear message", () => {
    expect(() => new PlaybackClock().schedule(0, -1)).toThrow(/finite number/);
  });
});
