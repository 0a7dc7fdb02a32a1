import { ConfigError } from "./config-error.js";
import { checkUrl, readInteger } from "./env-values.js";

/** An OpenAI-compatible `/audio/transcriptions` endpoint: what live conversations hear the user with. */
export interface SpeechToTextConfig {
  /** The base URL (`…/v1`); `/audio/transcriptions` is appended. */
  baseUrl: string;
  /** The model every request names (a server that serves one model ignores it). */
  model: string;
  apiKey: string | undefined;
  /** How long one transcription may take, upload and answer. */
  timeoutMs: number;
  /** How long the provider may take to start answering (the status line). */
  firstByteTimeoutMs: number;
}

/** What `/audio/speech` is asked to answer: raw 16-bit PCM, or the same in a WAV file. */
export type SpeechResponseFormat = "pcm" | "wav";

/** An OpenAI-compatible `/audio/speech` endpoint: what live conversations' agents speak with. */
export interface TextToSpeechConfig {
  /** The base URL (`…/v1`); `/audio/speech` is appended. */
  baseUrl: string;
  model: string;
  apiKey: string | undefined;
  /** The rate of raw `pcm` answers (OpenAI's is 24000); a WAV answer carries its own. */
  sampleRate: number;
  /** The `response_format` asked for. */
  responseFormat: SpeechResponseFormat;
  /** How long one synthesis may take, to the last audio byte. */
  timeoutMs: number;
  /** How long the provider may take to send its first audio byte. */
  firstByteTimeoutMs: number;
}

/** Reads a setting by name: undefined when unset or blank, else trimmed. */
export type ReadSetting = (name: string) => string | undefined;

/** Reads the speech providers (`OPENCONVAI_ASR_*`, `OPENCONVAI_TTS_*`); each is set only with its base URL. */
export function resolveSpeechConfig(get: ReadSetting): {
  asr: SpeechToTextConfig | undefined;
  tts: TextToSpeechConfig | undefined;
} {
  return { asr: resolveAsr(get), tts: resolveTts(get) };
}

function resolveAsr(get: ReadSetting): SpeechToTextConfig | undefined {
  const baseUrl = get("OPENCONVAI_ASR_BASE_URL");
  if (baseUrl === undefined) return undefined;
  const timeoutMs = readInteger(
    "OPENCONVAI_ASR_TIMEOUT_MS",
    get("OPENCONVAI_ASR_TIMEOUT_MS"),
    30_000,
    1000,
    600_000,
  );
  return {
    baseUrl: checkUrl("OPENCONVAI_ASR_BASE_URL", baseUrl),
    model: requireModel(
      get,
      "ASR",
      "speech-to-text model (e.g. whisper-1; any name for a server that serves one model)",
    ),
    apiKey: get("OPENCONVAI_ASR_API_KEY"),
    timeoutMs,
    firstByteTimeoutMs: Math.min(
      timeoutMs,
      readInteger(
        "OPENCONVAI_ASR_FIRST_BYTE_TIMEOUT_MS",
        get("OPENCONVAI_ASR_FIRST_BYTE_TIMEOUT_MS"),
        20_000,
        100,
        600_000,
      ),
    ),
  };
}

function resolveTts(get: ReadSetting): TextToSpeechConfig | undefined {
  const baseUrl = get("OPENCONVAI_TTS_BASE_URL");
  if (baseUrl === undefined) return undefined;
  const timeoutMs = readInteger(
    "OPENCONVAI_TTS_TIMEOUT_MS",
    get("OPENCONVAI_TTS_TIMEOUT_MS"),
    60_000,
    1000,
    600_000,
  );
  const format = get("OPENCONVAI_TTS_RESPONSE_FORMAT") ?? "pcm";
  if (format !== "pcm" && format !== "wav") {
    throw new ConfigError(
      `OPENCONVAI_TTS_RESPONSE_FORMAT must be "pcm" or "wav", got "${format}": use "wav" only for a server that cannot answer raw PCM.`,
    );
  }
  return {
    baseUrl: checkUrl("OPENCONVAI_TTS_BASE_URL", baseUrl),
    model: requireModel(get, "TTS", "text-to-speech model (e.g. tts-1)"),
    apiKey: get("OPENCONVAI_TTS_API_KEY"),
    sampleRate: readInteger(
      "OPENCONVAI_TTS_SAMPLE_RATE",
      get("OPENCONVAI_TTS_SAMPLE_RATE"),
      24_000,
      8000,
      192_000,
    ),
    responseFormat: format,
    timeoutMs,
    firstByteTimeoutMs: Math.min(
      timeoutMs,
      readInteger(
        "OPENCONVAI_TTS_FIRST_BYTE_TIMEOUT_MS",
        get("OPENCONVAI_TTS_FIRST_BYTE_TIMEOUT_MS"),
        10_000,
        100,
        600_000,
      ),
    ),
  };
}

function requireModel(get: ReadSetting, kind: "ASR" | "TTS", what: string): string {
  const model = get(`OPENCONVAI_${kind}_MODEL`);
  if (model === undefined) {
    throw new ConfigError(
      `OPENCONVAI_${kind}_BASE_URL is set but OPENCONVAI_${kind}_MODEL is not: name the ${what}.`,
    );
  }
  return model;
}
