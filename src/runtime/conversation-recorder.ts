import type { ConversationService } from "../conversations/conversation-service.js";
import type { InitiationClientData } from "./client-frames.js";

/** The part of the one write path a recorder uses. */
export type ConversationWriter = Pick<ConversationService, "putConversation">;

/** Where a live conversation is in its life, as GET reports it. */
export type RecordedStatus = "initiated" | "in-progress" | "done" | "failed";

/** What a recorder needs to start a conversation's document. */
export interface RecordingStart {
  conversationId: string;
  agentId: string;
  startMs: number;
  textOnly: boolean;
  /** The init frame as the client sent it; recorded as `conversation_initiation_client_data`. */
  clientData: InitiationClientData;
  /** Every dynamic variable of the session, the `system__*` ones included. */
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
 * Keeps a live conversation's document and writes the whole of it through the one write path
 * after every change, in order, so GET shows the conversation as it happens: created when the
 * session starts, a transcript entry per turn, finished with its status and termination reason.
 */
export class ConversationRecorder {
  private readonly doc: Json;
  private readonly transcript: Json[] = [];
  private readonly metadata: Json;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly writer: ConversationWriter,
    private readonly start: RecordingStart,
    private readonly now: () => number,
  ) {
    this.metadata = {
      start_time_unix_secs: Math.floor(start.startMs / 1000),
      call_duration_secs: 0,
      text_only: start.textOnly,
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

  /** Writes the document as it is now (the first call creates the conversation). */
  save(): Promise<void> {
    this.metadata.call_duration_secs = this.secondsInCall();
    const body = JSON.parse(JSON.stringify(this.doc)) as Json;
    const write = this.writes.then(() =>
      this.writer.putConversation(body, { conversationId: this.start.conversationId }).then(() => undefined),
    );
    // A failed write does not stop the ones after it; the caller of this one sees the error.
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** Appends a turn; returns its index in the transcript. */
  appendTurn(role: "agent" | "user", message: string): number {
    this.transcript.push({ role, message, time_in_call_secs: this.secondsInCall() });
    if (this.doc.status === "initiated") this.doc.status = "in-progress";
    return this.transcript.length - 1;
  }

  /** Records in-call feedback on an agent turn (`like`/`dislike`, null takes it back) and the counts. */
  setTurnFeedback(index: number, score: "like" | "dislike" | null): void {
    const turn = this.transcript[index];
    if (!turn) return;
    if (score === null) delete turn.feedback;
    else turn.feedback = { score, time_in_call_secs: this.secondsInCall() };
    const scores = this.transcript.map((entry) => (entry.feedback as Json | undefined)?.score);
    const current = (this.metadata.feedback as Json | undefined) ?? {};
    this.metadata.feedback = {
      ...current,
      likes: scores.filter((s) => s === "like").length,
      dislikes: scores.filter((s) => s === "dislike").length,
    };
  }

  /** Marks the conversation finished: `done` or `failed`, with why it ended. */
  finish(status: "done" | "failed", terminationReason: string): void {
    this.doc.status = status;
    this.metadata.termination_reason = terminationReason;
  }

  /** Resolves when every write asked for so far has finished. */
  settled(): Promise<void> {
    return this.writes;
  }
}
