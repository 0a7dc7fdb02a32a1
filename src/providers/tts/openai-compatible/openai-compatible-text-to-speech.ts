import type { TextToSpeechConfig } from "../../../config/speech-config.js";
import { type StreamedAnswer, streamPost } from "../../http/stream-post.js";
import { ProviderError } from "../../provider-error.js";
import { httpError, readErrorMessage } from "../../read-error-answer.js";
import { SpeechCallDeadlines } from "../../speech-call-deadlines.js";
import type { SpeechAudioChunk, SynthesizeOptions, TextToSpeech } from "../text-to-speech.js";
import { PcmStreamDecoder } from "./pcm-stream-decoder.js";

/** Limits of the synthesis calls (the time limits come from the TextToSpeechConfig). */
export interface TextToSpeechLimits {
  /** Most characters of text sent in one call (OpenAI takes 4096); more is refused before any request. */
  maxInputChars: number;
  /** Most bytes of audio one answer may take; more is a ProviderError. */
  maxResponseBytes: number;
  /** Wait before the one retry. */
  retryDelayMs: number;
}

/** The limits used unless others are given: 32 MiB is about 11 minutes of 24 kHz speech. */
export const DEFAULT_TEXT_TO_SPEECH_LIMITS: TextToSpeechLimits = {
  maxInputChars: 4096,
  maxResponseBytes: 32 * 1024 * 1024,
  retryDelayMs: 250,
};

const PROVIDER = "text-to-speech (TTS)";

/** Content types that cannot be audio: an error or a web page answered with status 200. */
const NOT_AUDIO = /^(application\/json|text\/)/i;

/**
 * Synthesizes through an OpenAI-compatible `POST {base}/audio/speech` (`{model, input, voice,
 * response_format}`), streaming the samples as the answer's bytes arrive. `pcm` answers are raw
 * 16-bit little-endian mono at the configured rate; an answer that begins with a RIFF header is
 * read as WAV at its own rate. A connection error or a 408/429/5xx answer is tried once more,
 * but only before any audio was yielded (after, the listener has heard part of it). The request
 * goes through `streamPost` (undici's `request`, the keep-alive pool the LLM uses too), not the
 * platform `fetch`: one call per sentence of every reply is on the live sessions' hot path.
 */
export class OpenAiCompatibleTextToSpeech implements TextToSpeech {
  constructor(
    private readonly config: TextToSpeechConfig,
    private readonly limits: TextToSpeechLimits = DEFAULT_TEXT_TO_SPEECH_LIMITS,
  ) {}

  /** Streams the speech of `text`; see TextToSpeech. */
  async *synthesize(text: string, options: SynthesizeOptions): AsyncIterable<SpeechAudioChunk> {
    if (text.trim() === "") return;
    if (text.length > this.limits.maxInputChars) {
      throw new ProviderError(
        `The text to speak is ${text.length} characters, more than the ${this.limits.maxInputChars} sent to the text-to-speech provider at once: split it into sentences.`,
        false,
      );
    }
    const deadlines = new SpeechCallDeadlines(
      options.signal,
      this.config.firstByteTimeoutMs,
      this.config.timeoutMs,
      {
        provider: PROVIDER,
        firstByteSetting: "OPENCONVAI_TTS_FIRST_BYTE_TIMEOUT_MS",
        totalSetting: "OPENCONVAI_TTS_TIMEOUT_MS",
      },
    );
    try {
      const retry = yield* this.stream(text, options.voice, deadlines, true);
      if (retry) {
        await deadlines.pause(this.limits.retryDelayMs);
        yield* this.stream(text, options.voice, deadlines, false);
      }
    } finally {
      deadlines.dispose();
    }
  }

  /**
   * One request and its answer. Returns the error to retry on when `mayRetry` and the failure
   * came before any audio was yielded and is worth another try; else throws it.
   */
  private async *stream(
    text: string,
    voice: string,
    deadlines: SpeechCallDeadlines,
    mayRetry: boolean,
  ): AsyncGenerator<SpeechAudioChunk, ProviderError | undefined> {
    let yielded = false;
    const retryOrThrow = (error: unknown): ProviderError => {
      if (mayRetry && !yielded && !deadlines.stopped && error instanceof ProviderError && error.transient) {
        return error;
      }
      throw error;
    };
    let answer: StreamedAnswer;
    try {
      answer = await this.post(text, voice, deadlines);
    } catch (error) {
      return retryOrThrow(error);
    }
    if (answer.status < 200 || answer.status > 299) {
      const error = httpError(PROVIDER, "OPENCONVAI_TTS", answer.status, await readErrorMessage(answer));
      if (deadlines.stopped) throw deadlines.failure(error, "");
      return retryOrThrow(error);
    }
    const type = answer.header("content-type") ?? "";
    // 204 and 205 answers have no body (fetch gave them a null one).
    if (NOT_AUDIO.test(type) || answer.status === 204 || answer.status === 205) {
      answer.cancel();
      throw new ProviderError(
        `The ${PROVIDER} provider answered "${type || "no body"}" instead of audio: check that OPENCONVAI_TTS_BASE_URL is an OpenAI-compatible speech API.`,
        false,
      );
    }
    const decoder = new PcmStreamDecoder(this.config.sampleRate);
    const reader = answer.body[Symbol.asyncIterator]();
    let bytes = 0;
    try {
      for (;;) {
        let read: IteratorResult<Uint8Array>;
        try {
          read = await reader.next();
        } catch (error) {
          return retryOrThrow(deadlines.failure(error, `The ${PROVIDER} provider's audio stream broke off`));
        }
        if (read.done) break;
        if (read.value.byteLength === 0) continue;
        deadlines.firstByteArrived();
        bytes += read.value.byteLength;
        if (bytes > this.limits.maxResponseBytes) {
          throw new ProviderError(
            `The ${PROVIDER} provider answered more than ${this.limits.maxResponseBytes} bytes of audio: send shorter texts.`,
            false,
          );
        }
        // undici's chunks are views of the socket's read buffers; the decoder copies what it keeps.
        const samples = decoder.push(read.value);
        // Bytes read in one piece are not yielded once the caller aborted or a limit passed.
        if (deadlines.stopped)
          throw deadlines.failure(deadlines.signal.reason, "The speech stream was closed");
        if (samples.length > 0) {
          yielded = true;
          yield { samples, sampleRate: decoder.sampleRate };
        }
      }
      const last = decoder.finish();
      if (last.length > 0) {
        yielded = true;
        yield { samples: last, sampleRate: decoder.sampleRate };
      }
      if (!yielded) {
        throw new ProviderError(
          `The ${PROVIDER} provider answered no audio: check OPENCONVAI_TTS_MODEL and the agent's voice.`,
          false,
        );
      }
      return undefined;
    } finally {
      // Closes the HTTP stream when the consumer stops early, or a failure ends the call (read to
      // its end, the connection goes back to the pool).
      answer.cancel();
    }
  }

  private async post(text: string, voice: string, deadlines: SpeechCallDeadlines): Promise<StreamedAnswer> {
    try {
      return await streamPost(`${this.config.baseUrl}/audio/speech`, {
        headers: {
          "content-type": "application/json",
          ...(this.config.apiKey ? { authorization: `Bearer ${this.config.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: this.config.model,
          input: text,
          voice,
          response_format: this.config.responseFormat,
        }),
        signal: deadlines.signal,
      });
    } catch (error) {
      throw deadlines.failure(
        error,
        `The ${PROVIDER} provider could not be reached at OPENCONVAI_TTS_BASE_URL; check that it is running`,
      );
    }
  }
}
