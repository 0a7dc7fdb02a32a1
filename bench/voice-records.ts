/**
 * The voice benchmark client's records: the load's options and what it measured (sessions, spoken
 * turns, replies' audio), shared by the client (bench/voice-client.ts), its sessions
 * (bench/voice-session.ts) and the report (bench/voice-report.ts).
 */

/** One spoken turn and what came back. */
export interface VoiceTurnRecord {
  session: number;
  burstStartAt: number;
  burstEndAt: number;
  /** When the chunk that completed the silence window was sent. */
  decisionSentAt?: number;
  /** The benchmark token of its transcript (`user_transcript`). */
  token?: string;
  transcriptAt?: number;
  firstAudioAt?: number;
  responseAt?: number;
}

/** One reply's audio, as a player would queue it. */
export interface ReplyAudio {
  session: number;
  greeting: boolean;
  eventId: number;
  events: number;
  audioMs: number;
  /** When its first event arrived: playback starts then. */
  firstAt: number;
  /** Each event's lateness in ms (0 when it arrived before the audio ahead of it finished). */
  lateMs: number[];
}

/** What happened to one session. */
export interface VoiceSessionRecord {
  index: number;
  conversationId?: string;
  setupMs?: number;
  failure?: string;
  closed?: { code: number; reason: string };
  pongs: number;
  vadScores: number;
  interruptions: number;
  chunksSent: number;
  /** Transcripts that came before the chunk expected to end the turn was sent (no client-side timing then). */
  earlyDecisions: number;
}

/** The load. */
export interface VoiceLoadOptions {
  url: string;
  sessions: number;
  seconds: number;
  periodMs: number;
  /** The silence (ms) after which the server ends a turn (`eager`: 500). */
  silenceWindowMs: number;
  setupConcurrency: number;
  /** Silence streamed after the greetings before the first burst (their audio plays out). */
  leadMs: number;
  onPhase?: (phase: "talk-start" | "talk-done") => void;
}

/** What the load measured. */
export interface VoiceLoadResult {
  sessions: VoiceSessionRecord[];
  turns: VoiceTurnRecord[];
  replies: ReplyAudio[];
  /** Wall time of the talk phase (first burst → last reply), in seconds. */
  talkSeconds: number;
}
