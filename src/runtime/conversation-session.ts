import type { AgentConfig } from "../agents/agent-service.js";
import { type Brain, type BrainContext, type BrainOutput, type BrainTurn, END_CALL_TOOL } from "./brain.js";
import type { ClientEvent, InitiationClientData } from "./client-frames.js";
import type { Clock } from "./clock.js";
import { ConversationRecorder, type ConversationWriter } from "./conversation-recorder.js";
import { PingKeeper } from "./ping-keeper.js";
import {
  CloseCode,
  fitCloseReason,
  initiationMetadataFrame,
  type ServerFrame,
  systemToolResponseFrame,
} from "./server-frames.js";
import {
  DEFAULT_SESSION_TIMINGS,
  newConversationId,
  prepareSession,
  type SessionSetup,
  type SessionTimings,
} from "./session-setup.js";

/**
 * Where a session is: waiting for the client's init frame, starting (recording it, sending the
 * metadata and first message), listening for the user, responding, or ended.
 */
export type SessionState = "awaiting_initiation" | "starting" | "listening" | "responding" | "ended";

/** How a session talks to its socket: the route implements it over the WebSocket. */
export interface SessionTransport {
  send(frame: ServerFrame): void;
  close(code: number, reason: string): void;
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
  /** Told when the session's conversation is first recorded and when its last state is written. */
  lifecycle?: SessionLifecycle;
  /**
   * Post-call work (analysis) for a session that ended well. When given, the session records the
   * conversation `processing` and then calls it; it must leave the conversation `done`.
   */
  postCall?: (conversationId: string) => Promise<void>;
}

/** What happens around a session outside it: its node's register of live sessions (crash recovery). */
export interface SessionLifecycle {
  /** The conversation has been recorded for the first time: from here a crash must be recovered. */
  started(conversationId: string): Promise<void>;
  /** The session's last state is written (post-call work included): nothing is left to recover. */
  ended(conversationId: string): Promise<void>;
}

/**
 * One live conversation over the agent WebSocket, text only. The socket hands it typed events
 * (`handle`) and tells it when the socket closed (`transportClosed`); events are processed one at
 * a time, in order, and `process` is the one place that decides what the server sends next.
 */
export class ConversationSession {
  state: SessionState = "awaiting_initiation";
  readonly conversationId: string;
  private readonly timings: SessionTimings;
  private readonly startMs: number;
  private queue: Promise<void> = Promise.resolve();
  private recorder: ConversationRecorder | undefined;
  private eventId = 0;
  private readonly pings: PingKeeper;
  private cancelTimer: (() => void) | undefined;
  private readonly transcript: BrainTurn[] = [];
  private readonly contextualUpdates: string[] = [];
  /** The transcript index of each agent turn, by its event id (for feedback). */
  private readonly agentTurns = new Map<number, number>();
  private lastAgentEventId: number | undefined;
  private setup: SessionSetup = {
    firstMessage: "",
    prompt: "",
    variables: {},
    textOnly: true,
    language: "en",
    tools: [],
    maxDurationSecs: 600,
    silenceEndCallTimeoutSecs: undefined,
    turnTimeoutSecs: 7,
  };
  private readonly abort = new AbortController();

  constructor(private readonly deps: SessionDeps) {
    this.conversationId = deps.conversationId ?? newConversationId();
    this.timings = deps.timings ?? DEFAULT_SESSION_TIMINGS;
    this.pings = new PingKeeper(deps.clock, this.timings.pingIntervalMs, (pingMs) => {
      const eventId = this.nextEventId();
      this.send({ type: "ping", ping_event: { event_id: eventId, ping_ms: pingMs } });
      return eventId;
    });
    this.startMs = deps.clock.now();
    this.cancelTimer = deps.clock.setTimer(this.timings.initiationTimeoutMs, () =>
      this.enqueue(() =>
        this.state === "awaiting_initiation"
          ? this.end(
              CloseCode.policy,
              "No conversation_initiation_client_data received: send it right after connecting",
            )
          : Promise.resolve(),
      ),
    );
  }

  /** Queues a client event; events are processed one at a time, in arrival order. */
  handle(event: ClientEvent): Promise<void> {
    return this.enqueue(() => this.process(event));
  }

  /** Refuses a frame the edge could not parse: the session ends with 1008 and the reason. */
  refuse(reason: string): Promise<void> {
    return this.enqueue(() => this.end(CloseCode.policy, reason));
  }

  /** The socket closed (by the client, or after the server closed it); records the end. */
  transportClosed(code: number, reason: string): Promise<void> {
    this.abort.abort();
    return this.enqueue(async () => {
      if (this.state === "ended") return;
      const why = reason ? `Client disconnected: ${code} ${reason}` : `Client disconnected: ${code}`;
      await this.finish(code === 1000 || code === 1005 ? "done" : "failed", why);
    });
  }

  /** Resolves when everything queued so far has been processed and written. */
  async settled(): Promise<void> {
    await this.queue;
    await this.recorder?.settled();
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step).catch((error: unknown) => this.crash(error));
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
        this.contextualUpdates.push(event.text);
        return;
      case "feedback":
        return this.feedback(event.score, event.event_id);
      case "pong": {
        this.pings.pong(event.event_id);
        return;
      }
      case "user_audio_chunk":
        return this.end(
          CloseCode.policy,
          "Voice is not supported yet: start the session with textOnly: true",
        );
      // Nothing to do yet: no inactivity timer, no client tools, no MCP servers.
      case "user_activity":
      case "client_tool_result":
      case "mcp_tool_approval_result":
      case "enclave_setup_config":
        return;
    }
  }

  private async start(init: InitiationClientData): Promise<void> {
    this.stopTimers();
    this.state = "starting";
    const { agent } = this.deps;
    const prepared = prepareSession(agent, init, {
      conversationId: this.conversationId,
      startMs: this.startMs,
    });
    if (!prepared.ok) return this.end(CloseCode.policy, prepared.reason);
    const { setup } = prepared;
    this.setup = setup;
    this.recorder = new ConversationRecorder(
      this.deps.writer,
      {
        conversationId: this.conversationId,
        agentId: agent.agentId,
        startMs: this.startMs,
        textOnly: setup.textOnly,
        clientData: init,
        dynamicVariables: this.setup.variables,
      },
      () => this.deps.clock.now(),
    );
    await this.recorder.save();
    this.send(initiationMetadataFrame(this.conversationId));
    this.pings.start();
    this.state = "listening";
    const opening = this.deps.brain.openingMessage(this.context());
    if (!opening) return;
    await new Promise<void>((resolve) => this.deps.clock.setTimer(this.timings.greetingDelayMs, resolve));
    await this.agentTurn([{ type: "text", text: opening }]);
  }

  private async userTurn(text: string): Promise<void> {
    const recorder = this.requireRecorder();
    this.transcript.push({ role: "user", message: text });
    recorder.appendTurn("user", text);
    await recorder.save();
    this.state = "responding";
    await this.agentTurn(this.deps.brain.respond(this.context(), this.abort.signal));
    if (this.state === "responding") this.state = "listening";
  }

  /** Streams one agent turn (start, deltas, stop, then agent_response) and runs its tool calls. */
  private async agentTurn(outputs: AsyncIterable<BrainOutput> | Iterable<BrainOutput>): Promise<void> {
    const eventId = this.nextEventId();
    let text = "";
    let started = false;
    let endCall = false;
    for await (const output of outputs) {
      if (this.state === "ended") return;
      if (output.type === "tool_call") {
        if (output.toolName === END_CALL_TOOL) endCall = true;
        continue;
      }
      if (output.type !== "text") continue;
      if (!started) this.sendPart("", "start", eventId);
      started = true;
      text += output.text;
      this.sendPart(output.text, "delta", eventId);
    }
    if (started) {
      this.sendPart("", "stop", eventId);
      const recorder = this.requireRecorder();
      this.transcript.push({ role: "agent", message: text });
      this.agentTurns.set(eventId, recorder.appendTurn("agent", text));
      this.lastAgentEventId = eventId;
      await recorder.save();
      this.send({
        type: "agent_response",
        agent_response_event: { agent_response: text, event_id: eventId },
      });
    }
    if (endCall) await this.endCall();
  }

  /** Records the end first: the official client hangs up as soon as it sees the end_call result. */
  private async endCall(): Promise<void> {
    const eventId = this.nextEventId();
    if (this.recorder) {
      this.recorder.finish("done", "end_call tool was called.");
      await this.recorder.save();
    }
    this.send(systemToolResponseFrame(END_CALL_TOOL, eventId));
    this.state = "ended";
    this.stopTimers();
    this.deps.transport.close(CloseCode.normal, "Agent ended the call");
  }

  private async feedback(score: "like" | "dislike" | null, eventId: number | undefined): Promise<void> {
    const index = this.agentTurns.get(eventId ?? this.lastAgentEventId ?? -1);
    if (index === undefined || !this.recorder) return;
    this.recorder.setTurnFeedback(index, score);
    await this.recorder.save();
  }

  /** Ends the session: records why, then closes the socket with the code and reason. */
  private async end(code: CloseCode, reason: string, terminationReason = reason): Promise<void> {
    if (this.state === "ended") return;
    const failed = code !== CloseCode.normal;
    await this.finish(failed ? "failed" : "done", terminationReason);
    this.deps.transport.close(code, fitCloseReason(reason));
  }

  private async finish(status: "done" | "failed", terminationReason: string): Promise<void> {
    this.state = "ended";
    this.stopTimers();
    this.abort.abort();
    if (!this.recorder) return;
    this.recorder.finish(status, terminationReason);
    await this.recorder.save();
  }

  private async crash(error: unknown): Promise<void> {
    this.deps.onError?.(error);
    if (this.state === "ended") return;
    this.state = "ended";
    this.stopTimers();
    this.deps.transport.close(CloseCode.internal, "Internal error: the conversation could not continue");
  }

  private stopTimers(): void {
    this.cancelTimer?.();
    this.pings.stop();
  }

  private context(): BrainContext {
    return {
      conversationId: this.conversationId,
      agentId: this.deps.agent.agentId,
      firstMessage: this.setup.firstMessage,
      prompt: this.setup.prompt,
      tools: [],
      dynamicVariables: this.setup.variables,
      transcript: this.transcript,
      contextualUpdates: this.contextualUpdates,
    };
  }

  private requireRecorder(): ConversationRecorder {
    if (!this.recorder) throw new Error("The session has not started");
    return this.recorder;
  }

  private sendPart(text: string, type: "start" | "delta" | "stop", eventId: number): void {
    this.send({ type: "agent_chat_response_part", text_response_part: { text, type, event_id: eventId } });
  }

  private nextEventId(): number {
    this.eventId += 1;
    return this.eventId;
  }

  private send(frame: ServerFrame): void {
    if (this.state !== "ended") this.deps.transport.send(frame);
  }
}
