import type { SpeechToTextConfig } from "../../../config/speech-config.js";
import { type FormField, type StreamedAnswer, streamPost } from "../../http/stream-post.js";
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
 * or a 408/429/5xx answer is tried once more, within the same time limits. The request goes
 * through `streamPost` (undici's `request`, the keep-alive pool the LLM and the TTS use too), not
 * the platform `fetch`: one call per utterance of every live session.
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
    const form: FormField[] = [
      { name: "file", file: wav, filename: "speech.wav", type: "audio/wav" },
      { name: "model", value: this.config.model },
    ];
    if (language !== undefined && toIso639(language) !== "")
      form.push({ name: "language", value: toIso639(language) });
    form.push({ name: "response_format", value: "json" });
    let answer: StreamedAnswer;
    try {
      answer = await streamPost(`${this.config.baseUrl}/audio/transcriptions`, {
        headers: {
          accept: "application/json",
          ...(this.config.apiKey ? { authorization: `Bearer ${this.config.apiKey}` } : {}),
        },
        body: { form },
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
    if (answer.status < 200 || answer.status > 299) {
      const error = httpError(PROVIDER, "OPENCONVAI_ASR", answer.status, await readErrorMessage(answer));
      if (isTransientStatus(answer.status) && !deadlines.stopped) return { retry: error };
      throw deadlines.stopped ? deadlines.failure(error, "") : error;
    }
    const body = await this.readBody(answer, deadlines);
    return parseTranscription(body, answer.header("content-type") ?? "");
  }

  /** The answer's text, at most `maxResponseBytes`. */
  private async readBody(answer: StreamedAnswer, deadlines: SpeechCallDeadlines): Promise<string> {
    const max = this.limits.maxResponseBytes;
    const tooLarge = () =>
      new ProviderError(
        `The ${PROVIDER} provider answered more than ${max} bytes: check that OPENCONVAI_ASR_BASE_URL is a transcription API.`,
        false,
      );
    if (Number(answer.header("content-length") ?? 0) > max) {
      answer.cancel();
      throw tooLarge();
    }
    const reader = answer.body[Symbol.asyncIterator]();
    const parts: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const read = await reader.next().catch((error: unknown) => {
          throw deadlines.failure(error, `The ${PROVIDER} provider's answer broke off`);
        });
        if (read.done) break;
        size += read.value.byteLength;
        if (size > max) throw tooLarge();
        parts.push(read.value);
      }
    } finally {
      // Read to its end, the connection goes back to the pool; else it is closed.
      answer.cancel();
    }
    return new TextDecoder().decode(Buffer.concat(parts));
  }
}
