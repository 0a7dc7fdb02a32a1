import { describe, expect, it } from "vitest";
import { resolveAiConfig } from "./ai-config.js";
import { ConfigError } from "./config-error.js";

describe("resolveAiConfig", () => {
  it("leaves both providers unset by default", () => {
    expect(resolveAiConfig({})).toEqual({ embeddings: undefined, llm: undefined });
  });

  it("reads both providers, trimming a trailing slash", () => {
    const config = resolveAiConfig({
      OPENCONVAI_EMBEDDINGS_URL: "https://emb.example/v1/",
      OPENCONVAI_EMBEDDINGS_MODEL: "e1",
      OPENCONVAI_LLM_BASE_URL: "http://127.0.0.1:11434/v1",
      OPENCONVAI_LLM_MODEL: "m1",
      OPENCONVAI_LLM_API_KEY: "k",
    });
    expect(config.embeddings).toEqual({
      url: "https://emb.example/v1",
      model: "e1",
      apiKey: undefined,
      indexIntervalMs: 10_000,
    });
    expect(config.llm).toEqual({
      baseUrl: "http://127.0.0.1:11434/v1",
      model: "m1",
      apiKey: "k",
      timeoutMs: 120_000,
    });
  });

  it("refuses a URL without a model, a non-http URL and a bad interval", () => {
    for (const env of [
      { OPENCONVAI_EMBEDDINGS_URL: "https://x/v1" },
      { OPENCONVAI_LLM_BASE_URL: "https://x/v1" },
      { OPENCONVAI_LLM_BASE_URL: "ftp://x", OPENCONVAI_LLM_MODEL: "m" },
      {
        OPENCONVAI_EMBEDDINGS_URL: "https://x",
        OPENCONVAI_EMBEDDINGS_MODEL: "e",
        OPENCONVAI_EMBEDDINGS_INDEX_INTERVAL_MS: "1",
      },
    ]) {
      expect(() => resolveAiConfig(env)).toThrow(ConfigError);
    }
  });
});
