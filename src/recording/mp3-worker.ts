/**
 * Worker thread entry: encodes one mono 16-bit PCM buffer (or a recording's tracks, mixed down
 * here) to MP3 off the main event loop, then posts the bytes back (transferred, not copied) and
 * ends. The encoder is LAME, the reference MP3 encoder, compiled to WebAssembly
 * (wasm-media-encoders): it runs inside the JavaScript engine, with no native code or system
 * binary, at about a fifth of the CPU of the pure-JavaScript port (see docs/design-notes.md). One
 * worker serves one encode, and a fresh thread frees the encoder's memory at exit.
 */

import { parentPort, workerData } from "node:worker_threads";
import { createMp3Encoder } from "wasm-media-encoders";
import { type MixdownTrack, mixTracks } from "./mixdown.js";
import type { RecordingTracks, TrackSegments } from "./track-segments.js";

/**
 * What the main thread hands the worker (as `workerData`, a buffer of samples transferred). A
 * recording's tracks come without their segments, which follow in `piecesToCome` messages
 * (`Mp3TrackPiece`): copying them all at once, inside the Worker constructor, held the main
 * thread for milliseconds.
 */
export type Mp3EncodeRequest = { sampleRate: number; kbps: number } & (
  | { samples: Int16Array }
  | { tracks: RecordingTracks; track: MixdownTrack; piecesToCome?: number }
);

/** Some of a track's segments, posted to the worker after its request. */
export interface Mp3TrackPiece {
  track: "user" | "agent";
  segments: TrackSegments["segments"];
}

/** What the worker posts back: the MP3 bytes and how long the encode ran on the worker. */
export type Mp3EncodeReply = { ok: true; mp3: Uint8Array; encodeMs: number } | { ok: false; message: string };

/** Samples handed to the encoder at a time (about a second at 16 kHz). */
const CHUNK_SAMPLES = 16_384;

/** The bit rates the encoder takes (mp3-encoder.ts checks a request's against the sample rate's). */
type CbrKbps = 8 | 16 | 24 | 32 | 40 | 48 | 64 | 80 | 96 | 112 | 128 | 160 | 192 | 224 | 256 | 320;

/** Encodes the whole buffer in chunks and joins the encoder's output into one array. */
async function encode(request: Mp3EncodeRequest): Promise<Uint8Array> {
  const { sampleRate, kbps } = request;
  const samples = "samples" in request ? request.samples : mixTracks(request.tracks, request.track);
  const encoder = await createMp3Encoder();
  encoder.configure({ sampleRate, channels: 1, bitrate: kbps as CbrKbps });
  const parts: Uint8Array[] = [];
  let total = 0;
  // The encoder's output stays its own until the next call: each part is copied out.
  const keep = (bytes: Uint8Array) => {
    if (bytes.byteLength === 0) return;
    parts.push(bytes.slice());
    total += bytes.byteLength;
  };
  const floats = new Float32Array(CHUNK_SAMPLES);
  for (let at = 0; at < samples.length; at += CHUNK_SAMPLES) {
    const chunk = samples.subarray(at, at + CHUNK_SAMPLES);
    for (let i = 0; i < chunk.length; i++) floats[i] = (chunk[i] as number) / 32768;
    keep(encoder.encode([floats.subarray(0, chunk.length)]));
  }
  keep(encoder.finalize());
  const mp3 = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    mp3.set(part, offset);
    offset += part.byteLength;
  }
  return mp3;
}

/** Adds the segments the main thread posts after the request to its tracks, until all have come. */
function receivePieces(tracks: RecordingTracks, count: number): Promise<void> {
  return new Promise((resolve) => {
    const port = parentPort;
    if (!port || count <= 0) {
      resolve();
      return;
    }
    let left = count;
    const take = (piece: Mp3TrackPiece) => {
      tracks[piece.track].segments.push(...piece.segments);
      left -= 1;
      if (left > 0) return;
      port.off("message", take);
      resolve();
    };
    port.on("message", take);
  });
}

async function run(): Promise<void> {
  let reply: Mp3EncodeReply;
  const request = workerData as Mp3EncodeRequest;
  if ("tracks" in request) await receivePieces(request.tracks, request.piecesToCome ?? 0);
  const started = performance.now();
  try {
    const mp3 = await encode(request);
    reply = { ok: true, mp3, encodeMs: performance.now() - started };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply, reply.ok ? [reply.mp3.buffer as ArrayBuffer] : []);
}

void run();
