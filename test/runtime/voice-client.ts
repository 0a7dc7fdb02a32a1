/**
 * A raw WebSocket voice client for tests: connects to an agent, sends the init frame, streams a
 * generated signal as `user_audio_chunk`s of 32 ms, and keeps every frame the server sends.
 */
import { WebSocket } from "ws";
import { encodeFromPcm } from "../../src/audio/audio-codec.js";
import type { AudioFormat } from "../../src/audio/audio-format.js";
import { createResampler } from "../../src/audio/resampler.js";

type Json = Record<string, unknown>;

/** A connected voice client. */
export interface VoiceClient {
  socket: WebSocket;
  frames: Json[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first frame (already received or to come) that matches. */
  waitFor(match: (frame: Json) => boolean, timeoutMs?: number): Promise<Json>;
  /** Streams 16 kHz samples in the format, in 32 ms chunks, all at once. */
  stream(samples16k: Int16Array, format: AudioFormat): void;
  conversationId(): string;
}

/** Silence with a faint noise floor, and 300 Hz tone bursts (speech-like loudness) at the given ms. */
export function speechSignal(totalMs: number, bursts: [number, number][]): Int16Array {
  const rate = 16_000;
  const out = new Int16Array((totalMs * rate) / 1000);
  for (let n = 0; n < out.length; n++) {
    const t = (n / rate) * 1000;
    const inBurst = bursts.some(([from, to]) => t >= from && t < to);
    out[n] = (n % 7) * 20 - 60 + (inBurst ? Math.round(6000 * Math.sin((2 * Math.PI * 300 * n) / rate)) : 0);
  }
  return out;
}

/** Opens a voice session with an agent (no text_only). */
export async function connectVoice(baseUrl: string, agentId: string, init: Json = {}): Promise<VoiceClient> {
  const url = `${baseUrl.replace(/^http/, "ws")}/v1/convai/conversation?agent_id=${agentId}`;
  const socket = new WebSocket(url, ["convai"]);
  const frames: Json[] = [];
  const waiters: { match: (frame: Json) => boolean; resolve: (frame: Json) => void }[] = [];
  socket.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as Json;
    frames.push(frame);
    for (const waiter of [...waiters])
      if (waiter.match(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  socket.send(
    JSON.stringify({
      type: "conversation_initiation_client_data",
      conversation_config_override: {},
      ...init,
    }),
  );
  const client: VoiceClient = {
    socket,
    frames,
    closed,
    waitFor: (match, timeoutMs = 8_000) => {
      const found = frames.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching frame; got ${frames.map((f) => f.type).join(",")}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (frame) => {
            clearTimeout(timer);
            resolve(frame);
          },
        });
      });
    },
    stream: (samples16k, format) => {
      const resampler = createResampler(16_000, format.sampleRate);
      for (let at = 0; at < samples16k.length; at += 512) {
        const chunk = resampler.push(samples16k.subarray(at, at + 512));
        const bytes = encodeFromPcm(format, chunk);
        socket.send(JSON.stringify({ user_audio_chunk: Buffer.from(bytes).toString("base64") }));
      }
    },
    conversationId: () => {
      const metadata = frames.find((f) => f.type === "conversation_initiation_metadata") as Json;
      return (metadata.conversation_initiation_metadata_event as Json).conversation_id as string;
    },
  };
  await client.waitFor((f) => f.type === "conversation_initiation_metadata");
  return client;
}
