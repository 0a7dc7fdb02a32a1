/** What a transcription is asked for. */
export interface TranscribeOptions {
  /** The spoken language as an ISO-639-1 code or a BCP-47 tag (`en`, `pt-BR`); unset, the provider detects it. */
  language?: string;
  /** Aborts the call: the request is closed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What was heard. */
export interface Transcript {
  /** The text, trimmed ("" when nothing was said). */
  text: string;
  /** The language the provider reports, as it names it (only some answers carry one). */
  language?: string;
  /** The audio's length the provider reports, in milliseconds (only some answers carry one). */
  durationMs?: number;
}

/** Turns one utterance of speech into text: what a live conversation hears the user with. */
export interface SpeechToText {
  /**
   * Transcribes one WAV file (a whole utterance). A failed call, an error answer, a malformed
   * or oversized answer throws a ProviderError (a ProviderTimeoutError when a time limit passed).
   */
  transcribe(wav: Uint8Array, options: TranscribeOptions): Promise<Transcript>;
}
