/**
 * The agent's side of a voice session: a reply's streamed text cut into sentences, each sentence
 * spoken (the TTS provider, or the development voice without one) as soon as it is complete,
 * converted to the session's output format and sent as `audio` events of about 100 ms, each with
 * the alignment of the characters it carries. Each chunk is placed on the playback timeline (what
 * an interruption measures the heard text with) and on the call recording where it plays.
 *
 * A sentence is sent once its synthesis is whole, so its alignment can be estimated over its real
 * length (providers speaking the OpenAI API give no timings): speech starts after the first
 * sentence, not after the whole reply, and the estimate is exact at each sentence's ends.
 */
import { encodeFromPcm } from "../../audio/audio-codec.js";
import type { AudioFormat } from "../../audio/audio-format.js";
import { resamplePieces } from "../../audio/resampler.js";
import type { TextToSpeech } from "../../providers/tts/text-to-speech.js";
import type { CallRecording } from "../../recording/call-recording.js";
import { type AudioAlignment, estimateAlignment, splitAlignment } from "./alignment.js";
import { synthesizeSpeech } from "./development-voice.js";
import { PlaybackClock, type PlaybackCut } from "./playback-clock.js";
import { SentenceChunker } from "./sentence-chunker.js";
import { VOICE_SAMPLE_RATE } from "./voice-input.js";

/** The length of one `audio` event. */
export const AUDIO_CHUNK_MS = 100;

/** The longest speech one sentence may synthesize to (a provider that goes on is cut off with an error). */
export const MAX_SENTENCE_SPEECH_MS = 120_000;

/** The speech provider failed: the call ends with an `error` event of upstream's type and close 1002. */
export class SpeechError extends Error {
  constructor(
    message: string,
    readonly errorType: "tts_cascade_error" | "asr_transcription_error",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "SpeechError";
  }
}

/** What the output is built from. */
export interface SpeechOutputOptions {
  format: AudioFormat;
  voiceId: string;
  /** Without a provider, the development voice speaks. */
  tts?: TextToSpeech;
  /** Sends one `audio` event. */
  sendAudio(audioBase64: string, eventId: number, alignment: AudioAlignment): void;
  /** Call time now (ms since the session started). */
  nowMs(): number;
  recording?: CallRecording;
}

/** Speaks replies; one reply at a time (`begin` starts the next). */
export class SpeechOutput {
  readonly playback = new PlaybackClock();
  private chunker = new SentenceChunker();
  private chain: Promise<void> = Promise.resolve();
  private controller = new AbortController();
  private failure: unknown;
  private eventId = 0;
  private sentences = 0;
  /** The text of an earlier reply still playing when this one began (its audio comes first). */
  private priorText = "";
  /** Call times of the reply's first complete sentence and its first audio event. */
  firstSentenceAtMs: number | undefined;
  firstAudioAtMs: number | undefined;
  /** The wire bytes of the `audio` event being built (reused: each event's base64 is made from it). */
  private encoded = new Uint8Array(0);

  constructor(private readonly options: SpeechOutputOptions) {}

  /** Starts speaking the reply `eventId` (the audio of an earlier one still playing goes on before it). */
  begin(eventId: number): void {
    this.eventId = eventId;
    this.controller = new AbortController();
    this.chunker = new SentenceChunker();
    this.chain = Promise.resolve();
    this.failure = undefined;
    this.sentences = 0;
    this.firstSentenceAtMs = undefined;
    this.firstAudioAtMs = undefined;
    const now = this.options.nowMs();
    if (this.playback.isPlayingAt(now)) {
      this.priorText = this.playback.interrupt(now).fullText;
      // Its first sentence joins the earlier reply's text with a space, as later sentences do.
      this.sentences = this.priorText ? 1 : 0;
    } else {
      this.priorText = "";
      this.playback.reset();
    }
  }

  /** Takes the next piece of the reply's text; complete sentences start being spoken. */
  text(delta: string): void {
    for (const sentence of this.chunker.push(delta)) this.enqueue(sentence);
  }

  /** The reply's text is complete: resolves once all of it is sent; throws a SpeechError when the provider failed. */
  async finish(): Promise<void> {
    for (const sentence of this.chunker.flush()) this.enqueue(sentence);
    await this.chain;
    if (this.failure !== undefined && !this.controller.signal.aborted) throw this.failure;
  }

  /** Whether the agent's audio is playing at call time `nowMs`. */
  playingAt(nowMs: number): boolean {
    return this.playback.isPlayingAt(nowMs);
  }

  /** Stops the reply now (nothing more is sent) and says what of it was heard; the recording is cut there. */
  interrupt(nowMs: number): PlaybackCut {
    this.controller.abort();
    this.options.recording?.cutAgent(nowMs);
    const cut = this.playback.interrupt(nowMs);
    // The client drops what it had queued on `interruption`: nothing plays any more.
    this.playback.reset();
    // Only this reply's part counts (an earlier one may have been playing before it).
    const own = (text: string) =>
      text.length > this.priorText.length ? text.slice(this.priorText.length).trim() : "";
    return { ...cut, fullText: own(cut.fullText), heardText: own(cut.heardText) };
  }

  /**
   * Stops sending without measuring (the session ended at `nowMs`): audio still queued to play
   * after the hang-up is cut from the recording, which ends with the call.
   */
  stop(nowMs: number): void {
    this.controller.abort();
    if (this.playback.isPlayingAt(nowMs)) this.options.recording?.cutAgent(nowMs);
  }

  private enqueue(sentence: string): void {
    const signal = this.controller.signal;
    const spoken = this.sentences === 0 ? sentence : ` ${sentence}`;
    this.sentences += 1;
    this.firstSentenceAtMs ??= this.options.nowMs();
    this.chain = this.chain.then(async () => {
      if (signal.aborted || this.failure !== undefined) return;
      try {
        await this.speak(sentence, spoken, signal);
      } catch (error) {
        if (!signal.aborted)
          this.failure =
            error instanceof SpeechError
              ? error
              : new SpeechError(
                  // The client is never told the provider's own error (it stays the cause).
                  "Text-to-speech failed: the provider could not speak the reply.",
                  "tts_cascade_error",
                  { cause: error },
                );
      }
    });
  }

  /** Synthesizes one sentence and sends it; `spoken` is the sentence as the reply's text has it (with its leading space). */
  private async speak(sentence: string, spoken: string, signal: AbortSignal): Promise<void> {
    const { format, recording } = this.options;
    const speech = await this.render(sentence, signal);
    if (signal.aborted || speech.pieces.length === 0) return;
    const samples = resamplePieces(speech.pieces, speech.sampleRate, format.sampleRate);
    const recorded = !recording
      ? undefined
      : format.sampleRate === VOICE_SAMPLE_RATE
        ? samples
        : resamplePieces(speech.pieces, speech.sampleRate, VOICE_SAMPLE_RATE);
    const durationMs = (samples.length * 1000) / format.sampleRate;
    const alignment = estimateAlignment(spoken, durationMs);
    const step = Math.round((format.sampleRate * AUDIO_CHUNK_MS) / 1000);
    if (this.encoded.length < step * format.bytesPerSample)
      this.encoded = new Uint8Array(step * format.bytesPerSample);
    const durations: number[] = [];
    for (let at = 0; at < samples.length; at += step)
      durations.push((Math.min(step, samples.length - at) * 1000) / format.sampleRate);
    const parts = splitAlignment(alignment, durations);
    durations.forEach((chunkMs, i) => {
      if (signal.aborted) return;
      const from = i * step;
      const chunk = samples.subarray(from, from + step);
      const part = parts[i] as AudioAlignment;
      const now = this.options.nowMs();
      const scheduled = this.playback.schedule(now, chunkMs, part);
      if (recorded) {
        const at = (ms: number) => Math.round((ms * VOICE_SAMPLE_RATE) / 1000);
        const offset = (from * 1000) / format.sampleRate;
        recording?.addAgent(scheduled.playsAtMs, recorded.subarray(at(offset), at(offset + chunkMs)));
      }
      this.firstAudioAtMs ??= now;
      const bytes = encodeFromPcm(format, chunk, this.encoded);
      const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
      this.options.sendAudio(base64, this.eventId, part);
    });
  }

  /** The sentence's speech, whole, in the pieces it came in: from the provider, or the development voice. */
  private async render(
    sentence: string,
    signal: AbortSignal,
  ): Promise<{ pieces: Int16Array[]; sampleRate: number }> {
    const { tts, format, voiceId } = this.options;
    if (!tts) {
      const speech = synthesizeSpeech(sentence, format.sampleRate);
      return { pieces: speech.samples.length > 0 ? [speech.samples] : [], sampleRate: speech.sampleRate };
    }
    const pieces: Int16Array[] = [];
    let length = 0;
    let sampleRate = format.sampleRate;
    for await (const chunk of tts.synthesize(sentence, { voice: voiceId, signal })) {
      sampleRate = chunk.sampleRate;
      pieces.push(chunk.samples);
      length += chunk.samples.length;
      if (length > (MAX_SENTENCE_SPEECH_MS * sampleRate) / 1000)
        throw new SpeechError(
          `The text-to-speech provider sent more than ${MAX_SENTENCE_SPEECH_MS / 1000} s of speech for one sentence: check its voice and model`,
          "tts_cascade_error",
        );
    }
    return { pieces: pieces.filter((piece) => piece.length > 0), sampleRate };
  }
}
