/**
 * Worker thread entry: encodes one mono 16-bit PCM buffer (or a recording's tracks, mixed down
 * here) to MP3 with lamejs, off the main event loop, then posts the bytes back (transferred, not
 * copied) and ends. One worker serves one encode: lamejs keeps per-stream state, and a fresh
 * thread frees its memory at exit.
 */

import { parentPort, workerData } from "node:worker_threads";
import { Mp3Encoder } from "@breezystack/lamejs";
import { type MixdownTrack, mixTracks } from "./mixdown.js";
import type { RecordingTracks } from "./track-segments.js";

/** What the main thread hands the worker (as `workerData`, the buffers transferred). */
export type Mp3EncodeRequest = { sampleRate: number; kbps: number } & (
  | { samples: Int16Array }
  | { tracks: RecordingTracks; track: MixdownTrack }
);

/** What the worker posts back: the MP3 bytes and how long the encode ran on the worker. */
export type Mp3EncodeReply = { ok: true; mp3: Uint8Array; encodeMs: number } | { ok: false; message: string };

/** Samples per `encodeBuffer` call: 16 MPEG-2 frames (576 samples each at ≤ 24 kHz), ~0.6 s. */
const CHUNK_SAMPLES = 576 * 16;

/** Encodes the whole buffer in chunks and joins lamejs's output (a new array per call) into one. */
function encode(request: Mp3EncodeRequest): Uint8Array {
  const { sampleRate, kbps } = request;
  const samples = "samples" in request ? request.samples : mixTracks(request.tracks, request.track);
  const encoder = new Mp3Encoder(1, sampleRate, kbps);
  const parts: Uint8Array[] = [];
  let total = 0;
  const keep = (bytes: ArrayBufferView) => {
    if (bytes.byteLength === 0) return;
    // lamejs hands back an Int8Array (its types say Uint8Array): read it as bytes.
    parts.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    total += bytes.byteLength;
  };
  for (let at = 0; at < samples.length; at += CHUNK_SAMPLES) {
    keep(encoder.encodeBuffer(samples.subarray(at, at + CHUNK_SAMPLES)));
  }
  keep(encoder.flush());
  const mp3 = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    mp3.set(part, offset);
    offset += part.byteLength;
  }
  return mp3;
}

function run(): void {
  let reply: Mp3EncodeReply;
  const started = performance.now();
  try {
    const mp3 = encode(workerData as Mp3EncodeRequest);
    reply = { ok: true, mp3, encodeMs: performance.now() - started };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply, reply.ok ? [reply.mp3.buffer as ArrayBuffer] : []);
}

run();
