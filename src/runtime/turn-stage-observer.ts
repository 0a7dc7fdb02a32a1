/** The stages of a spoken reply's latency, as the turn's `conversation_turn_metrics` names them. */
export type TurnStage = "turn_detection" | "asr" | "llm" | "tts";

/**
 * Told the timings of each voice reply that answers a spoken user turn (the server's metrics):
 * `turn_detection` (`convai_turn_detection_latency`: the silence that ended the user's turn),
 * `asr` (`convai_asr_service_latency`), `llm` (`convai_llm_service_ttf_sentence`: the model's first
 * complete sentence) and `tts` (`convai_tts_service_ttfb`: that sentence's first audio). Text
 * sessions measure none of these and report nothing.
 */
export interface TurnStageObserver {
  stageTimed(stage: TurnStage, seconds: number): void;
}
