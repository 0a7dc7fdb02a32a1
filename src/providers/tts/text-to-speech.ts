/** What a synthesis is asked for. */
export interface SynthesizeOptions {
  /** The provider's voice (a live conversation passes the agent's `tts.voice_id`). */
  voice: string;
  /** Aborts the call: the stream is closed and the iteration throws the signal's reason. */
  signal?: AbortSignal;
}

/** A piece of synthesized speech: 16-bit mono samples and their rate. */
export interface SpeechAudioChunk {
  samples: Int16Array;
  /** Samples per second (the same for every chunk of one synthesis). */
  sampleRate: number;
}

/** Turns text into speech, streamed: what a live conversation's agent speaks with. */
export interface TextToSpeech {
  /**
   * Streams the speech of `text` as its audio arrives (blank text yields nothing). A failed
   * call, an error answer, a malformed or oversized answer throws a ProviderError (a
   * ProviderTimeoutError when a time limit passed), possibly after some chunks were yielded.
   */
  synthesize(text: string, options: SynthesizeOptions): AsyncIterable<SpeechAudioChunk>;
}
