import { describe, expect, it } from "vitest";
import { resolveAiConfig } from "./ai-config.js";
import { ConfigError } from "./config-error.js";

describe("speech providers in resolveAiConfig", () => {
  it("leaves both unset without their base URLs", () => {
    const config = resolveAiConfig({ OPENCONVAI_ASR_MODEL: "whisper-1", OPENCONVAI_TTS_MODEL: "tts-1" });
    expect(config.asr).toBeUndefined();
    expect(config.tts).toBeUndefined();
  });

  it("reads both with their defaults, trimming a trailing slash", () => {
    const config = resolveAiConfig({
      OPENCONVAI_ASR_BASE_URL: "http://127.0.0.1:8080/v1/",
      OPENCONVAI_ASR_MODEL: "whisper-1",
      OPENCONVAI_TTS_BASE_URL: "https://api.openai.com/v1",
      OPENCONVAI_TTS_MODEL: "tts-1",
      OPENCONVAI_TTS_API_KEY: "k",
    });
    expect(config.asr).toEqual({
      baseUrl: "http://127.0.0.1:8080/v1",
      model: "whisper-1",
      apiKey: undefined,
      timeoutMs: 30_000,
      firstByteTimeoutMs: 20_000,
    });
    expect(config.tts).toEqual({
      baseUrl: "https://api.openai.com/v1",
      model: "tts-1",
      apiKey: "k",
      sampleRate: 24_000,
      responseFormat: "pcm",
      timeoutMs: 60_000,
      firstByteTimeoutMs: 10_000,
    });
  });

  it("reads the rate, the format and the time limits (a first-byte limit is at most the total)", () => {
    const config = resolveAiConfig({
      OPENCONVAI_ASR_BASE_URL: "http://asr/v1",
      OPENCONVAI_ASR_MODEL: "m",
      OPENCONVAI_ASR_TIMEOUT_MS: "5000",
      OPENCONVAI_ASR_FIRST_BYTE_TIMEOUT_MS: "9000",
      OPENCONVAI_TTS_BASE_URL: "http://tts/v1",
      OPENCONVAI_TTS_MODEL: "kokoro",
      OPENCONVAI_TTS_SAMPLE_RATE: "22050",
      OPENCONVAI_TTS_RESPONSE_FORMAT: "wav",
      OPENCONVAI_TTS_FIRST_BYTE_TIMEOUT_MS: "2500",
    });
    expect(config.asr?.timeoutMs).toBe(5000);
    expect(config.asr?.firstByteTimeoutMs).toBe(5000);
    expect(config.tts?.sampleRate).toBe(22_050);
    expect(config.tts?.responseFormat).toBe("wav");
    expect(config.tts?.firstByteTimeoutMs).toBe(2500);
  });

  it("refuses a URL without a model, a bad URL, rate or format, saying what to set", () => {
    expect(() => resolveAiConfig({ OPENCONVAI_ASR_BASE_URL: "http://asr/v1" })).toThrow(
      "OPENCONVAI_ASR_BASE_URL is set but OPENCONVAI_ASR_MODEL is not",
    );
    expect(() => resolveAiConfig({ OPENCONVAI_TTS_BASE_URL: "http://tts/v1" })).toThrow(
      "OPENCONVAI_TTS_BASE_URL is set but OPENCONVAI_TTS_MODEL is not",
    );
    for (const env of [
      { OPENCONVAI_ASR_BASE_URL: "ftp://asr", OPENCONVAI_ASR_MODEL: "m" },
      {
        OPENCONVAI_TTS_BASE_URL: "http://tts/v1",
        OPENCONVAI_TTS_MODEL: "m",
        OPENCONVAI_TTS_SAMPLE_RATE: "44.1",
      },
      {
        OPENCONVAI_TTS_BASE_URL: "http://tts/v1",
        OPENCONVAI_TTS_MODEL: "m",
        OPENCONVAI_TTS_RESPONSE_FORMAT: "mp3",
      },
      {
        OPENCONVAI_ASR_BASE_URL: "http://asr/v1",
        OPENCONVAI_ASR_MODEL: "m",
        OPENCONVAI_ASR_TIMEOUT_MS: "10",
      },
    ]) {
      expect(() => resolveAiConfig(env)).toThrow(ConfigError);
    }
  });

  it("refuses a URL with a user name or password without echoing it, pointing at the key setting", () => {
    for (const [setting, model, key] of [
      ["OPENCONVAI_TTS_BASE_URL", "OPENCONVAI_TTS_MODEL", "OPENCONVAI_TTS_API_KEY"],
      ["OPENCONVAI_ASR_BASE_URL", "OPENCONVAI_ASR_MODEL", "OPENCONVAI_ASR_API_KEY"],
      ["OPENCONVAI_LLM_BASE_URL", "OPENCONVAI_LLM_MODEL", "OPENCONVAI_LLM_API_KEY"],
      ["OPENCONVAI_EMBEDDINGS_URL", "OPENCONVAI_EMBEDDINGS_MODEL", "OPENCONVAI_EMBEDDINGS_API_KEY"],
    ] as const) {
      for (const url of [
        "https://apikey:sk-live-SECRET@tts.example.com/v1",
        "https://sk-live-SECRET@tts.example.com/v1",
      ]) {
        let message = "";
        try {
          resolveAiConfig({ [setting]: url, [model]: "m" });
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          message = (error as Error).message;
        }
        expect(message).toContain(setting);
        expect(message).toContain(key);
        expect(message).not.toContain("SECRET");
      }
    }
  });

  it("refuses a URL with a query or a fragment, and never echoes a value that may hold a secret", () => {
    for (const url of ["https://tts.example.com/v1?key=SECRET", "https://tts.example.com/v1#SECRET"]) {
      let message = "";
      try {
        resolveAiConfig({ OPENCONVAI_TTS_BASE_URL: url, OPENCONVAI_TTS_MODEL: "m" });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toContain("OPENCONVAI_TTS_BASE_URL must not have a query");
      expect(message).not.toContain("SECRET");
    }
    expect(() =>
      resolveAiConfig({
        OPENCONVAI_TTS_BASE_URL: "https://user:SECRET@bad host/v1",
        OPENCONVAI_TTS_MODEL: "m",
      }),
    ).toThrow(/^(?!.*SECRET).*must be an http\(s\) URL/);
  });
});
