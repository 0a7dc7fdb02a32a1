/**
 * MP3 encoding of a mono 16-bit PCM recording, run in a worker thread so the encode (seconds of
 * CPU for a long call) never blocks the event loop that serves live sessions. `encodeRecordingMp3`
 * also moves the mixdown there. Each encode starts its own worker and ends it: simple, nothing to
 * pool or leak, and a worker's start-up is small next to an encode. At most one encode per spare
 * core runs at once (`mp3EncodeSlots`), the rest wait their turn, so a burst of ending calls
 * does not take every core from the live sessions; an encode's time limit starts when it runs.
 *
 * A recording's tracks are copied to the worker, not transferred, and the recording is emptied
 * only once the MP3 is back: a worker that times out or crashes takes its memory with it, so a
 * transferred original could not be handed back, and a retry would find nothing. The copy is made
 * in pieces of 16 segments, one per turn of the event loop (all at once, it held the main thread
 * for 5–9 ms per 5 minutes of call), and the audio is held twice while that encode runs.
 */

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type CallRecording, MAX_RECORDING_SECONDS } from "./call-recording.js";
import type { MixdownTrack } from "./mixdown.js";
import type { Mp3EncodeReply, Mp3EncodeRequest, Mp3TrackPiece } from "./mp3-worker.js";

/** The default bit rate: ample for speech at 16 kHz mono (MPEG-2 Layer III), ~21.6 MB an hour. */
export const DEFAULT_MP3_KBPS = 48;

/** Bit rates MPEG-1 Layer III allows (32, 44.1 and 48 kHz) that the encoder offers. */
const MPEG1_KBPS = [32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
/** Bit rates MPEG-2 and 2.5 Layer III allow (8 to 24 kHz) that the encoder offers. */
const MPEG2_KBPS = [8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160];
const MPEG1_RATES = [32_000, 44_100, 48_000];
const MPEG2_RATES = [8000, 11_025, 12_000, 16_000, 22_050, 24_000];

/** Options for `encodeMp3`. */
export interface Mp3EncodeOptions {
  /** Constant bit rate in kbit/s; one the sample rate's MPEG version allows (default 48). */
  kbps?: number;
  /** Give up after this many ms (default: 10 s plus 100 ms per second of audio). */
  timeoutMs?: number;
}

/** An MP3 and what the encode cost on the worker. */
export interface Mp3EncodeResult {
  mp3: Uint8Array;
  /** Time the worker spent mixing and encoding (its thread busy throughout), in ms. */
  encodeMs: number;
}

/**
 * Encodes mono PCM to a constant-bit-rate MP3 in a worker thread. When `samples` owns its whole
 * buffer (as `mixdown` returns) the buffer is transferred and `samples` is empty afterwards;
 * otherwise the samples are copied first. Rejects on a bad setting, a worker error or a timeout.
 */
export async function encodeMp3(
  samples: Int16Array,
  sampleRate: number,
  options: Mp3EncodeOptions = {},
): Promise<Uint8Array> {
  return (await encodeMp3WithStats(samples, sampleRate, options)).mp3;
}

/** `encodeMp3`, also telling how long the worker spent encoding (for measurements). */
export async function encodeMp3WithStats(
  samples: Int16Array,
  sampleRate: number,
  options: Mp3EncodeOptions = {},
): Promise<Mp3EncodeResult> {
  const kbps = options.kbps ?? DEFAULT_MP3_KBPS;
  checkSettings(samples.length, sampleRate, kbps);
  const owned = ownsWholeBuffer(samples) ? samples : samples.slice();
  return await runEncode(
    () => ({ samples: owned, sampleRate, kbps }),
    () => [owned.buffer as ArrayBuffer],
    owned.length,
    sampleRate,
    options,
  );
}

/**
 * Mixes a recording down (one track or both) and encodes it, both in the worker thread. Once the
 * MP3 is back the recording is emptied (`CallRecording.takeTracks`), so call this once the call
 * has ended; on a failure the recording keeps its audio and the encode can be retried.
 */
export async function encodeRecordingMp3(
  recording: CallRecording,
  track: MixdownTrack,
  options: Mp3EncodeOptions = {},
): Promise<Mp3EncodeResult> {
  const kbps = options.kbps ?? DEFAULT_MP3_KBPS;
  checkSettings(recording.durationSamples, recording.sampleRate, kbps);
  const durationSamples = recording.durationSamples;
  const request = (): Mp3EncodeRequest => {
    // Viewed when the encode starts, and copied to the worker (no transfer list): see the module comment.
    const tracks = recording.viewTracks();
    return { tracks, track, sampleRate: tracks.sampleRate, kbps };
  };
  const result = await runEncode(request, () => [], durationSamples, recording.sampleRate, options);
  recording.takeTracks();
  return result;
}

/**
 * Runs jobs with at most `max` at once, the others waiting in order (no bound on the queue: a
 * waiting job holds only what its caller already holds). Hand-written: a dozen lines.
 */
export class JobLimiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(readonly max: number) {}

  /** Jobs running now. */
  get running(): number {
    return this.active;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Runs `job` once a slot is free; settles as the job does and frees the slot. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    try {
      return await job();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** The process-wide limit on MP3 encodes running at once: one per core but one (at least one). */
export const mp3EncodeSlots = new JobLimiter(Math.max(1, availableParallelism() - 1));

/**
 * Runs one encode in a new worker once `mp3EncodeSlots` has a slot: settles once, with a time
 * limit counted from the start, and ends the worker. The request is built when the encode starts.
 */
function runEncode(
  request: () => Mp3EncodeRequest,
  transferList: () => ArrayBuffer[],
  sampleCount: number,
  sampleRate: number,
  options: Mp3EncodeOptions,
): Promise<Mp3EncodeResult> {
  const seconds = sampleCount / sampleRate;
  const timeoutMs = options.timeoutMs ?? 10_000 + Math.ceil(seconds * 100);
  return mp3EncodeSlots.run(() => runWorker(request(), transferList(), timeoutMs));
}

/** One encode in a new worker, within `timeoutMs` from now. */
function runWorker(
  request: Mp3EncodeRequest,
  transferList: ArrayBuffer[],
  timeoutMs: number,
): Promise<Mp3EncodeResult> {
  const { data, pieces } = splitTracks(request);
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = startWorker(data, transferList);
    } catch (error) {
      reject(
        new Error(`could not start the MP3 encoder thread (${String(error)}); check the install and retry`),
      );
      return;
    }
    let settled = false;
    const finish = (error: Error | undefined, result?: Mp3EncodeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (error) reject(error);
      else if (result) resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(`MP3 encoding took longer than ${timeoutMs} ms; retry when the server is less busy`),
        ),
      timeoutMs,
    );
    worker.on("message", (reply: Mp3EncodeReply) => {
      if (reply.ok) finish(undefined, { mp3: reply.mp3, encodeMs: reply.encodeMs });
      else finish(new Error(`MP3 encoding failed: ${reply.message}; check the sample rate and bit rate`));
    });
    worker.on("error", (error) =>
      finish(new Error(`the MP3 encoder thread failed: ${error.message}; retry`)),
    );
    worker.on("exit", (code) =>
      finish(new Error(`the MP3 encoder thread exited (code ${code}) before answering; retry`)),
    );
    // The segments follow a piece per turn of the event loop, so no copy holds it for long.
    void (async () => {
      for (const piece of pieces) {
        if (settled) return;
        try {
          worker.postMessage(piece);
        } catch (error) {
          finish(
            new Error(`could not hand the recording to the MP3 encoder thread (${String(error)}); retry`),
          );
          return;
        }
        await new Promise((next) => setImmediate(next));
      }
    })();
  });
}

/** Segments posted to the worker in one message: 16 s of a track at 16 kHz, 512 KB. */
const SEGMENTS_PER_PIECE = 16;

/**
 * A request as the worker is started with, and what follows it: a recording's segments are left
 * out of the request and sent in pieces (see `Mp3EncodeRequest`).
 */
function splitTracks(request: Mp3EncodeRequest): { data: Mp3EncodeRequest; pieces: Mp3TrackPiece[] } {
  if (!("tracks" in request)) return { data: request, pieces: [] };
  const pieces: Mp3TrackPiece[] = [];
  for (const track of ["user", "agent"] as const) {
    const { segments } = request.tracks[track];
    for (let at = 0; at < segments.length; at += SEGMENTS_PER_PIECE)
      pieces.push({ track, segments: segments.slice(at, at + SEGMENTS_PER_PIECE) });
  }
  const { tracks } = request;
  return {
    data: {
      ...request,
      tracks: {
        ...tracks,
        user: { ...tracks.user, segments: [] },
        agent: { ...tracks.agent, segments: [] },
      },
      piecesToCome: pieces.length,
    },
    pieces,
  };
}

/** Refuses a sample rate or bit rate MP3 does not have, and input past the recording cap. */
function checkSettings(sampleCount: number, sampleRate: number, kbps: number): void {
  const allowed = MPEG1_RATES.includes(sampleRate)
    ? MPEG1_KBPS
    : MPEG2_RATES.includes(sampleRate)
      ? MPEG2_KBPS
      : [];
  if (allowed.length === 0) {
    throw new RangeError(
      `MP3 has no ${sampleRate} Hz; resample to one of ${[...MPEG2_RATES, ...MPEG1_RATES].join(", ")} Hz`,
    );
  }
  if (!allowed.includes(kbps)) {
    throw new RangeError(`MP3 at ${sampleRate} Hz has no ${kbps} kbit/s; pick one of ${allowed.join(", ")}`);
  }
  if (sampleCount > MAX_RECORDING_SECONDS * sampleRate) {
    throw new RangeError(
      `at most ${MAX_RECORDING_SECONDS} s of audio can be encoded at once; split the recording`,
    );
  }
}

/** Whether the array spans its whole (non-shared) buffer, so the buffer can be transferred. */
function ownsWholeBuffer(samples: Int16Array): boolean {
  return (
    samples.buffer instanceof ArrayBuffer &&
    samples.byteOffset === 0 &&
    samples.byteLength === samples.buffer.byteLength
  );
}

/**
 * Starts the worker from the compiled .js; from the .ts sources (tests, `node --import tsx`) a
 * small bootstrap registers tsx in the worker first, since loader flags do not reach workers.
 */
function startWorker(workerData: Mp3EncodeRequest, transferList: ArrayBuffer[]): Worker {
  const fromSource = import.meta.url.endsWith(".ts");
  if (!fromSource)
    return new Worker(new URL("./mp3-worker.js", import.meta.url), { workerData, transferList });
  const entry = new URL("./mp3-worker.ts", import.meta.url).href;
  const bootstrap = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, transferList });
}
