import type { AgentConfig } from "../agents/agent-service.js";
import type { InitiationFailureReporter } from "../conversations/post-call-webhooks.js";
import type { CallRecording } from "../recording/call-recording.js";
import type { Brain } from "./brain.js";
import type { Clock } from "./clock.js";
import type { ConversationWriter } from "./conversation-recorder.js";
import type { ServerFrame } from "./server-frames.js";
import type { SessionTimings } from "./session-setup.js";
import type { WebhookToolRunner } from "./tool-runner.js";
import type { TurnStageObserver } from "./turn-stage-observer.js";
import type { SpeechProviders } from "./voice-channel.js";

/** How a session talks to its socket: the route implements it over the WebSocket. */
export interface SessionTransport {
  send(frame: ServerFrame): void;
  close(code: number, reason: string): void;
}

/**
 * What happens around a session outside it: its node's register of live sessions (crash recovery).
 * `started` comes before the conversation's first write, so no recorded conversation is ever left
 * unregistered (recovery skips a registered conversation it cannot find); `ended` after its last.
 */
export interface SessionLifecycle {
  /** The conversation is about to be recorded for the first time: from here a crash must be recovered. */
  started(conversationId: string): Promise<void>;
  /** The session's last state is written (post-call work included): nothing is left to recover. */
  ended(conversationId: string): Promise<void>;
}

/** What a session is built from. */
export interface SessionDeps {
  agent: AgentConfig;
  brain: Brain;
  writer: ConversationWriter;
  transport: SessionTransport;
  clock: Clock;
  timings?: SessionTimings;
  /** The conversation's id when it is fixed beforehand (a single-use signed URL); else a new one. */
  conversationId?: string;
  /** Called with an error the session could not report to the client (a failed write). */
  onError?: (error: unknown) => void;
  /** Told, for an info-level log line, what the session did on its own (it stopped recording a deleted conversation). */
  onNotice?: (message: string) => void;
  /** Told before the session's conversation is first recorded and after its last state is written. */
  lifecycle?: SessionLifecycle;
  /**
   * Post-call work (analysis) for a session that ended well. When given, the session records the
   * conversation `processing` and then calls it; it must leave the conversation `done` (when it
   * fails, the session marks the conversation `done` itself). Its `done` write finishes the
   * session: it queues the post-call webhooks (`expectAudio`: the recording was stored).
   */
  postCall?: (conversationId: string, options: { expectAudio: boolean }) => Promise<void>;
  /** Runs webhook tools; `callWebhookTool` unless given (tests inject one). */
  runWebhookTool?: WebhookToolRunner;
  /** Speech recognition and synthesis of voice sessions; without them the development voice. */
  speech?: SpeechProviders;
  /** Told each voice reply's latency by stage (the server's metrics). */
  turnStages?: TurnStageObserver;
  /**
   * Keeps a voice session's recording (when the agent's `privacy.record_voice` is not false): called
   * after the session's last write and before post-call work; a failure is reported to `onError`.
   */
  storeRecording?: (conversationId: string, recording: CallRecording) => Promise<void>;
  /** A session refused at its start (a refused override, a missing variable) is told to the `call_initiation_failure` webhooks. */
  initiationFailures?: InitiationFailureReporter;
}
