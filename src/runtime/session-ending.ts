import type { CallRecording } from "../recording/call-recording.js";
import type { ConversationRecorder } from "./conversation-recorder.js";
import { CloseCode, errorFrame, fitCloseReason, type ServerFrame } from "./server-frames.js";
import type { SessionDeps } from "./session-deps.js";

/** How a session ends: the close code and reason, what the record says, a last frame before the close. */
export interface EndOptions {
  /** The recorded `termination_reason`; the close reason when not given. */
  terminationReason?: string;
  /** Sent right before the close (after the session started, a failure sends an `error` event when none is given). */
  frame?: ServerFrame;
}

/**
 * How a session ends, in one place: it stops (`stop`: timers, the running turn), records the end
 * as its last write (`done`, `failed`, or `processing` when post-call work follows), sends the
 * last frame and closes the socket; then, in the background, the post-call work and the
 * lifecycle's `ended`, in that order, so nothing the session writes comes after the post-call
 * work's own write. Post-call work that fails leaves the conversation `processing`: the session
 * then marks it `done` itself, and stays registered (for recovery) only when that fails too.
 */
export class SessionEnding {
  /** The session has ended (or is ending): nothing starts it again. */
  ended = false;
  /** The metadata went out: from here a failure is also told in an `error` event. */
  metadataSent = false;
  /** The session's record, once it started. */
  recorder: ConversationRecorder | undefined;
  /** A voice session's recording, to be stored after the last write (none when not recorded). */
  recording: CallRecording | undefined;
  private lifecycleStarted = false;
  private after: Promise<void> = Promise.resolve();

  constructor(
    private readonly conversationId: string,
    private readonly deps: Pick<
      SessionDeps,
      "lifecycle" | "postCall" | "onError" | "transport" | "writer" | "storeRecording"
    >,
    private readonly stop: () => void,
  ) {}

  /** The conversation is about to be recorded for the first time: tells the lifecycle. */
  async started(): Promise<void> {
    if (!this.deps.lifecycle) return;
    await this.deps.lifecycle.started(this.conversationId);
    this.lifecycleStarted = true;
  }

  /** Ends the session with a close `code` and `reason`: records it, sends the last frame, closes. */
  async end(code: CloseCode, reason: string, options: EndOptions = {}): Promise<void> {
    if (this.ended) return;
    const failed = code !== CloseCode.normal;
    const frame =
      options.frame ??
      (failed && this.metadataSent && code !== CloseCode.goingAway
        ? errorFrame(code, "invalid_message", reason)
        : undefined);
    try {
      await this.finish(
        failed ? "failed" : "done",
        options.terminationReason ?? reason,
        failed ? code : undefined,
      );
    } finally {
      if (frame) this.deps.transport.send(frame);
      this.deps.transport.close(code, fitCloseReason(reason));
    }
  }

  /**
   * Stops the session and records its end; resolves when that last write is done (rejects when it
   * failed). A failed last write skips the post-call work and the lifecycle's `ended`: the
   * conversation stays registered, for recovery to mark it failed.
   */
  async finish(status: "done" | "failed", terminationReason: string, errorCode?: number): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.stop();
    const recorder = this.recorder;
    if (!recorder) return;
    const recording = this.recording;
    const recorded =
      recording !== undefined &&
      (recording.hasUser || recording.hasAgent) &&
      this.deps.storeRecording !== undefined;
    // A session that ended well stays `processing` while its post-call work runs (the analysis, or
    // without one the storing of its recording), so that its `done` write, which queues the
    // post-call webhooks, comes with its audio.
    const postCall =
      status === "done"
        ? (this.deps.postCall ??
          (recorded
            ? (_id: string, options: { expectAudio: boolean }) => this.markDone(options.expectAudio)
            : undefined))
        : undefined;
    const error = errorCode === undefined ? undefined : { code: errorCode, reason: terminationReason };
    recorder.finish(postCall ? "processing" : status, terminationReason, error, { expectAudio: recorded });
    const written = recorder.save();
    this.after = this.afterLastWrite(written, postCall);
    await written;
  }

  /** Something unexpected happened: reported, recorded as failed if it can be, told to the client, closed 1011. */
  async crash(error: unknown): Promise<void> {
    this.deps.onError?.(error);
    if (this.ended) return;
    const reason = "Internal error: the conversation could not continue";
    await this.finish("failed", reason, CloseCode.internal).catch((failure: unknown) =>
      this.deps.onError?.(failure),
    );
    if (this.metadataSent)
      this.deps.transport.send(errorFrame(CloseCode.internal, "unknown_websocket_crash", reason));
    this.deps.transport.close(CloseCode.internal, reason);
  }

  /** Resolves when the post-call work and the lifecycle's `ended` are over. */
  settled(): Promise<void> {
    return this.after;
  }

  private async afterLastWrite(written: Promise<void>, postCall: SessionDeps["postCall"]): Promise<void> {
    try {
      await written;
    } catch {
      return;
    }
    const report = (error: unknown) => this.deps.onError?.(error);
    // A conversation deleted during the call has nothing left to analyse or recover.
    const deleted = this.recorder?.deleted === true;
    const recording = this.recording;
    let expectAudio = false;
    if (recording && !deleted && (recording.hasUser || recording.hasAgent) && this.deps.storeRecording) {
      expectAudio = await this.deps.storeRecording(this.conversationId, recording).then(
        () => true,
        (error: unknown) => {
          report(error);
          return false;
        },
      );
    }
    if (postCall && !deleted && !(await this.runPostCall(postCall, expectAudio))) return;
    if (this.lifecycleStarted) await this.deps.lifecycle?.ended(this.conversationId).catch(report);
  }

  /**
   * Runs the post-call work; when it fails, marks the conversation `done` itself (it was recorded
   * `processing`). False when the conversation may still be `processing`: it then stays
   * registered, and recovery at the next start finishes it.
   */
  private async runPostCall(
    postCall: NonNullable<SessionDeps["postCall"]>,
    expectAudio: boolean,
  ): Promise<boolean> {
    try {
      await postCall(this.conversationId, { expectAudio });
      return true;
    } catch (error) {
      this.deps.onError?.(error);
    }
    try {
      await this.markDone(expectAudio);
      return true;
    } catch (error) {
      this.deps.onError?.(error);
      return false;
    }
  }

  /** The `done` write of a conversation recorded `processing`: it queues the post-call webhooks. */
  private async markDone(expectAudio: boolean): Promise<void> {
    await this.deps.writer.changeConversation(
      this.conversationId,
      (current) => (current.status === "processing" ? { ...current, status: "done" } : current),
      // Only a conversation still `processing` is finished here (the analysis may have done it).
      {
        finishesLiveSession: {
          agentId: this.recorder?.agentId ?? null,
          expectAudio,
          onlyFrom: ["processing"],
        },
      },
    );
  }
}
