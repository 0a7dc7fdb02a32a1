import { ConfigError } from "./config-error.js";
import { checkUrl, readInteger } from "./env-values.js";
import { resolveSpeechConfig, type SpeechToTextConfig, type TextToSpeechConfig } from "./speech-config.js";

/** An OpenAI-compatible embeddings endpoint, for semantic message search. */
export interface EmbeddingsConfig {
  /** The `/v1/embeddings` URL, or a base URL it is appended to. */
  url: string;
  model: string;
  apiKey: string | undefined;
  /** How often the background indexer looks for conversations to embed. */
  indexIntervalMs: number;
  /**
   * `OPENCONVAI_EMBEDDINGS_INDEXER`: whether this node embeds conversations (default on). Off, it
   * serves semantic search from the embeddings already stored (a search-only node, a benchmark).
   */
  indexer: boolean;
  /**
   * `OPENCONVAI_SEMANTIC_INDEX`: `ann` (default) answers from an in-memory approximate
   * nearest-neighbour index once it is built; `exact` always compares every stored vector.
   */
  semanticIndex: "ann" | "exact";
}

/** An OpenAI-compatible chat-completions endpoint, for post-call analysis and live conversations' agents. */
export interface LlmConfig {
  /** The base URL (`…/v1`); `/chat/completions` is appended. */
  baseUrl: string;
  /** The model every request names, unless `modelMap` maps an agent's `prompt.llm` to another. */
  model: string;
  apiKey: string | undefined;
  /** How long one completion may take, streamed or not. */
  timeoutMs: number;
  /** How long a streamed completion may take to send its first chunk. */
  firstTokenTimeoutMs: number;
  /** An agent's `prompt.llm` (e.g. `gpt-4o-mini`) → the model asked instead of `model`. */
  modelMap: ReadonlyMap<string, string>;
}

/** The model providers; each is undefined when not configured. */
export interface AiConfig {
  embeddings: EmbeddingsConfig | undefined;
  llm: LlmConfig | undefined;
  /** Speech-to-text for live conversations (`OPENCONVAI_ASR_*`). */
  asr: SpeechToTextConfig | undefined;
  /** Text-to-speech for live conversations (`OPENCONVAI_TTS_*`). */
  tts: TextToSpeechConfig | undefined;
}

/** How `OPENCONVAI_LLM_MODEL_MAP` is written, for error messages. */
const MODEL_MAP_FORMAT =
  'comma-separated agent-model=provider-model pairs, e.g. "gpt-4o-mini=llama3.1:8b,gemini-2.0-flash=qwen2.5"';

/**
 * Parses `OPENCONVAI_LLM_MODEL_MAP`: `agent-model=provider-model` pairs separated by commas
 * (spaces around either side ignored, a trailing comma allowed). A pair without `=`, with an
 * empty side, or naming an agent model twice is refused with what to write instead.
 */
export function parseModelMap(raw: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (raw === undefined) return map;
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue;
    const equals = entry.indexOf("=");
    const from = equals < 0 ? "" : entry.slice(0, equals).trim();
    const to = equals < 0 ? "" : entry.slice(equals + 1).trim();
    if (from === "" || to === "" || to.includes("=")) {
      throw new ConfigError(
        `OPENCONVAI_LLM_MODEL_MAP has "${entry.trim()}", which is not agent-model=provider-model: write ${MODEL_MAP_FORMAT}.`,
      );
    }
    if (map.has(from)) {
      throw new ConfigError(`OPENCONVAI_LLM_MODEL_MAP maps "${from}" twice: keep one provider model for it.`);
    }
    map.set(from, to);
  }
  return map;
}

/** Reads a setting that takes one of a few words (any case); undefined when unset. */
function readChoice<T extends string>(
  name: string,
  raw: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  const value = raw.toLowerCase();
  const found = choices.find((choice) => choice === value);
  if (found === undefined) {
    throw new ConfigError(`${name} is "${raw}": write one of ${choices.join(", ")}.`);
  }
  return found;
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
      indexer:
        readChoice("OPENCONVAI_EMBEDDINGS_INDEXER", get("OPENCONVAI_EMBEDDINGS_INDEXER"), ["on", "off"]) !==
        "off",
      semanticIndex:
        readChoice("OPENCONVAI_SEMANTIC_INDEX", get("OPENCONVAI_SEMANTIC_INDEX"), ["ann", "exact"]) ?? "ann",
    };
  }
  let llm: LlmConfig | undefined;
  const llmUrl = get("OPENCONVAI_LLM_BASE_URL");
  const modelMap = parseModelMap(get("OPENCONVAI_LLM_MODEL_MAP"));
  if (llmUrl === undefined && modelMap.size > 0) {
    throw new ConfigError(
      "OPENCONVAI_LLM_MODEL_MAP is set but OPENCONVAI_LLM_BASE_URL is not: set the LLM provider's URL and model too, or unset the map.",
    );
  }
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
      firstTokenTimeoutMs: readInteger(
        "OPENCONVAI_LLM_FIRST_TOKEN_TIMEOUT_MS",
        get("OPENCONVAI_LLM_FIRST_TOKEN_TIMEOUT_MS"),
        30_000,
        100,
        600_000,
      ),
      modelMap,
    };
  }
  return { embeddings, llm, ...resolveSpeechConfig(get) };
}
