import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SpeechToTextConfig } from "../../src/config/speech-config.js";
import {
  DEFAULT_SPEECH_TO_TEXT_LIMITS,
  OpenAiCompatibleSpeechToText,
  type SpeechToTextLimits,
} from "../../src/providers/asr/openai-compatible/openai-compatible-speech-to-text.js";
import { ProviderError, ProviderTimeoutError } from "../../src/providers/provider-error.js";
import {
  type FakeSpeechServer,
  isRiffWave,
  startFakeSpeechServer,
  wavHeader,
} from "../support/fake-speech-server.js";

let speech: FakeSpeechServer;

beforeEach(async () => {
  speech = await startFakeSpeechServer();
});

afterEach(async () => {
  await speech.close();
});

function asr(overrides: Partial<SpeechToTextConfig> = {}, limits: Partial<SpeechToTextLimits> = {}) {
  return new OpenAiCompatibleSpeechToText(
    {
      baseUrl: speech.url,
      model: "whisper-1",
      apiKey: "sk-asr-key",
      timeoutMs: 5_000,
      firstByteTimeoutMs: 5_000,
      ...overrides,
    },
    { ...DEFAULT_SPEECH_TO_TEXT_LIMITS, retryDelayMs: 1, ...limits },
  );
}

/** 100 ms of 16 kHz silence as a WAV file, with a marker sample so the bytes can be told apart. */
function utterance(): Uint8Array {
  const pcm = Buffer.alloc(3200);
  pcm.writeInt16LE(1234, 100);
  return new Uint8Array(Buffer.concat([wavHeader(16_000, pcm.length), pcm]));
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error("expected the call to fail");
  return error;
}

describe("OpenAiCompatibleSpeechToText", () => {
  it("posts the WAV as multipart with the model, language and response format, and the key as Bearer", async () => {
    speech.setTranscription(() => ({ text: "  Hello there.  " }));
    const wav = utterance();
    const transcript = await asr().transcribe(wav, { language: "pt-BR" });
    expect(transcript).toEqual({ text: "Hello there." });
    expect(speech.transcriptions).toHaveLength(1);
    const [request] = speech.transcriptions;
    expect(request?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(request?.authorization).toBe("Bearer sk-asr-key");
    expect(request?.fields).toEqual({ model: "whisper-1", language: "pt", response_format: "json" });
    expect(request?.file?.filename).toBe("speech.wav");
    expect(request?.file?.contentType).toBe("audio/wav");
    expect(isRiffWave(request?.file?.bytes ?? new Uint8Array())).toBe(true);
    expect(Buffer.compare(request?.file?.bytes ?? Buffer.alloc(0), Buffer.from(wav))).toBe(0);
  });

  it("leaves out the language and the authorization when none is given", async () => {
    await asr({ apiKey: undefined }).transcribe(utterance(), {});
    expect(speech.transcriptions[0]?.fields).toEqual({ model: "whisper-1", response_format: "json" });
    expect(speech.transcriptions[0]?.authorization).toBeUndefined();
  });

  it("reads verbose_json (language and duration) and a text/plain answer", async () => {
    speech.setTranscription(() => ({
      text: " Bonjour.",
      format: "verbose_json",
      language: "french",
      durationSeconds: 2.25,
    }));
    expect(await asr().transcribe(utterance(), {})).toEqual({
      text: "Bonjour.",
      language: "french",
      durationMs: 2250,
    });
    speech.setTranscription(() => ({ text: "plain words\n", format: "text" }));
    expect(await asr().transcribe(utterance(), {})).toEqual({ text: "plain words" });
  });

  it("retries once after a 5xx or 429 answer and returns the second answer", async () => {
    let calls = 0;
    speech.setTranscription(() => {
      calls += 1;
      return calls === 1 ? { status: 503, errorMessage: "loading model" } : { text: "second try" };
    });
    expect((await asr().transcribe(utterance(), {})).text).toBe("second try");
    expect(speech.transcriptions).toHaveLength(2);

    calls = 0;
    speech.setTranscription(() => {
      calls += 1;
      return calls === 1 ? { status: 429 } : { text: "after 429" };
    });
    expect((await asr().transcribe(utterance(), {})).text).toBe("after 429");
  });

  it("retries once after a dropped connection", async () => {
    let calls = 0;
    speech.setTranscription(() => {
      calls += 1;
      return calls === 1 ? { drop: true } : { text: "reconnected" };
    });
    expect((await asr().transcribe(utterance(), {})).text).toBe("reconnected");
    expect(speech.transcriptions).toHaveLength(2);
  });

  it("gives up after the second failure with a transient error quoting the provider", async () => {
    speech.setTranscription(() => ({ status: 500, errorMessage: "out of memory" }));
    const error = await failure(asr().transcribe(utterance(), {}));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).transient).toBe(true);
    expect(error.message).toContain("HTTP 500: out of memory");
    expect(speech.transcriptions).toHaveLength(2);
  });

  it("does not retry a 4xx answer, and says what to check", async () => {
    speech.setTranscription(() => ({ status: 401, errorMessage: "bad key" }));
    const error = await failure(asr().transcribe(utterance(), {}));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).transient).toBe(false);
    expect(error.message).toContain("HTTP 401: bad key");
    expect(error.message).toContain("OPENCONVAI_ASR_API_KEY");
    expect(speech.transcriptions).toHaveLength(1);
  });

  it("times out when the provider does not answer, without retrying", async () => {
    speech.setTranscription(() => ({ hang: true }));
    const started = Date.now();
    const error = await failure(asr({ firstByteTimeoutMs: 150 }).transcribe(utterance(), {}));
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toContain("within 150 ms");
    expect(error.message).toContain("OPENCONVAI_ASR_FIRST_BYTE_TIMEOUT_MS");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(speech.transcriptions).toHaveLength(1);
  });

  it("times out when the answer's body never comes (the total limit)", async () => {
    speech.setTranscription(() => ({ hangAfterHeaders: true }));
    const error = await failure(asr({ timeoutMs: 400, firstByteTimeoutMs: 200 }).transcribe(utterance(), {}));
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(error.message).toContain("longer than 400 ms");
    expect(speech.transcriptions).toHaveLength(1);
  });

  it("refuses a malformed answer, an answer without text and an oversized answer", async () => {
    speech.setTranscription(() => ({ raw: { body: "<html>oops", contentType: "application/json" } }));
    let error = await failure(asr().transcribe(utterance(), {}));
    expect(error.message).toContain("did not answer JSON");
    expect((error as ProviderError).transient).toBe(false);

    speech.setTranscription(() => ({ raw: { body: '{"transcript":"x"}', contentType: "application/json" } }));
    error = await failure(asr().transcribe(utterance(), {}));
    expect(error.message).toContain("without a `text` field");

    speech.setTranscription(() => ({ text: "x".repeat(2000) }));
    error = await failure(asr({}, { maxResponseBytes: 1000 }).transcribe(utterance(), {}));
    expect(error.message).toContain("more than 1000 bytes");
  });

  it("refuses an oversized upload before sending anything", async () => {
    const error = await failure(asr({}, { maxUploadBytes: 100 }).transcribe(utterance(), {}));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toContain("shorter utterances");
    expect(speech.transcriptions).toHaveLength(0);
  });

  it("rejects with the caller's reason when the caller aborts", async () => {
    speech.setTranscription(() => ({ hang: true }));
    const controller = new AbortController();
    const reason = new Error("user interrupted");
    setTimeout(() => controller.abort(reason), 50);
    expect(await failure(asr().transcribe(utterance(), { signal: controller.signal }))).toBe(reason);
    expect(speech.transcriptions).toHaveLength(1);
  });
});
