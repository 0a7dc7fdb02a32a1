import { describe, expect, it } from "vitest";
import { parseModelMap, resolveAiConfig } from "./ai-config.js";
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
      indexer: true,
      semanticIndex: "ann",
    });
    expect(config.llm).toEqual({
      baseUrl: "http://127.0.0.1:11434/v1",
      model: "m1",
      apiKey: "k",
      timeoutMs: 120_000,
      firstTokenTimeoutMs: 30_000,
      modelMap: new Map(),
    });
  });

  it("reads whether this node embeds and which semantic index it searches, refusing other words", () => {
    const base = { OPENCONVAI_EMBEDDINGS_URL: "https://x/v1", OPENCONVAI_EMBEDDINGS_MODEL: "e" };
    const config = resolveAiConfig({
      ...base,
      OPENCONVAI_EMBEDDINGS_INDEXER: "OFF",
      OPENCONVAI_SEMANTIC_INDEX: "exact",
    });
    expect(config.embeddings).toMatchObject({ indexer: false, semanticIndex: "exact" });
    expect(resolveAiConfig({ ...base, OPENCONVAI_EMBEDDINGS_INDEXER: "on" }).embeddings?.indexer).toBe(true);
    expect(() => resolveAiConfig({ ...base, OPENCONVAI_EMBEDDINGS_INDEXER: "no" })).toThrow(ConfigError);
    expect(() => resolveAiConfig({ ...base, OPENCONVAI_SEMANTIC_INDEX: "hnsw" })).toThrow(ConfigError);
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
      {
        OPENCONVAI_LLM_BASE_URL: "https://x/v1",
        OPENCONVAI_LLM_MODEL: "m",
        OPENCONVAI_LLM_FIRST_TOKEN_TIMEOUT_MS: "5",
      },
    ]) {
      expect(() => resolveAiConfig(env)).toThrow(ConfigError);
    }
  });

  it("reads the first-token timeout and the model map", () => {
    const config = resolveAiConfig({
      OPENCONVAI_LLM_BASE_URL: "http://127.0.0.1:11434/v1",
      OPENCONVAI_LLM_MODEL: "qwen2.5",
      OPENCONVAI_LLM_FIRST_TOKEN_TIMEOUT_MS: "5000",
      OPENCONVAI_LLM_MODEL_MAP: " gpt-4o-mini = llama3.1:8b , gemini-2.0-flash=qwen2.5,",
    });
    expect(config.llm?.firstTokenTimeoutMs).toBe(5000);
    expect(config.llm?.modelMap).toEqual(
      new Map([
        ["gpt-4o-mini", "llama3.1:8b"],
        ["gemini-2.0-flash", "qwen2.5"],
      ]),
    );
  });

  it("refuses a model map without an LLM provider, saying what to set", () => {
    expect(() => resolveAiConfig({ OPENCONVAI_LLM_MODEL_MAP: "a=b" })).toThrow(
      "OPENCONVAI_LLM_MODEL_MAP is set but OPENCONVAI_LLM_BASE_URL is not: set the LLM provider's URL and model too, or unset the map.",
    );
  });
});

describe("parseModelMap", () => {
  it("is empty when unset", () => {
    expect(parseModelMap(undefined).size).toBe(0);
  });

  it("keeps model names with colons, slashes and dots", () => {
    expect(parseModelMap("claude-3-5-sonnet=anthropic/claude-3.5-sonnet,gpt-4o=ollama:llama3.1:70b")).toEqual(
      new Map([
        ["claude-3-5-sonnet", "anthropic/claude-3.5-sonnet"],
        ["gpt-4o", "ollama:llama3.1:70b"],
      ]),
    );
  });

  it("refuses a pair without '=', with an empty side or with two '=', showing the pair and the format", () => {
    for (const [raw, pair] of [
      ["gpt-4o-mini", "gpt-4o-mini"],
      ["gpt-4o-mini=", "gpt-4o-mini="],
      ["=llama3", "=llama3"],
      ["a=b=c", "a=b=c"],
      ["ok=fine, broken", "broken"],
    ] as const) {
      expect(() => parseModelMap(raw)).toThrow(ConfigError);
      expect(() => parseModelMap(raw)).toThrow(
        `OPENCONVAI_LLM_MODEL_MAP has "${pair}", which is not agent-model=provider-model: write comma-separated agent-model=provider-model pairs, e.g. "gpt-4o-mini=llama3.1:8b,gemini-2.0-flash=qwen2.5".`,
      );
    }
  });

  it("refuses an agent model mapped twice", () => {
    expect(() => parseModelMap("a=b,a=c")).toThrow(
      'OPENCONVAI_LLM_MODEL_MAP maps "a" twice: keep one provider model for it.',
    );
  });
});
