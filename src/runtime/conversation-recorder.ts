import type { ConversationService, WriteOptions } from "../conversations/conversation-service.js";
import { InvalidInputError, NotFoundError } from "../domain/errors.js";
import type { BrainUsage } from "./brain.js";
import type { InitiationClientData } from "./client-frames.js";
import { endRecorded, mergeRecorded } from "./recorded-document.js";
import { transcriptTooLong } from "./session-bounds.js";
import { addUsage, type ModelUsage, recordedToolResult, type ToolCallResult } from "./transcript-entries.js";

/** The part of the one write path a recorder uses: the first write creates, later ones change. */
export type ConversationWriter = Pick<ConversationService, "putConversation" | "changeConversation">;

/** What a recorder tells its session about, beside the errors its writes reject with. */
export interface RecorderHooks {
  /** The recorder stopped writing (the conversation was deleted mid-call); for an info-level log line. */
  onStopped?: (reason: string) => void;
  /** An error the recorder got over on its own (a last write that had to fall back to the status only). */
  onError?: (error: unknown) => void;
  /** Runs `run` after `ms` (the session's clock); `saveSoon` writes at once without it. */
  setTimer?: (ms: number, run: () => void) => () => void;
}

/**
 * How long a change that need not be on the record at once (a user's message) may wait: it is
 * written with the next change that must be (the agent's reply), so a turn costs one write, and
 * no write stands between a user's message and the model's first words.
 */
export const SAVE_SOON_MS = 50;

/** Where a live conversation is in its life, as GET reports it. */
export type RecordedStatus = "initiated" | "in-progress" | "processing" | "done" | "failed";

/** An agent entry of the transcript: its text (null when it only called tools or reports results), tools and tokens. */
export interface AgentEntry {
  message: string | null;
  /** `tool_calls` items (see `recordedToolCall`). */
  toolCalls?: Record<string, unknown>[];
  /** `tool_results` items (see `recordedToolResult`). */
  toolResults?: Record<string, unknown>[];
  /** The tokens of the response that produced the entry. */
  usage?: ModelUsage;
  /** The event id the client knows the response by (in-call feedback names it). */
  eventId?: number;
  /** The user interrupted the turn: `message` is what the client received, `originalMessage` what the model said. */
  interrupted?: boolean;
  originalMessage?: string;
  /** A voice reply's timings (`conversation_turn_metrics`), see voice-channel.ts. */
  turnMetrics?: Json;
}

/** What a recorder needs to start a conversation's document. */
export interface RecordingStart {
  conversationId: string;
  agentId: string;
  startMs: number;
  textOnly: boolean;
  /** The conversation's language, recorded as `metadata.main_language`. */
  mainLanguage: string;
  /** The init frame as the client sent it; recorded as `conversation_initiation_client_data`. */
  clientData: InitiationClientData;
  /** The session's dynamic variables as recorded: the `system__*` ones included, never `secret__*` ones. */
  dynamicVariables: Record<string, string>;
}

type Json = Record<string, unknown>;

/** The client data as the document records it: upstream's ConversationInitiationClientData keys. */
function recordedClientData(data: InitiationClientData, variables: Record<string, string>): Json {
  const out: Json = { dynamic_variables: variables };
  if (data.conversation_config_override) out.conversation_config_override = data.conversation_config_override;
  if (data.custom_llm_extra_body) out.custom_llm_extra_body = data.custom_llm_extra_body;
  if (typeof data.user_id === "string") out.user_id = data.user_id;
  const source = data.source_info;
  if (source && typeof source.source === "string")
    out.source_info = {
      source: source.source,
      ...(typeof source.version === "string" ? { version: source.version } : {}),
    };
  return out;
}

/**
 * Keeps a live conversation's document and writes it through the one write path after every
 * change, in order, so GET shows the conversation as it happens: created when the session starts,
 * a transcript entry per turn, finished with its status and termination reason.
 *
 * The first write creates the document (`putConversation`); later ones change the stored one
 * (`changeConversation`), setting only what the recorder owns, so what other writers store
 * mid-call (feedback, tags, an analysis run) is kept. A conversation deleted mid-call stays
 * deleted: the recorder stops writing and the session goes on unrecorded. When the last write is
 * refused as invalid, the recorder falls back to writing the end alone (status and termination
 * reason), so the conversation never stays in progress.
 */
export class ConversationRecorder {
  private readonly doc: Json;
  private readonly transcript: Json[] = [];
  private readonly metadata: Json;
  private writes: Promise<void> = Promise.resolve();
  /** A write asked for and not started yet: later saves join it (it writes the state it starts with). */
  private queued: Promise<void> | undefined;
  /** Cancels the timer of a `saveSoon` not written yet. */
  private soon: (() => void) | undefined;
  /** The transcript index of each agent response, by its event id, and the latest one's id (for feedback). */
  private readonly responses = new Map<number, number>();
  private lastResponseEventId: number | undefined;
  /** Tokens of every response the model started, and of those that were not interrupted. */
  private readonly initiatedUsage: ModelUsage = {};
  private readonly completedUsage: ModelUsage = {};
  /** `finish` was called: the next write is the last one. */
  private finished = false;
  /** The last write finishes the session (`done` or `failed`): it queues the post-call webhooks. */
  private finishing: WriteOptions["finishesLiveSession"];
  /** The last write is under way: the document is never written again. */
  private sealed = false;
  /** The first write succeeded: later writes change the stored document. */
  private created = false;
  /** The conversation was deleted mid-call: nothing is written any more. */
  private stopped = false;
  /** The transcript's length as JSON (about), for the session's bound. */
  private transcriptLength = 0;

  constructor(
    private readonly writer: ConversationWriter,
    private readonly start: RecordingStart,
    private readonly now: () => number,
    private readonly hooks: RecorderHooks = {},
  ) {
    this.metadata = {
      start_time_unix_secs: Math.floor(start.startMs / 1000),
      call_duration_secs: 0,
      text_only: start.textOnly,
      main_language: start.mainLanguage,
    };
    this.doc = {
      agent_id: start.agentId,
      conversation_id: start.conversationId,
      status: "initiated",
      transcript: this.transcript,
      metadata: this.metadata,
      conversation_initiation_client_data: recordedClientData(start.clientData, start.dynamicVariables),
    };
    if (typeof start.clientData.user_id === "string") this.doc.user_id = start.clientData.user_id;
  }

  /** Seconds since the session started, as transcript entries and the duration count them. */
  secondsInCall(): number {
    return Math.max(0, Math.floor((this.now() - this.start.startMs) / 1000));
  }

  /**
   * Writes the document as it is now (the first call creates the conversation). After `finish`,
   * the next call is the last write: later ones only wait for the writes before them, so nothing
   * the session does after its end can overwrite what comes next (post-call analysis).
   */
  save(): Promise<void> {
    this.soon?.();
    this.soon = undefined;
    if (this.sealed || this.stopped) return this.writes;
    if (this.queued) return this.queued;
    const write = this.writes.then(() => {
      this.queued = undefined;
      // Every change asked for until now is in the write. The document is not copied: the write
      // path serializes it synchronously inside its transaction, so what it stores is the state
      // at that moment, which is this one or newer (never a half-made change: the session changes
      // the document only synchronously).
      const last = this.finished;
      if (last) this.sealed = true;
      this.metadata.call_duration_secs = this.secondsInCall();
      return this.write(this.doc, last);
    });
    this.queued = write;
    // A failed write does not stop the ones after it; the caller of this one sees the error.
    this.writes = write.catch(() => undefined);
    return write;
  }

  /**
   * Asks for a write within SAVE_SOON_MS, joined with any `save` before then; a failure is reported
   * to `onError` (the next write carries the whole state again).
   */
  saveSoon(): void {
    if (this.sealed || this.stopped || this.soon) return;
    const write = () => {
      this.soon = undefined;
      this.save().catch((error: unknown) => this.hooks.onError?.(error));
    };
    if (this.hooks.setTimer) this.soon = this.hooks.setTimer(SAVE_SOON_MS, write);
    else write();
  }

  /** The conversation's agent. */
  get agentId(): string {
    return this.start.agentId;
  }

  /** Whether the conversation was deleted mid-call, so the recorder stopped writing it. */
  get deleted(): boolean {
    return this.stopped;
  }

  /** Why the transcript is too long to go on (see session-bounds.ts); undefined while it is not. */
  transcriptTooLong(): string | undefined {
    return transcriptTooLong(this.transcript.length, this.transcriptLength);
  }

  private async write(body: Json, last: boolean): Promise<void> {
    if (this.stopped) return;
    const conversationId = this.start.conversationId;
    // Only the last write indexes the transcript for text search (see WriteOptions.deferSearchText).
    const deferSearchText = !last;
    const finishesLiveSession = last ? this.finishing : undefined;
    if (!this.created) {
      await this.writer.putConversation(body, { conversationId, deferSearchText, finishesLiveSession });
      this.created = true;
      return;
    }
    try {
      await this.writer.changeConversation(conversationId, (current) => mergeRecorded(current, body), {
        deferSearchText,
        finishesLiveSession,
      });
    } catch (error) {
      if (error instanceof NotFoundError) {
        this.stopped = true;
        this.hooks.onStopped?.(
          `Conversation ${conversationId} was deleted during the call: the session goes on unrecorded`,
        );
        return;
      }
      if (!(last && error instanceof InvalidInputError)) throw error;
      await this.writer.changeConversation(conversationId, (current) => endRecorded(current, body), {
        finishesLiveSession,
      });
      this.hooks.onError?.(error);
    }
  }

  /**
   * Appends a turn; returns its index in the transcript. A spoken turn gives its own time in the
   * call (when the speech began) and extra fields (`source_medium`, `conversation_turn_metrics`).
   */
  appendTurn(
    role: "agent" | "user",
    message: string,
    spoken?: { timeInCallSecs: number; fields: Json },
  ): number {
    const time = spoken ? Math.max(0, Math.floor(spoken.timeInCallSecs)) : this.secondsInCall();
    return this.append({ role, message, time_in_call_secs: time, ...spoken?.fields });
  }

  /**
   * A voice reply already recorded whole was cut off while it played: its entry keeps what was
   * heard as `message`, the whole reply as `original_message`, and is marked `interrupted`.
   * Returns the whole reply, or undefined when no such entry (or it was already cut).
   */
  cutReply(eventId: number, heard: string): string | undefined {
    const index = this.responses.get(eventId);
    const entry = index === undefined ? undefined : this.transcript[index];
    if (!entry || entry.interrupted === true || typeof entry.message !== "string") return undefined;
    const original = entry.message;
    entry.message = heard;
    entry.original_message = original;
    entry.interrupted = true;
    return original;
  }

  /** Appends an agent entry: text, tool calls, tool results, tokens; returns its index. */
  appendAgentEntry(entry: AgentEntry): number {
    const recorded: Json = { role: "agent", message: entry.message, time_in_call_secs: this.secondsInCall() };
    if (entry.toolCalls?.length) recorded.tool_calls = entry.toolCalls;
    if (entry.toolResults?.length) recorded.tool_results = entry.toolResults;
    if (entry.usage && Object.keys(entry.usage).length > 0) recorded.llm_usage = { model_usage: entry.usage };
    if (entry.interrupted) recorded.interrupted = true;
    if (entry.originalMessage !== undefined) recorded.original_message = entry.originalMessage;
    if (entry.turnMetrics) recorded.conversation_turn_metrics = entry.turnMetrics;
    const index = this.append(recorded);
    if (entry.eventId !== undefined) {
      this.responses.set(entry.eventId, index);
      this.lastResponseEventId = entry.eventId;
    }
    return index;
  }

  /** Appends an agent entry that reports tool results (upstream records them apart from the calls). */
  appendToolResults(results: readonly ToolCallResult[]): number {
    return this.appendAgentEntry({ message: null, toolResults: results.map(recordedToolResult) });
  }

  /**
   * Counts one response's tokens in `metadata.charging.llm_usage`: every response under
   * `initiated_generation`, those that ran to their end also under `irreversible_generation`.
   */
  addUsage(usage: BrainUsage, completed: boolean): void {
    addUsage(this.initiatedUsage, usage);
    if (completed) addUsage(this.completedUsage, usage);
    this.metadata.charging = {
      llm_usage: {
        initiated_generation: { model_usage: this.initiatedUsage },
        irreversible_generation: { model_usage: this.completedUsage },
      },
    };
  }

  private append(entry: Json): number {
    this.transcript.push(entry);
    this.transcriptLength += JSON.stringify(entry).length + 1;
    if (this.doc.status === "initiated") this.doc.status = "in-progress";
    return this.transcript.length - 1;
  }

  /**
   * Records in-call feedback (`like`/`dislike`, null takes it back) on the agent response the
   * client names by event id (the latest one when it names none), and the counts. False when no
   * recorded response has that id.
   */
  setFeedback(eventId: number | undefined, score: "like" | "dislike" | null): boolean {
    const index = this.responses.get(eventId ?? this.lastResponseEventId ?? -1);
    const turn = index === undefined ? undefined : this.transcript[index];
    if (!turn) return false;
    if (score === null) delete turn.feedback;
    else turn.feedback = { score, time_in_call_secs: this.secondsInCall() };
    const scores = this.transcript.map((entry) => (entry.feedback as Json | undefined)?.score);
    const current = (this.metadata.feedback as Json | undefined) ?? {};
    this.metadata.feedback = {
      ...current,
      likes: scores.filter((s) => s === "like").length,
      dislikes: scores.filter((s) => s === "dislike").length,
    };
    return true;
  }

  /**
   * Marks the conversation finished, with why it ended (and the error it ended with): `done`,
   * `failed`, or `processing` when post-call work will finish it. The next `save` is the last write;
   * unless `processing`, it queues the conversation's post-call webhooks (with the audio webhook
   * when `expectAudio`: a recording is about to be stored).
   */
  finish(
    status: "done" | "failed" | "processing",
    terminationReason: string,
    error?: { code: number; reason: string },
    options: { expectAudio?: boolean } = {},
  ): void {
    this.doc.status = status;
    if (status !== "processing") {
      this.finishing = { agentId: this.start.agentId, expectAudio: options.expectAudio === true };
    }
    this.metadata.termination_reason = terminationReason;
    if (error) this.metadata.error = error;
    this.finished = true;
  }

  /** Resolves when every write asked for so far has finished. */
  settled(): Promise<void> {
    if (this.soon) this.save().catch(() => undefined);
    return this.writes;
  }
}
