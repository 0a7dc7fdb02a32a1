import type { SpeechToTextConfig } from "../../../config/speech-config.js";
import { ProviderError } from "../../provider-error.js";
import { httpError, isTransientStatus, readErrorMessage } from "../../read-error-answer.js";
import { SpeechCallDeadlines } from "../../speech-call-deadlines.js";
import type { SpeechToText, TranscribeOptions, Transcript } from "../speech-to-text.js";
import { parseTranscription, toIso639 } from "./parse-transcription.js";

/** Limits of the transcription calls (the time limits come from the SpeechToTextConfig). */
export interface SpeechToTextLimits {
  /** Largest WAV sent (OpenAI takes 25 MiB); a larger one is refused before any request. */
  maxUploadBytes: number;
  /** Largest answer read; more is a ProviderError. */
  maxResponseBytes: number;
  /** Wait before the one retry. */
  retryDelayMs: number;
}

/** The limits used unless others are given. */
export const DEFAULT_SPEECH_TO_TEXT_LIMITS: SpeechToTextLimits = {
  maxUploadBytes: 25 * 1024 * 1024,
  maxResponseBytes: 1024 * 1024,
  retryDelayMs: 250,
};

const PROVIDER = "speech-to-text (ASR)";

/** Whether a failed attempt may be sent again: no answer body was read, so a retry is safe. */
interface RetryableFailure {
  retry: ProviderError;
}

/**
 * Transcribes through an OpenAI-compatible `POST {base}/audio/transcriptions` (multipart: `file`
 * as `speech.wav`, `model`, `language`, `response_format=json`), as OpenAI, whisper.cpp's server,
 * faster-whisper servers and vLLM take it. A transcription is idempotent, so a connection error
 * or a 408/429/5xx answer is tried once more, within the same time limits.
 */
export class OpenAiCompatibleSpeechToText implements SpeechToText {
  constructor(
    private readonly config: SpeechToTextConfig,
    private readonly limits: SpeechToTextLimits = DEFAULT_SPEECH_TO_TEXT_LIMITS,
  ) {}

  /** Transcribes one WAV; see SpeechToText. */
  async transcribe(wav: Uint8Array, options: TranscribeOptions): Promise<Transcript> {
    if (wav.byteLength > this.limits.maxUploadBytes) {
      throw new ProviderError(
        `The utterance is ${wav.byteLength} bytes of WAV, more than the ${this.limits.maxUploadBytes} the speech-to-text provider is sent: send shorter utterances.`,
        false,
      );
    }
    const deadlines = new SpeechCallDeadlines(
      options.signal,
      this.config.firstByteTimeoutMs,
      this.config.timeoutMs,
      {
        provider: PROVIDER,
        firstByteSetting: "OPENCONVAI_ASR_FIRST_BYTE_TIMEOUT_MS",
        totalSetting: "OPENCONVAI_ASR_TIMEOUT_MS",
      },
    );
    try {
      const first = await this.attempt(wav, options.language, deadlines);
      if (!("retry" in first)) return first;
      await deadlines.pause(this.limits.retryDelayMs);
      const second = await this.attempt(wav, options.language, deadlines);
      if ("retry" in second) throw second.retry;
      return second;
    } finally {
      deadlines.dispose();
    }
  }

  private async attempt(
    wav: Uint8Array,
    language: string | undefined,
    deadlines: SpeechCallDeadlines,
  ): Promise<Transcript | RetryableFailure> {
    const form = new FormData();
    // The WAV is built on an ordinary ArrayBuffer (never a shared one), which is what Blob takes.
    form.append("file", new Blob([wav as Uint8Array<ArrayBuffer>], { type: "audio/wav" }), "speech.wav");
    form.append("model", this.config.model);
    if (language !== undefined && toIso639(language) !== "") form.append("language", toIso639(language));
    form.append("response_format", "json");
    let response: Response;
    try {
      response = await fetch(`${this.config.baseUrl}/audio/transcriptions`, {
        method: "POST",
        headers: {
          accept: "application/json",
          ...(this.config.apiKey ? { authorization: `Bearer ${this.config.apiKey}` } : {}),
        },
        body: form,
        signal: deadlines.signal,
      });
    } catch (error) {
      const failure = deadlines.failure(
        error,
        `The ${PROVIDER} provider could not be reached at OPENCONVAI_ASR_BASE_URL; check that it is running`,
      );
      if (!deadlines.stopped && failure instanceof ProviderError) return { retry: failure };
      throw failure;
    }
    deadlines.firstByteArrived();
    if (!response.ok) {
      const error = httpError(PROVIDER, "OPENCONVAI_ASR", response.status, await readErrorMessage(response));
      if (isTransientStatus(response.status) && !deadlines.stopped) return { retry: error };
      throw deadlines.stopped ? deadlines.failure(error, "") : error;
    }
    const body = await this.readBody(response, deadlines);
    return parseTranscription(body, response.headers.get("content-type") ?? "");
  }

  /** The answer's text, at most `maxResponseBytes`. */
  private async readBody(response: Response, deadlines: SpeechCallDeadlines): Promise<string> {
    const max = this.limits.maxResponseBytes;
    const tooLarge = () =>
      new ProviderError(
        `The ${PROVIDER} provider answered more than ${max} bytes: check that OPENCONVAI_ASR_BASE_URL is a transcription API.`,
        false,
      );
    if (Number(response.headers.get("content-length") ?? 0) > max) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!response.body) return "";
    const reader = response.body.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const read = await reader.read().catch((error: unknown) => {
          throw deadlines.failure(error, `The ${PROVIDER} provider's answer broke off`);
        });
        if (read.done) break;
        size += read.value.byteLength;
        if (size > max) throw tooLarge();
        parts.push(read.value);
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    return new TextDecoder().decode(Buffer.concat(parts));
  }
}
