/**
 * What encoding a call recording to MP3 costs, and whether it stalls the server's event loop.
 * Builds a 5-minute 16 kHz two-track call (alternating user and agent turns of tone-plus-noise
 * with pauses), mixes it down and encodes it in the worker thread (`encodeRecordingMp3`), and
 * prints:
 * - the worker's encode time (its thread is busy throughout, so this is its CPU time, plus any
 *   time the OS gave the core to someone else),
 * - the process's CPU time over the encode (all threads: worker, main, garbage collector),
 * - the main thread's longest event-loop block during the encode (`monitorEventLoopDelay`, 1 ms
 *   resolution), next to the same measure over an equal idle stretch first (what the machine's
 *   own load costs the loop), and for comparison the time `mixdown` takes on the main thread.
 *
 * Run: `node --import tsx bench/recording-encode.ts [--minutes 5] [--kbps 48] [--runs 1]`.
 * Targets: ≤ 2 s of CPU for 5 minutes of audio; the main loop never blocked > 10 ms.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { CallRecording, RECORDING_SAMPLE_RATE } from "../src/recording/call-recording.js";
import { mixdown } from "../src/recording/mixdown.js";
import { DEFAULT_MP3_KBPS, encodeRecordingMp3 } from "../src/recording/mp3-encoder.js";

const RATE = RECORDING_SAMPLE_RATE;

/** A turn of speech-like audio: a tone with a slow loudness swell and some noise (seeded). */
function turn(seconds: number, hz: number, seed: number): Int16Array {
  const out = new Int16Array(Math.round(seconds * RATE));
  let state = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    const noise = (state / 2 ** 32 - 0.5) * 3000;
    const swell = 0.5 + 0.5 * Math.sin((2 * Math.PI * 3 * i) / RATE);
    out[i] = Math.round(swell * 7000 * Math.sin((2 * Math.PI * hz * i) / RATE) + noise);
  }
  return out;
}

/** A call of `minutes`: user and agent take turns of 2–7 s with 0.4 s pauses. */
function buildCall(minutes: number): CallRecording {
  const recording = new CallRecording({ sampleRate: RATE, maxSeconds: minutes * 60 });
  let atMs = 0;
  for (let n = 0; atMs < minutes * 60_000; n++) {
    const seconds = 2 + (n % 6);
    const audio = turn(seconds, n % 2 === 0 ? 220 + (n % 7) * 20 : 180 + (n % 5) * 15, n + 1);
    if (n % 2 === 0) recording.addUser(atMs, audio);
    else recording.addAgent(atMs, audio);
    atMs += seconds * 1000 + 400;
  }
  return recording;
}

/** The event-loop delay histogram over `run`, with a 1 ms timer keeping the loop turning. */
async function watchLoop<T>(run: () => Promise<T>): Promise<{ result: T; maxMs: number; p99Ms: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const tick = setInterval(() => {}, 1);
  delay.enable();
  const result = await run();
  delay.disable();
  clearInterval(tick);
  return { result, maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6 };
}

async function measure(minutes: number, kbps: number): Promise<void> {
  const forMixdown = buildCall(minutes);
  const mixStarted = performance.now();
  mixdown(forMixdown, "mix");
  const mixMs = performance.now() - mixStarted;

  const recording = buildCall(minutes);
  const audioSeconds = recording.durationMs / 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const encode = await watchLoop(() => encodeRecordingMp3(recording, "mix", { kbps }));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const { mp3, encodeMs } = encode.result;
  const idle = await watchLoop(() => new Promise((resolve) => setTimeout(resolve, wallMs)));

  const fixed = (n: number, digits = 0) => n.toFixed(digits);
  console.log(
    [
      `audio ${fixed(audioSeconds)} s at ${RATE} Hz → ${fixed(mp3.byteLength / 1024)} KB MP3 at ${kbps} kbit/s`,
      `worker mix + encode time:      ${fixed(encodeMs)} ms (target ≤ ${fixed((2000 * audioSeconds) / 300)} ms)`,
      `wall time (with worker start): ${fixed(wallMs)} ms`,
      `process CPU over the encode:   ${fixed((cpu.user + cpu.system) / 1000)} ms (all threads)`,
      `main loop delay, encoding:     max ${fixed(encode.maxMs, 1)} ms, p99 ${fixed(encode.p99Ms, 1)} ms (target max ≤ 10 ms)`,
      `main loop delay, idle as long: max ${fixed(idle.maxMs, 1)} ms, p99 ${fixed(idle.p99Ms, 1)} ms (the machine's own noise)`,
      `for comparison, mixdown on the main thread: ${fixed(mixMs, 1)} ms`,
    ].join("\n"),
  );
}

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    kbps: { type: "string", default: String(DEFAULT_MP3_KBPS) },
    runs: { type: "string", default: "1" },
  },
});
const runs = Number(values.runs);
for (let run = 1; run <= runs; run++) {
  if (runs > 1) console.log(`run ${run} of ${runs}`);
  await measure(Number(values.minutes), Number(values.kbps));
}
