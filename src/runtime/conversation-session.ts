import { AgentTurn, type TurnHost, type TurnOutcome } from "./agent-turn.js";
import { type BrainContext, BrainError, type BrainTurn, END_CALL_TOOL } from "./brain.js";
import { brainContext } from "./brain-context.js";
import type { ClientEvent, InitiationClientData } from "./client-frames.js";
import { ConversationRecorder } from "./conversation-recorder.js";
import { withoutSecretVariables } from "./dynamic-variables.js";
import { PingKeeper } from "./ping-keeper.js";
import {
  agentResponseCorrectionFrame,
  CloseCode,
  errorFrame,
  fitCloseReason,
  initiationMetadataFrame,
  interruptionFrame,
  type ServerFrame,
  systemToolResponseFrame,
  userTranscriptFrame,
} from "./server-frames.js";
import { keepContextualUpdate } from "./session-bounds.js";
import type { SessionDeps } from "./session-deps.js";
import { type EndOptions, SessionEnding } from "./session-ending.js";
import {
  DEFAULT_SESSION_TIMINGS,
  newConversationId,
  prepareSession,
  type SessionSetup,
  type SessionTimings,
} from "./session-setup.js";
import { SessionLimits, SessionTimers } from "./session-timers.js";
import { ToolRunner } from "./tool-runner.js";
import type { PlaybackCut } from "./voice/playback-clock.js";
import { SpeechError } from "./voice/speech-output.js";
import { type HeardSpeech, VoiceChannel } from "./voice-channel.js";
import { callWebhookTool } from "./webhook-tool.js";

/**
 * Where a session is: waiting for the client's init frame, starting (recording it, sending the
 * metadata and first message), listening for the user, responding (an agent turn runs), or ended.
 */
export type SessionState = "awaiting_initiation" | "starting" | "listening" | "responding" | "ended";

export type { SessionDeps, SessionLifecycle, SessionTransport } from "./session-deps.js";

/** The termination reason of a session the server ended because it was stopping. */
export const SERVER_STOPPED_REASON = "The server stopped during the conversation";

/**
 * One live conversation over the agent WebSocket, by voice (`voice-channel.ts`: user audio in,
 * speech out) unless it is text only. The socket hands it typed events
 * (`handle`) and tells it when the socket closed (`transportClosed`). Events are processed one at
 * a time, in order, by `process`, the one place that decides what happens next; an agent turn
 * (`AgentTurn`) runs beside that queue, so a client's tool result reaches the turn waiting for it
 * and a new user message interrupts it. What the turn ends with is handled in the queue again.
 *
 * User activity, for `silence_end_call_timeout`: a user message (or multimodal message) and
 * `user_activity`; contextual updates, feedback and pongs come from the app, not the user, and do
 * not count. The silence clock restarts when an agent turn ends, and never ends a call while the
 * agent is answering. `turn_timeout` is a voice setting (how long the agent waits for a speaker to
 * go on) and is not applied. In voice, user speech is activity (audio bytes are not), and the
 * agent's audio still playing counts as answering.
 */
export class ConversationSession {
  state: SessionState = "awaiting_initiation";
  readonly conversationId: string;
  private readonly timings: SessionTimings;
  private readonly startMs: number;
  private queue: Promise<void> = Promise.resolve();
  private eventId = 0;
  private readonly pings: PingKeeper;
  private readonly timers: SessionTimers;
  private readonly limits: SessionLimits;
  private readonly tools: ToolRunner;
  private readonly ending: SessionEnding;
  private readonly transcript: BrainTurn[] = [];
  private readonly contextualUpdates: string[] = [];
  private turn: AgentTurn | undefined;
  /** The running turn and the handling of its outcome. */
  private turnDone: Promise<void> = Promise.resolve();
  private setup: SessionSetup | undefined;
  /** Voice sessions only (every session not `text_only`). */
  private voice: VoiceChannel | undefined;
  /** The spoken user turn the next agent turn answers (for its timings). */
  private heardSpeech: HeardSpeech | undefined;

  constructor(private readonly deps: SessionDeps) {
    this.conversationId = deps.conversationId ?? newConversationId();
    this.timings = deps.timings ?? DEFAULT_SESSION_TIMINGS;
    this.timers = new SessionTimers(deps.clock);
    this.limits = new SessionLimits(this.timers, {
      enqueue: (step) => void this.enqueue(step),
      endNormally: (reason, terminationReason, frame) =>
        this.end(CloseCode.normal, reason, { terminationReason, ...(frame ? { frame } : {}) }),
      ended: () => this.state === "ended",
      // The agent's audio still playing counts as answering: the user's silence starts after it.
      answering: () => this.turn !== undefined || this.voice?.playing() === true,
    });
    this.pings = new PingKeeper(deps.clock, this.timings.pingIntervalMs, (pingMs) => {
      const eventId = this.nextEventId();
      this.send({ type: "ping", ping_event: { event_id: eventId, ping_ms: pingMs } });
      return eventId;
    });
    this.tools = new ToolRunner({
      tools: () => this.setup?.tools ?? [],
      send: (frame) => this.send(frame),
      clock: deps.clock,
      runWebhookTool: deps.runWebhookTool ?? callWebhookTool,
      variables: () => this.setup?.variables ?? {},
    });
    this.ending = new SessionEnding(this.conversationId, deps, () => {
      this.state = "ended";
      this.timers.clearAll();
      this.pings.stop();
      this.turn?.abandon();
      this.turn = undefined;
      this.voice?.stop();
    });
    this.startMs = deps.clock.now();
    this.timers.set("initiation", this.timings.initiationTimeoutMs, () =>
      this.enqueue(async () => {
        if (this.state === "awaiting_initiation")
          await this.end(
            CloseCode.policy,
            "No conversation_initiation_client_data received: send it right after connecting",
          );
      }),
    );
  }

  /** The bytes a second of the session's user audio in real time; undefined before it started or in text. */
  get inputBytesPerSecond(): number | undefined {
    const format = this.setup?.textOnly === false ? this.setup.voice.inputFormat : undefined;
    return format ? format.sampleRate * format.bytesPerSample : undefined;
  }

  /** Queues a client event; events are processed one at a time, in arrival order. */
  handle(event: ClientEvent): Promise<void> {
    return this.enqueue(() => this.process(event));
  }

  /** Refuses a frame the edge could not parse: the session ends with 1008 and the reason. */
  refuse(reason: string): Promise<void> {
    return this.enqueue(() => this.end(CloseCode.policy, reason));
  }

  /** The server is stopping: the session ends now (close 1001), recorded `failed` with why. */
  shutdown(): Promise<void> {
    this.turn?.abandon();
    return this.enqueue(() =>
      this.end(CloseCode.goingAway, "Server shutting down: start the conversation again", {
        terminationReason: SERVER_STOPPED_REASON,
      }),
    );
  }

  /** The socket closed (by the client, or after the server closed it); records the end. */
  transportClosed(code: number, reason: string): Promise<void> {
    this.turn?.abandon();
    return this.enqueue(async () => {
      if (this.state === "ended") return;
      const why = reason ? `Client disconnected: ${code} ${reason}` : `Client disconnected: ${code}`;
      await this.ending.finish(code === 1000 || code === 1005 ? "done" : "failed", why);
    });
  }

  /**
   * Resolves when everything started so far is over: queued events, the agent turn (a turn waiting
   * for a client's tool result waits with it), writes, post-call work.
   */
  async settled(): Promise<void> {
    for (;;) {
      const { queue, turnDone } = this;
      const finished = this.ending.settled();
      await queue;
      await turnDone;
      await this.voice?.settled();
      await finished;
      await this.ending.recorder?.settled();
      if (queue === this.queue && turnDone === this.turnDone && finished === this.ending.settled()) return;
    }
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step).catch((error: unknown) => this.ending.crash(error));
    this.queue = run;
    return run;
  }

  /** Decides, from the state and the event, what happens next. */
  private async process(event: ClientEvent): Promise<void> {
    if (this.state === "ended") return;
    if (this.state === "awaiting_initiation") {
      if (event.type === "conversation_initiation_client_data") return this.start(event);
      // The orchestrator option sends its setup before the init frame; pongs may cross it.
      if (event.type === "enclave_setup_config" || event.type === "pong") return;
      return this.end(CloseCode.policy, `Send conversation_initiation_client_data first, not ${event.type}`);
    }
    switch (event.type) {
      case "conversation_initiation_client_data":
        return this.end(CloseCode.policy, "conversation_initiation_client_data was already sent");
      case "user_message":
        return this.userTurn(event.text);
      case "multimodal_message":
        return event.text?.text ? this.userTurn(event.text.text) : undefined;
      case "contextual_update":
        keepContextualUpdate(this.contextualUpdates, event.text);
        return;
      case "user_activity":
        this.armSilence();
        return;
      case "feedback":
        return this.feedback(event.score, event.event_id);
      case "client_tool_result":
        return this.clientToolResult(event.tool_call_id, event.result, event.is_error);
      case "pong": {
        this.pings.pong(event.event_id);
        return;
      }
      case "user_audio_chunk": {
        if (!this.voice)
          return this.end(
            CloseCode.policy,
            "Invalid message: this session is text only; start it without text_only to send audio",
          );
        const refused = this.voice.audio(event.user_audio_chunk);
        return refused ? this.end(CloseCode.policy, `Invalid message: ${refused}`) : undefined;
      }
      // Nothing to do: no MCP servers, no orchestrator.
      case "mcp_tool_approval_result":
      case "enclave_setup_config":
        return;
    }
  }

  private async start(init: InitiationClientData): Promise<void> {
    this.timers.clear("initiation");
    this.state = "starting";
    const { agent } = this.deps;
    const prepared = prepareSession(agent, init, {
      conversationId: this.conversationId,
      startMs: this.startMs,
    });
    if (!prepared.ok) {
      void this.deps.initiationFailures?.report({
        agentId: agent.agentId,
        conversationId: this.conversationId,
        failureReason: prepared.errorType,
        metadata: {
          type: "websocket",
          body: { close_code: CloseCode.policy, close_reason: fitCloseReason(prepared.reason) },
        },
      });
      return this.end(CloseCode.policy, prepared.reason);
    }
    const { setup } = prepared;
    this.setup = setup;
    const recorder = new ConversationRecorder(
      this.deps.writer,
      {
        conversationId: this.conversationId,
        agentId: agent.agentId,
        startMs: this.startMs,
        textOnly: setup.textOnly,
        mainLanguage: setup.language,
        clientData: init,
        // Secret variables are for tool headers only: never recorded.
        dynamicVariables: withoutSecretVariables(setup.variables),
      },
      () => this.deps.clock.now(),
      {
        onStopped: (reason) => this.deps.onNotice?.(reason),
        onError: (error) => this.deps.onError?.(error),
        setTimer: (ms, run) => this.deps.clock.setTimer(ms, run),
      },
    );
    this.ending.recorder = recorder;
    if (!setup.textOnly) this.startVoice(setup);
    // Registered first: a crash after the first write is then always recovered.
    await this.ending.started();
    await recorder.save();
    if (this.state !== "starting") return;
    this.send(
      initiationMetadataFrame(
        this.conversationId,
        setup.voice.outputFormat.name,
        setup.voice.inputFormat.name,
      ),
    );
    this.ending.metadataSent = true;
    this.pings.start();
    this.limits.startMaxDuration(setup.maxDurationSecs, this.deps.clock.now() - this.startMs);
    this.state = "listening";
    this.armSilence();
    const opening = this.deps.brain.openingMessage(this.context());
    if (!opening) return;
    await new Promise<void>((resolve) => this.deps.clock.setTimer(this.timings.greetingDelayMs, resolve));
    if (this.state !== "listening") return;
    const turn = this.newTurn();
    // Spoken, it runs beside the queue like any turn, so the user can interrupt it.
    if (this.voice) {
      this.turnDone = turn.run(opening).then((outcome) => this.enqueue(() => this.turnEnded(turn, outcome)));
      return;
    }
    // The first message calls no tools and is over at once: it is said before any event is processed.
    await this.turnEnded(turn, await turn.run(opening));
  }

  /** Builds the session's voice: audio in and out, its recording, its hooks into the queue. */
  private startVoice(setup: SessionSetup): void {
    const providers = this.deps.speech ?? {};
    this.voice = new VoiceChannel(
      setup.voice,
      providers,
      setup.language,
      {
        send: (frame) => this.send(frame),
        nowMs: () => this.deps.clock.now() - this.startMs,
        userActive: () => this.armSilence(),
        interruptTurn: () => {
          if (!this.turn?.running) return false;
          this.turn.interrupt();
          this.requireRecorder().saveSoon();
          return true;
        },
        replyCut: (eventId, cut) => this.replyCut(eventId, cut),
        heard: (text, speech) =>
          void this.enqueue(async () => {
            if (this.state === "ended") return;
            this.send(userTranscriptFrame(text, this.nextEventId()));
            await this.userTurn(text, speech);
          }),
        failed: (error) => void this.enqueue(() => this.speechFailed(error)),
      },
      this.deps.turnStages,
    );
    if (setup.voice.recordVoice) this.ending.recording = this.voice.recording;
  }

  /** A reply already sent whole was cut off while it played: the client and the record are told what was heard. */
  private replyCut(eventId: number, cut: PlaybackCut): void {
    const recorder = this.requireRecorder();
    const original = recorder.cutReply(eventId, cut.heardText);
    this.send(interruptionFrame(eventId));
    if (original === undefined) return;
    this.send(agentResponseCorrectionFrame(original, cut.heardText, eventId));
    const said = this.transcript.findLast((turn) => turn.role === "agent" && turn.message === original);
    if (said && said.role === "agent") said.message = cut.heardText;
    recorder.saveSoon();
  }

  private speechFailed(error: SpeechError): Promise<void> {
    this.deps.onError?.(error);
    return this.end(CloseCode.operational, error.message, {
      frame: errorFrame(CloseCode.operational, error.errorType, error.message),
    });
  }

  private async userTurn(text: string, speech?: HeardSpeech): Promise<void> {
    const recorder = this.requireRecorder();
    const tooLong = recorder.transcriptTooLong();
    if (tooLong) return this.end(CloseCode.policy, tooLong);
    this.armSilence();
    this.turn?.interrupt();
    // A reply still playing stops too (a typed message in a voice session).
    if (!speech) this.voice?.interruptPlayback();
    this.transcript.push({ role: "user", message: text });
    if (speech && this.voice)
      recorder.appendTurn("user", text, {
        timeInCallSecs: speech.startMs / 1000,
        fields: this.voice.userFields(speech),
      });
    else recorder.appendTurn("user", text);
    this.heardSpeech = speech;
    // Written with the agent's reply (at the latest SAVE_SOON_MS from now): the model is asked at once.
    recorder.saveSoon();
    // The agent already decided to end the call: the message is recorded, not answered.
    if (this.state === "ended" || this.turn?.endingCall) return;
    const turn = this.newTurn();
    this.turnDone = turn.run().then((outcome) => this.enqueue(() => this.turnEnded(turn, outcome)));
  }

  private newTurn(): AgentTurn {
    const host: TurnHost = {
      brain: this.deps.brain,
      context: () => this.context(),
      transcript: this.transcript,
      recorder: this.requireRecorder(),
      tools: this.tools,
      send: (frame) => this.send(frame),
      nextEventId: () => this.nextEventId(),
      ...(this.voice ? { speech: this.voice.turnSpeech(this.heardSpeech) } : {}),
    };
    this.heardSpeech = undefined;
    this.turn = new AgentTurn(host);
    this.state = "responding";
    return this.turn;
  }

  /** Acts on how an agent turn ended (in the queue, like every event). */
  private async turnEnded(turn: AgentTurn, outcome: TurnOutcome): Promise<void> {
    if (this.state === "ended") return;
    if (this.turn === turn) {
      this.turn = undefined;
      this.state = "listening";
      this.armSilence();
    }
    // A turn that ended the call or failed ends the session even when a newer turn runs.
    switch (outcome.kind) {
      case "done":
      case "cancelled":
        return;
      case "end_call":
        // Recorded first: the official client hangs up as soon as it sees the end_call result.
        return this.end(CloseCode.normal, "Agent ended the call", {
          terminationReason: "end_call tool was called.",
          frame: systemToolResponseFrame(END_CALL_TOOL, outcome.eventId, outcome.call.toolCallId),
        });
      case "failed":
        if (outcome.error instanceof SpeechError) return this.speechFailed(outcome.error);
        if (!(outcome.error instanceof BrainError)) throw outcome.error;
        return this.end(CloseCode.operational, `The model failed: ${outcome.error.message}`, {
          frame: errorFrame(CloseCode.operational, outcome.error.errorType, outcome.error.message),
        });
    }
  }

  private armSilence(): void {
    this.limits.armSilence(this.setup?.silenceEndCallTimeoutSecs);
  }

  /**
   * A client's tool result: handed to the call waiting for it. One nobody waits for any more (the
   * official client's automatic answer to a tool that expects none, an answer after the timeout or
   * an interruption) is dropped: its call already has a recorded result, and a second result with
   * the same request_id would only confuse readers.
   */
  private async clientToolResult(toolCallId: string, result: unknown, isError: unknown): Promise<void> {
    const text = typeof result === "string" ? result : JSON.stringify(result ?? "");
    this.tools.clientResult(toolCallId, text, isError === true);
  }

  private async feedback(score: "like" | "dislike" | null, eventId: number | undefined): Promise<void> {
    const recorder = this.ending.recorder;
    if (recorder?.setFeedback(eventId, score)) await recorder.save();
  }

  private end(code: CloseCode, reason: string, options?: EndOptions): Promise<void> {
    return this.ending.end(code, reason, options);
  }

  private context(): BrainContext {
    const ids = { conversationId: this.conversationId, agentId: this.deps.agent.agentId };
    return brainContext(ids, this.setup, this.transcript, this.contextualUpdates);
  }

  private requireRecorder(): ConversationRecorder {
    if (!this.ending.recorder) throw new Error("The session has not started");
    return this.ending.recorder;
  }

  private nextEventId(): number {
    this.eventId += 1;
    return this.eventId;
  }

  private send(frame: ServerFrame): void {
    if (this.state !== "ended") this.deps.transport.send(frame);
  }
}
