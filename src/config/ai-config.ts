import { ConfigError } from "./config-error.js";

/** An OpenAI-compatible embeddings endpoint, for semantic message search. */
export interface EmbeddingsConfig {
  /** The `/v1/embeddings` URL, or a base URL it is appended to. */
  url: string;
  model: string;
  apiKey: string | undefined;
  /** How often the background indexer looks for conversations to embed. */
  indexIntervalMs: number;
}

/** An OpenAI-compatible chat-completions endpoint, for post-call analysis. */
export interface LlmConfig {
  /** The base URL (`…/v1`); `/chat/completions` is appended. */
  baseUrl: string;
  model: string;
  apiKey: string | undefined;
  /** How long one completion may take. */
  timeoutMs: number;
}

/** The model providers; each is undefined when not configured. */
export interface AiConfig {
  embeddings: EmbeddingsConfig | undefined;
  llm: LlmConfig | undefined;
}

function checkUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${value}".`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must be an http(s) URL, got "${value}".`);
  }
  return value.replace(/\/+$/, "");
}

function readInteger(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
  }
  return value;
}

/** Reads the model providers from the environment; a URL without a model is refused. */
export function resolveAiConfig(env: NodeJS.ProcessEnv): AiConfig {
  const get = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  let embeddings: EmbeddingsConfig | undefined;
  const embeddingsUrl = get("OPENCONVAI_EMBEDDINGS_URL");
  if (embeddingsUrl !== undefined) {
    const model = get("OPENCONVAI_EMBEDDINGS_MODEL");
    if (model === undefined) {
      throw new ConfigError(
        "OPENCONVAI_EMBEDDINGS_URL is set but OPENCONVAI_EMBEDDINGS_MODEL is not: name the embedding model too.",
      );
    }
    embeddings = {
      url: checkUrl("OPENCONVAI_EMBEDDINGS_URL", embeddingsUrl),
      model,
      apiKey: get("OPENCONVAI_EMBEDDINGS_API_KEY"),
      indexIntervalMs: readInteger(
        "OPENCONVAI_EMBEDDINGS_INDEX_INTERVAL_MS",
        get("OPENCONVAI_EMBEDDINGS_INDEX_INTERVAL_MS"),
        10_000,
        50,
        3_600_000,
      ),
    };
  }
  let llm: LlmConfig | undefined;
  const llmUrl = get("OPENCONVAI_LLM_BASE_URL");
  if (llmUrl !== undefined) {
    const model = get("OPENCONVAI_LLM_MODEL");
    if (model === undefined) {
      throw new ConfigError(
        "OPENCONVAI_LLM_BASE_URL is set but OPENCONVAI_LLM_MODEL is not: name the chat model too.",
      );
    }
    llm = {
      baseUrl: checkUrl("OPENCONVAI_LLM_BASE_URL", llmUrl),
      model,
      apiKey: get("OPENCONVAI_LLM_API_KEY"),
      timeoutMs: readInteger(
        "OPENCONVAI_LLM_TIMEOUT_MS",
        get("OPENCONVAI_LLM_TIMEOUT_MS"),
        120_000,
        1000,
        600_000,
      ),
    };
  }
  return { embeddings, llm };
}
