import {
  type AgentTool,
  type Brain,
  type BrainContext,
  type BrainOutput,
  type BrainToolCall,
  type BrainTurn,
  type BrainUsage,
  END_CALL_TOOL,
} from "./brain.js";
import type { ConversationRecorder } from "./conversation-recorder.js";
import {
  agentResponseCorrectionFrame,
  agentResponseFrame,
  interruptionFrame,
  responsePartFrame,
  type ServerFrame,
} from "./server-frames.js";
import type { ToolRunner } from "./tool-runner.js";
import { addUsage, type ModelUsage, recordedToolCall, type ToolCallResult } from "./transcript-entries.js";

/** How many times one agent turn asks the model (each tool round asks again) before it stops. */
export const MAX_TOOL_ROUNDS = 8;

/** What the model is told about tool calls it made in its last allowed round. */
export const TOO_MANY_TOOL_ROUNDS = `Not run: this turn already used tools in ${MAX_TOOL_ROUNDS} responses in a row. Answer the user without tools.`;

/** What the model is told about a tool call the user interrupted. */
export const INTERRUPTED_TOOL_CALL = "Not finished: the user interrupted the turn.";

/** The `end_call` system tool when the agent's tool list lacks it (the session always honours it). */
const END_CALL: AgentTool = {
  kind: "system",
  name: END_CALL_TOOL,
  description: "Ends the call.",
  parameters: { type: "object", properties: {} },
  expectsResponse: false,
  responseTimeoutSecs: 0,
  config: {},
};

/** Resolves once the event loop has gone round: what the current tick queued (its frames) is out. */
function nextTurnOfEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * How a voice session speaks a turn's replies: each response's text as it streams (`text`), spoken
 * sentence by sentence; `finish` resolves once all its audio is sent (it throws when the speech
 * provider failed). Absent in text sessions.
 */
export interface TurnSpeech {
  begin(eventId: number): void;
  text(delta: string): void;
  finish(): Promise<void>;
  /** The user interrupted: stops the audio now and returns the part of `sent` that was heard. */
  cut(sent: string): string;
  /** The timings of the reply for its transcript entry (`conversation_turn_metrics`), if any. */
  metrics(): Record<string, unknown> | undefined;
}

/** What an agent turn needs from its session. */
export interface TurnHost {
  brain: Brain;
  context(): BrainContext;
  /** The brain's transcript, appended to as the turn goes. */
  transcript: BrainTurn[];
  recorder: ConversationRecorder;
  tools: ToolRunner;
  send(frame: ServerFrame): void;
  nextEventId(): number;
  /** Voice sessions only: speaks the replies. */
  speech?: TurnSpeech;
}

/** How a turn ended: answered, the agent ended the call, the model failed, or the session stopped it. */
export type TurnOutcome =
  | { kind: "done" }
  | { kind: "end_call"; call: BrainToolCall; eventId: number }
  | { kind: "failed"; error: unknown }
  | { kind: "cancelled" };

/** One response of the model within a turn, as far as it got. */
interface Round {
  eventId: number;
  /** The text streamed to the client so far. */
  sent: string;
  /** Whether the response (text and tool calls) is recorded. */
  recorded: boolean;
  /** Whether its `agent_response` went out. */
  responded: boolean;
  /** Tool calls not yet answered, and the results of those that were. */
  open: BrainToolCall[];
  results: ToolCallResult[];
}

/**
 * One agent turn: the model's response streamed (`agent_chat_response_part` start, deltas, stop,
 * then `agent_response`), its tool calls run in order with their results fed back, and the model
 * asked again, at most `MAX_TOOL_ROUNDS` times. It runs beside the session's event queue so that
 * a client's tool result or a new user message can reach the session while it runs; the session
 * stops it with `interrupt` (a new user message) or `cancel` (the session ended), after which it
 * sends and records nothing more.
 */
export class AgentTurn {
  private readonly controller = new AbortController();
  private cancelled = false;
  private finished = false;
  /** The model called `end_call`: the call ends, whatever arrives while its result is written. */
  private endDecided = false;
  private round: Round | undefined;

  constructor(private readonly host: TurnHost) {}

  /** Runs the turn; `opening` is the agent's first message, said instead of asking the model. Never rejects. */
  async run(opening?: string): Promise<TurnOutcome> {
    try {
      for (let round = 1; ; round += 1) {
        const outputs: AsyncIterable<BrainOutput> | Iterable<BrainOutput> =
          round === 1 && opening !== undefined
            ? [{ type: "text", text: opening }]
            : this.host.brain.respond(this.host.context(), this.controller.signal);
        const calls = await this.respond(outputs);
        if (this.cancelled) return { kind: "cancelled" };
        if (calls.length === 0) return { kind: "done" };
        const ended = await this.runCalls(calls, round >= MAX_TOOL_ROUNDS);
        if (ended) return ended;
        if (round >= MAX_TOOL_ROUNDS) return { kind: "done" };
      }
    } catch (error) {
      return this.cancelled ? { kind: "cancelled" } : { kind: "failed", error };
    } finally {
      this.finished = true;
    }
  }

  /** Whether the turn is still under way (not finished, cancelled or interrupted). */
  get running(): boolean {
    return !this.finished && !this.cancelled;
  }

  /** Whether the model decided to end the call in this turn (the session is about to end). */
  get endingCall(): boolean {
    return this.endDecided;
  }

  /** Stops the turn silently: nothing more is sent or recorded, the model's response is aborted. */
  cancel(): void {
    this.cancelled = true;
    this.controller.abort();
  }

  /**
   * The session is ending (maximum duration, disconnect, shutdown): stops the turn like `cancel`,
   * and records the part of a reply the client already received, marked `interrupted`, so the
   * session's last write has it. The caller saves.
   */
  abandon(): void {
    if (this.finished || this.cancelled) return;
    this.cancel();
    const round = this.round;
    const heard = this.host.speech?.cut(round?.sent ?? "");
    if (!round || round.recorded || !round.sent) return;
    round.recorded = true;
    const message = heard ?? round.sent;
    this.host.transcript.push({ role: "agent", message });
    this.host.recorder.appendAgentEntry({
      message,
      interrupted: true,
      eventId: round.eventId,
      ...(message !== round.sent ? { originalMessage: round.sent } : {}),
    });
  }

  /**
   * The user interrupted: stops the turn, tells the client (`interruption`, and
   * `agent_response_correction` when text was sent), and records what the user received, marked
   * `interrupted`, with an error result for every tool call left unanswered. The caller saves.
   * Once the model called `end_call` it does nothing: the end of the call wins.
   */
  interrupt(): void {
    if (this.finished || this.cancelled || this.endDecided) return;
    this.cancel();
    const round = this.round;
    // A voice reply stops at once: what was heard is measured now.
    const heard = this.host.speech?.cut(round?.sent ?? "");
    if (!round) return;
    const { send, recorder, transcript } = this.host;
    if (round.recorded) {
      // The response was whole (only its agent_response had not gone out): nothing of it was cut.
      if (round.sent && !round.responded) send(agentResponseFrame(round.sent, round.eventId));
      if (round.open.length === 0) return;
      send(interruptionFrame(round.eventId));
      for (const call of round.open) {
        const result = this.result(call, INTERRUPTED_TOOL_CALL, true);
        round.results.push(result);
        transcript.push(toolTurn(result));
      }
      recorder.appendToolResults(round.results);
      return;
    }
    send(interruptionFrame(round.eventId));
    if (!round.sent) return;
    // In text, every piece the model produced went out as it came, so the client has the whole of
    // it; in voice, the user heard the part the audio played.
    const message = heard ?? round.sent;
    send(agentResponseCorrectionFrame(round.sent, message, round.eventId));
    transcript.push({ role: "agent", message });
    const turnMetrics = this.host.speech?.metrics();
    recorder.appendAgentEntry({
      message,
      interrupted: true,
      eventId: round.eventId,
      ...(message !== round.sent ? { originalMessage: round.sent } : {}),
      ...(turnMetrics ? { turnMetrics } : {}),
    });
  }

  /** Streams one response; records it; returns its tool calls (none when cancelled). */
  private async respond(
    outputs: AsyncIterable<BrainOutput> | Iterable<BrainOutput>,
  ): Promise<BrainToolCall[]> {
    const { send, recorder } = this.host;
    const round: Round = {
      eventId: this.host.nextEventId(),
      sent: "",
      recorded: false,
      responded: false,
      open: [],
      results: [],
    };
    this.round = round;
    const { speech } = this.host;
    speech?.begin(round.eventId);
    const calls: BrainToolCall[] = [];
    const usages: BrainUsage[] = [];
    for await (const output of outputs) {
      if (this.cancelled) break;
      if (output.type === "text" && output.text) {
        if (!round.sent) send(responsePartFrame("", "start", round.eventId));
        round.sent += output.text;
        send(responsePartFrame(output.text, "delta", round.eventId));
        speech?.text(output.text);
      } else if (output.type === "tool_call") {
        const { toolCallId, toolName, parameters } = output;
        calls.push({ toolCallId, toolName, parameters });
      } else if (output.type === "usage") usages.push(output.usage);
    }
    for (const usage of usages) recorder.addUsage(usage, !this.cancelled);
    if (this.cancelled) return [];
    // A voice reply is recorded once its audio is all sent (an interruption meanwhile records what was heard).
    if (speech && round.sent) {
      await speech.finish();
      if (this.cancelled) return [];
    }
    const text = round.sent;
    if (text) send(responsePartFrame("", "stop", round.eventId));
    if (text || calls.length > 0) {
      this.host.transcript.push({
        role: "agent",
        message: text,
        ...(calls.length > 0 ? { toolCalls: calls } : {}),
      });
      // As upstream records it: the words on one entry, the tool calls on the next (message null).
      let usage: ModelUsage | undefined = usages.reduce<ModelUsage>((tally, u) => addUsage(tally, u), {});
      if (text) {
        const turnMetrics = speech?.metrics();
        recorder.appendAgentEntry({
          message: text,
          usage,
          eventId: round.eventId,
          ...(turnMetrics ? { turnMetrics } : {}),
        });
        usage = undefined;
      }
      if (calls.length > 0) {
        const toolCalls = calls.map((call) => recordedToolCall(call, this.tool(call.toolName)));
        recorder.appendAgentEntry({ message: null, toolCalls, ...(usage ? { usage } : {}) });
      }
      round.recorded = true;
      round.open = [...calls];
    }
    // The parts streamed in this tick leave before the reply is written: a session's frames go out
    // when the tick's work is done (frame-batcher.ts), and a write on SQLite is part of that work.
    if (text) await nextTurnOfEventLoop();
    await recorder.save();
    if (text && !this.cancelled) {
      send(agentResponseFrame(text, round.eventId));
      round.responded = true;
    }
    return calls;
  }

  /** Runs a response's tool calls in order and records their results; an outcome when the turn ends here. */
  private async runCalls(calls: BrainToolCall[], overLimit: boolean): Promise<TurnOutcome | undefined> {
    const round = this.round as Round;
    let ended: TurnOutcome | undefined;
    for (const call of calls) {
      let result: ToolCallResult;
      if (call.toolName === END_CALL_TOOL) {
        result = this.result(call, "end_call tool was called.", false);
        ended = { kind: "end_call", call, eventId: round.eventId };
        this.endDecided = true;
      } else if (overLimit) result = { ...this.result(call, TOO_MANY_TOOL_ROUNDS, true), called: false };
      else result = await this.host.tools.run(call, round.eventId, this.controller.signal);
      if (this.cancelled) return { kind: "cancelled" };
      round.open = round.open.filter((open) => open !== call);
      round.results.push(result);
      this.host.transcript.push(toolTurn(result));
      if (ended) break;
    }
    this.host.recorder.appendToolResults(round.results);
    round.open = [];
    await this.host.recorder.save();
    // A decided end_call wins over a cancel that came while its result was written.
    return ended ?? (this.cancelled ? { kind: "cancelled" } : undefined);
  }

  private tool(name: string): AgentTool | undefined {
    return this.host.tools.find(name) ?? (name === END_CALL_TOOL ? END_CALL : undefined);
  }

  private result(call: BrainToolCall, result: string, isError: boolean): ToolCallResult {
    return { call, kind: this.tool(call.toolName)?.kind, result, isError, called: true, latencyMs: 0 };
  }
}

/** A tool result as the brain's transcript holds it. */
function toolTurn(result: ToolCallResult): BrainTurn {
  return {
    role: "tool",
    toolCallId: result.call.toolCallId,
    toolName: result.call.toolName,
    result: result.result,
    isError: result.isError,
  };
}
