import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TextToSpeechConfig } from "../../src/config/speech-config.js";
import { ProviderError, ProviderTimeoutError } from "../../src/providers/provider-error.js";
import {
  DEFAULT_TEXT_TO_SPEECH_LIMITS,
  OpenAiCompatibleTextToSpeech,
  type TextToSpeechLimits,
} from "../../src/providers/tts/openai-compatible/openai-compatible-text-to-speech.js";
import type { SpeechAudioChunk, SynthesizeOptions } from "../../src/providers/tts/text-to-speech.js";
import { type FakeSpeechServer, renderTone, startFakeSpeechServer } from "../support/fake-speech-server.js";

let speech: FakeSpeechServer;

beforeEach(async () => {
  speech = await startFakeSpeechServer();
});

afterEach(async () => {
  await speech.close();
});

function tts(overrides: Partial<TextToSpeechConfig> = {}, limits: Partial<TextToSpeechLimits> = {}) {
  return new OpenAiCompatibleTextToSpeech(
    {
      baseUrl: speech.url,
      model: "tts-1",
      apiKey: "sk-tts-key",
      sampleRate: 24_000,
      responseFormat: "pcm",
      timeoutMs: 5_000,
      firstByteTimeoutMs: 5_000,
      ...overrides,
    },
    { ...DEFAULT_TEXT_TO_SPEECH_LIMITS, retryDelayMs: 1, ...limits },
  );
}

const voice: SynthesizeOptions = { voice: "alloy" };

async function collect(
  stream: AsyncIterable<SpeechAudioChunk>,
  chunks: SpeechAudioChunk[] = [],
): Promise<SpeechAudioChunk[]> {
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** The samples of the chunks as little-endian bytes, to compare with what the fake sent. */
function bytesOf(chunks: SpeechAudioChunk[]): Buffer {
  const total = chunks.reduce((sum, chunk) => sum + chunk.samples.length, 0);
  const out = Buffer.alloc(total * 2);
  let at = 0;
  for (const chunk of chunks) for (const sample of chunk.samples) at = out.writeInt16LE(sample, at);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error("expected the call to fail");
  return error;
}

describe("OpenAiCompatibleTextToSpeech", () => {
  it("posts {model, input, voice, response_format: pcm} with the key as Bearer and returns the PCM", async () => {
    const chunks = await collect(tts().synthesize("Hello there.", voice));
    expect(speech.speeches).toHaveLength(1);
    expect(speech.speeches[0]?.body).toEqual({
      model: "tts-1",
      input: "Hello there.",
      voice: "alloy",
      response_format: "pcm",
    });
    expect(speech.speeches[0]?.authorization).toBe("Bearer sk-tts-key");
    expect(chunks.every((chunk) => chunk.sampleRate === 24_000)).toBe(true);
    expect(bytesOf(chunks).equals(renderTone("Hello there."))).toBe(true);
  });

  it("yields audio before the answer ends", async () => {
    speech.setSpeech(() => ({ chunkBytes: 960, chunkDelayMs: 30 }));
    const stream = tts().synthesize("A longer sentence.", voice)[Symbol.asyncIterator]();
    const first = await stream.next();
    expect(first.done).toBe(false);
    expect(speech.speeches[0]?.finished).toBe(false);
    expect(speech.speeches[0]?.sent.length).toBeLessThan(renderTone("A longer sentence.").length);
    const rest = await collect({ [Symbol.asyncIterator]: () => stream });
    expect(rest.length).toBeGreaterThan(1);
    expect(speech.speeches[0]?.finished).toBe(true);
  });

  it("keeps a sample split across chunks (odd chunk sizes) whole", async () => {
    speech.setSpeech(() => ({ chunkBytes: 1001, chunkDelayMs: 2, msPerCharacter: 5 }));
    const chunks = await collect(tts().synthesize("Odd bytes here", voice));
    expect(chunks.length).toBeGreaterThan(3);
    expect(bytesOf(chunks).equals(renderTone("Odd bytes here", { msPerCharacter: 5 }))).toBe(true);
    // Reads of 1001 bytes end mid-sample: a dropped or misplaced byte would shift every later sample.
    expect(renderTone("Odd bytes here", { msPerCharacter: 5 }).length % 1001).not.toBe(0);
  });

  it("uses the configured rate for raw PCM and a WAV answer's own rate", async () => {
    speech.setSpeech(() => ({ sampleRate: 22_050 }));
    let chunks = await collect(tts({ sampleRate: 22_050 }).synthesize("Hi", voice));
    expect(chunks[0]?.sampleRate).toBe(22_050);

    // Seven-byte reads: the header arrives in pieces and every other read ends mid-sample.
    speech.setSpeech(() => ({
      wav: true,
      sampleRate: 16_000,
      msPerCharacter: 2,
      chunkBytes: 7,
      chunkDelayMs: 1,
    }));
    chunks = await collect(tts({ responseFormat: "wav" }).synthesize("Hi there", voice));
    expect(speech.speeches[1]?.body.response_format).toBe("wav");
    expect(chunks.every((chunk) => chunk.sampleRate === 16_000)).toBe(true);
    expect(bytesOf(chunks).equals(renderTone("Hi there", { sampleRate: 16_000, msPerCharacter: 2 }))).toBe(
      true,
    );
  });

  it("retries once when the provider fails before any audio", async () => {
    let calls = 0;
    speech.setSpeech(() => {
      calls += 1;
      return calls === 1 ? { status: 502, errorMessage: "warming up" } : {};
    });
    const chunks = await collect(tts().synthesize("Retry me", voice));
    expect(speech.speeches).toHaveLength(2);
    expect(bytesOf(chunks).equals(renderTone("Retry me"))).toBe(true);

    calls = 0;
    speech.setSpeech(() => {
      calls += 1;
      return calls === 1 ? { drop: true } : {};
    });
    expect((await collect(tts().synthesize("Again", voice))).length).toBeGreaterThan(0);
    expect(speech.speeches).toHaveLength(4);
  });

  it("does not retry once audio was yielded: the broken stream is an error after the audio", async () => {
    speech.setSpeech(() => ({ chunkBytes: 480, dropAfterBytes: 1440 }));
    const chunks: SpeechAudioChunk[] = [];
    const error = await failure(collect(tts().synthesize("This will break off.", voice), chunks));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toContain("broke off");
    expect(chunks.length).toBeGreaterThan(0);
    expect(speech.speeches).toHaveLength(1);
  });

  it("does not retry a 4xx answer, and quotes the provider", async () => {
    speech.setSpeech(() => ({ status: 400, errorMessage: "unknown voice 'nova2'" }));
    const error = await failure(collect(tts().synthesize("Hello", voice)));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).transient).toBe(false);
    expect(error.message).toContain("HTTP 400: unknown voice 'nova2'");
    expect(speech.speeches).toHaveLength(1);
  });

  it("times out when no audio comes, and when the whole answer takes too long", async () => {
    speech.setSpeech(() => ({ firstByteDelayMs: 2_000 }));
    let error = await failure(collect(tts({ firstByteTimeoutMs: 150 }).synthesize("Slow", voice)));
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toContain("OPENCONVAI_TTS_FIRST_BYTE_TIMEOUT_MS");
    expect(speech.speeches).toHaveLength(1);

    speech.setSpeech(() => ({ chunkBytes: 480, chunkDelayMs: 100 }));
    const chunks: SpeechAudioChunk[] = [];
    error = await failure(
      collect(tts({ timeoutMs: 350, firstByteTimeoutMs: 200 }).synthesize("Long text", voice), chunks),
    );
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toContain("longer than 350 ms");
    expect(chunks.length).toBeGreaterThan(0);
  });

  it("refuses an answer that is not audio, an oversized one, and an empty one", async () => {
    speech.setSpeech(() => ({ raw: { body: '{"error":null}', contentType: "application/json" } }));
    let error = await failure(collect(tts().synthesize("Hello", voice)));
    expect(error.message).toContain('answered "application/json" instead of audio');

    speech.setSpeech(() => ({}));
    error = await failure(collect(tts({}, { maxResponseBytes: 10_000 }).synthesize("Long enough", voice)));
    expect(error.message).toContain("more than 10000 bytes");

    speech.setSpeech(() => ({ raw: { body: Buffer.alloc(0), contentType: "audio/pcm" } }));
    error = await failure(collect(tts().synthesize("Silence", voice)));
    expect(error.message).toContain("answered no audio");
  });

  it("sends nothing for blank text and refuses text over the limit", async () => {
    expect(await collect(tts().synthesize("  ", voice))).toEqual([]);
    const error = await failure(collect(tts({}, { maxInputChars: 10 }).synthesize("x".repeat(11), voice)));
    expect(error.message).toContain("split it into sentences");
    expect(speech.speeches).toHaveLength(0);
  });

  it("closes the stream when the consumer stops, and throws the caller's reason on abort", async () => {
    speech.setSpeech(() => ({ chunkBytes: 480, chunkDelayMs: 20 }));
    for await (const _chunk of tts().synthesize("Stop early please", voice)) break;
    await expect.poll(() => speech.disconnects()).toBe(1);

    const controller = new AbortController();
    const reason = new Error("barge-in");
    const chunks: SpeechAudioChunk[] = [];
    const stream = tts().synthesize("Interrupted", { voice: "alloy", signal: controller.signal });
    const done = failure(collect(stream, chunks));
    await expect.poll(() => chunks.length).toBeGreaterThan(0);
    controller.abort(reason);
    expect(await done).toBe(reason);
    await expect.poll(() => speech.disconnects()).toBe(2);
  });
});
