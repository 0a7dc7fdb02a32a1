/**
 * The voice of one live session: user audio in (checked, scored, turned into turns, transcribed)
 * and the agent's speech out, the call's recording, and the timings each turn records.
 *
 * Turn metrics (`conversation_turn_metrics.metrics`, each `{elapsed_time}` in seconds, as upstream):
 * - a user turn: `convai_user_speech_start` and `convai_user_speech_end`, call times (seconds since
 *   the call started) of its first and last speech; its `time_in_call_secs` is the speech's start;
 * - the agent's reply to it: `convai_time_to_first_audio`, from the end of the user's speech to
 *   the first `audio` event, and its parts: `convai_turn_detection_latency` (the silence that ended
 *   the turn), `convai_asr_service_latency` (speech recognition), `convai_llm_service_ttf_sentence`
 *   (the model's first complete sentence) and `convai_tts_service_ttfb` (that sentence's speech).
 */
import { AudioChunkDecoder } from "../audio/audio-chunk.js";
import { bytesForMs } from "../audio/audio-format.js";
import { encodeWav } from "../audio/wav.js";
import type { SpeechToText } from "../providers/asr/speech-to-text.js";
import { ProviderTimeoutError } from "../providers/provider-error.js";
import type { TextToSpeech } from "../providers/tts/text-to-speech.js";
import { CallRecording } from "../recording/call-recording.js";
import type { TurnSpeech } from "./agent-turn.js";
import { audioFrame, type ServerFrame, vadScoreFrame } from "./server-frames.js";
import type { TurnStageObserver } from "./turn-stage-observer.js";
import { placeholderTranscript } from "./voice/development-voice.js";
import type { PlaybackCut } from "./voice/playback-clock.js";
import { SpeechError, SpeechOutput } from "./voice/speech-output.js";
import { type EndedTurn, VOICE_SAMPLE_RATE, VoiceInput } from "./voice/voice-input.js";
import type { VoiceSettings } from "./voice/voice-setup.js";

/** The most audio one `user_audio_chunk` may carry. */
export const MAX_AUDIO_CHUNK_MS = 1_000;

/**
 * The most user turns waiting for speech recognition at once; a turn over it is dropped (a
 * recognizer that far behind would answer turns long gone, and each holds its audio).
 */
export const MAX_PENDING_TRANSCRIPTIONS = 4;

/** The speech providers of a session; a missing one is replaced by the development voice. */
export interface SpeechProviders {
  speechToText?: SpeechToText;
  textToSpeech?: TextToSpeech;
}

/** When and how a user's spoken turn was heard (call times in ms). */
export interface HeardSpeech {
  startMs: number;
  endMs: number;
  /** When the turn's end was decided (the silence window passed). */
  decidedAtMs: number;
  /** When its transcript was ready. */
  transcribedAtMs: number;
}

/** What the channel needs from its session. */
export interface VoiceHost {
  send(frame: ServerFrame): void;
  /** Call time now (ms since the session started). */
  nowMs(): number;
  /** The user spoke (speech started or a turn ended): the silence clock restarts. */
  userActive(): void;
  /** The user spoke over the agent: interrupts the running agent turn; false when none runs. */
  interruptTurn(): boolean;
  /** A reply already sent whole was cut off while it played. */
  replyCut(eventId: number, cut: PlaybackCut): void;
  /** A user turn was transcribed (runs it in the session's queue). */
  heard(text: string, speech: HeardSpeech): void;
  /** The speech provider failed: the session ends (in its queue). */
  failed(error: SpeechError): void;
}

const secs = (ms: number) => ({ elapsed_time: Math.round(Math.max(0, ms)) / 1000 });

/** One session's voice; see the module comment. */
export class VoiceChannel {
  readonly recording: CallRecording | undefined;
  private readonly input: VoiceInput;
  private readonly output: SpeechOutput;
  private readonly chunks: AudioChunkDecoder;
  private transcribing: Promise<void> = Promise.resolve();
  private pendingTranscriptions = 0;
  private readonly controller = new AbortController();
  /** The latest reply's event id (the one the playback clock follows). */
  private replyEventId = 0;

  constructor(
    private readonly settings: VoiceSettings,
    private readonly providers: SpeechProviders,
    private readonly language: string,
    private readonly host: VoiceHost,
    /** Told each reply's latency by stage (the server's metrics). */
    private readonly stages?: TurnStageObserver,
  ) {
    this.recording = settings.recordVoice ? new CallRecording() : undefined;
    this.input = new VoiceInput(settings.inputFormat, settings.silenceWindowMs, this.recording);
    this.output = new SpeechOutput({
      format: settings.outputFormat,
      voiceId: settings.voiceId,
      ...(providers.textToSpeech ? { tts: providers.textToSpeech } : {}),
      sendAudio: (audio, eventId, alignment) => host.send(audioFrame(audio, eventId, alignment)),
      nowMs: () => host.nowMs(),
      ...(this.recording ? { recording: this.recording } : {}),
    });
    this.chunks = new AudioChunkDecoder(
      settings.inputFormat,
      bytesForMs(settings.inputFormat, MAX_AUDIO_CHUNK_MS),
    );
  }

  /** Takes one `user_audio_chunk`; returns why it is refused (the session closes 1008), or undefined. */
  audio(base64: string): string | undefined {
    const decoded = this.chunks.decode(base64);
    if (!decoded.ok) return decoded.reason;
    const result = this.input.push(decoded.bytes, this.host.nowMs());
    for (const score of result.scores) this.host.send(vadScoreFrame(score));
    for (const _started of result.started) {
      this.host.userActive();
      this.bargeIn();
    }
    for (const ended of result.ended) {
      this.host.userActive();
      this.transcribe(ended);
    }
    return undefined;
  }

  /** How a new agent turn speaks, timed from `speech` when it answers a spoken user turn. */
  turnSpeech(speech: HeardSpeech | undefined): TurnSpeech {
    const { output } = this;
    let timed = speech;
    return {
      begin: (eventId) => {
        this.replyEventId = eventId;
        output.begin(eventId);
      },
      text: (delta) => output.text(delta),
      finish: () => output.finish(),
      cut: (sent) => {
        const heard = output.interrupt(this.host.nowMs()).heardText;
        return sent.startsWith(heard) ? heard : sent.slice(0, heard.length);
      },
      metrics: () => {
        const metrics = this.replyMetrics(timed);
        timed = undefined; // only the turn's first reply answers the speech
        return metrics;
      },
    };
  }

  /** Whether the agent's audio is playing now. */
  playing(): boolean {
    return this.output.playingAt(this.host.nowMs());
  }

  /** Stops everything (the session ended): no more audio out, no transcription goes on. */
  stop(): void {
    this.controller.abort();
    this.output.stop(this.host.nowMs());
  }

  /** Resolves when the transcriptions started so far are over. */
  settled(): Promise<void> {
    return this.transcribing;
  }

  /** The user started speaking: over the agent, that interrupts it. */
  private bargeIn(): void {
    if (this.host.interruptTurn()) return;
    this.interruptPlayback();
  }

  /** Cuts off a reply that was sent whole but still plays (its turn is over). */
  interruptPlayback(): void {
    const now = this.host.nowMs();
    if (this.output.playingAt(now)) this.host.replyCut(this.replyEventId, this.output.interrupt(now));
  }

  private transcribe(turn: EndedTurn): void {
    const decidedAtMs = this.host.nowMs();
    const signal = this.controller.signal;
    if (this.pendingTranscriptions >= MAX_PENDING_TRANSCRIPTIONS) return;
    this.pendingTranscriptions += 1;
    // One at a time, in order: turns reach the model in the order they were spoken.
    this.transcribing = this.transcribing.then(() =>
      this.hear(turn, decidedAtMs, signal)
        // Whatever goes wrong ends the call as a recognition failure; the queue goes on settling.
        .catch((error: unknown) =>
          this.host.failed(
            new SpeechError("Speech recognition failed.", "asr_transcription_error", { cause: error }),
          ),
        )
        .finally(() => {
          this.pendingTranscriptions -= 1;
        }),
    );
  }

  /** Transcribes one turn and hands its text to the session (in its queue). */
  private async hear(turn: EndedTurn, decidedAtMs: number, signal: AbortSignal): Promise<void> {
    const { speechToText } = this.providers;
    if (signal.aborted) return;
    let text: string;
    if (speechToText) {
      try {
        const wav = encodeWav(turn.samples, VOICE_SAMPLE_RATE);
        text = (await speechToText.transcribe(wav, { language: this.language, signal })).text;
      } catch (error) {
        if (signal.aborted) return;
        // The client is never told the provider's own error (it stays the cause, logged at debug).
        const message =
          error instanceof ProviderTimeoutError
            ? "Speech recognition failed: the provider did not answer in time."
            : "Speech recognition failed: the provider could not transcribe the user's speech.";
        this.host.failed(new SpeechError(message, "asr_transcription_error", { cause: error }));
        return;
      }
    } else text = placeholderTranscript(turn.speechMs);
    if (signal.aborted || text.trim() === "") return;
    this.host.heard(text.trim(), {
      startMs: turn.turnStartedAtMs,
      endMs: turn.lastSpeechAtMs,
      decidedAtMs,
      transcribedAtMs: this.host.nowMs(),
    });
  }

  /** The transcript fields of a spoken user turn. */
  userFields(speech: HeardSpeech): Record<string, unknown> {
    return {
      source_medium: "audio",
      conversation_turn_metrics: {
        metrics: {
          convai_user_speech_start: secs(speech.startMs),
          convai_user_speech_end: secs(speech.endMs),
        },
        convai_asr_provider: this.providers.speechToText ? "openai_compatible" : "development",
      },
    };
  }

  private replyMetrics(speech: HeardSpeech | undefined): Record<string, unknown> {
    const { firstSentenceAtMs, firstAudioAtMs } = this.output;
    const fields: Record<string, unknown> = {
      ...(this.settings.voiceId ? { voice_id: this.settings.voiceId } : {}),
      ...(this.providers.textToSpeech ? {} : { convai_tts_model: "development" }),
    };
    if (!speech || firstSentenceAtMs === undefined || firstAudioAtMs === undefined) return fields;
    if (this.stages) {
      const stages = this.stages;
      stages.stageTimed("turn_detection", Math.max(0, speech.decidedAtMs - speech.endMs) / 1000);
      stages.stageTimed("asr", Math.max(0, speech.transcribedAtMs - speech.decidedAtMs) / 1000);
      stages.stageTimed("llm", Math.max(0, firstSentenceAtMs - speech.transcribedAtMs) / 1000);
      stages.stageTimed("tts", Math.max(0, firstAudioAtMs - firstSentenceAtMs) / 1000);
    }
    fields.metrics = {
      convai_time_to_first_audio: secs(firstAudioAtMs - speech.endMs),
      convai_turn_detection_latency: secs(speech.decidedAtMs - speech.endMs),
      convai_asr_service_latency: secs(speech.transcribedAtMs - speech.decidedAtMs),
      convai_llm_service_ttf_sentence: secs(firstSentenceAtMs - speech.transcribedAtMs),
      convai_tts_service_ttfb: secs(firstAudioAtMs - firstSentenceAtMs),
    };
    return fields;
  }
}
