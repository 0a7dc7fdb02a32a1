import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { tone } from "../../test/recording/signals.js";
import { CallRecording } from "./call-recording.js";
import { encodeMp3, encodeRecordingMp3, JobLimiter, mp3EncodeSlots } from "./mp3-encoder.js";

const RATE = 16_000;

describe("encodeRecordingMp3 after a failure", () => {
  it("keeps the recording's audio when the encode times out, so the advised retry encodes all of it", async () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
    recording.addUser(0, tone(440, 5, RATE));
    recording.addAgent(5000, tone(440, 1, RATE));
    await expect(encodeRecordingMp3(recording, "mix", { timeoutMs: 1 })).rejects.toThrow(/retry/);
    expect(recording.durationMs).toBe(6000);
    expect(recording.hasUser && recording.hasAgent).toBe(true);

    const { mp3 } = await encodeRecordingMp3(recording, "mix");
    // 48 kbit/s: 6 s is about 36 kB (it was a few hundred bytes of silence when the audio was lost).
    expect(mp3.byteLength).toBeGreaterThan(30_000);
    expect(recording.durationMs).toBe(0);
  });
});

describe("the MP3 encode queue", () => {
  it("runs at most one encode per spare core at once, in order", async () => {
    const limiter = new JobLimiter(2);
    const releases: (() => void)[] = [];
    const started: number[] = [];
    const jobs = [0, 1, 2, 3, 4].map((n) =>
      limiter.run(
        () =>
          new Promise<number>((resolve) => {
            started.push(n);
            releases.push(() => resolve(n));
          }),
      ),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(limiter.running).toBe(2);
    expect(limiter.waiting).toBe(3);
    for (let n = 0; n < 5; n++) {
      releases[n]?.();
      await jobs[n];
      await new Promise((resolve) => setImmediate(resolve));
      expect(started).toEqual([0, 1, 2, 3, 4].slice(0, Math.min(5, n + 3)));
      expect(limiter.running).toBeLessThanOrEqual(2);
    }
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.running).toBe(0);
    expect(mp3EncodeSlots.max).toBe(Math.max(1, availableParallelism() - 1));
  });

  it("frees a slot when a job fails or throws at once", async () => {
    const limiter = new JobLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(
      limiter.run(() => {
        throw new Error("sync");
      }),
    ).rejects.toThrow("sync");
    expect(await limiter.run(async () => 7)).toBe(7);
    expect(limiter.running).toBe(0);
  });

  it("starts an encode's time limit only when the encode leaves the queue", async () => {
    let release = () => {};
    const blocker = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holders = Array.from({ length: mp3EncodeSlots.max }, () => mp3EncodeSlots.run(() => blocker));
    let settled = false;
    const queued = encodeMp3(tone(440, 1, RATE), RATE, { timeoutMs: 1 }).finally(() => {
      settled = true;
    });
    queued.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Queued behind the held slots for 100 ms: a 1 ms limit running since the call would have passed.
    expect(settled).toBe(false);
    release();
    await Promise.all(holders);
    await expect(queued).rejects.toThrow(/longer than 1 ms/);
  });
});
