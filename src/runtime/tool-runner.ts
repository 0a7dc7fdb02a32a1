import type { AgentTool, BrainToolCall } from "./brain.js";
import type { Clock } from "./clock.js";
import {
  agentToolRequestFrame,
  agentToolResponseFrame,
  clientToolCallFrame,
  type ServerFrame,
} from "./server-frames.js";
import type { ToolCallResult } from "./transcript-entries.js";
import type { ToolOutcome, WebhookCallContext, WebhookToolLimits } from "./webhook-tool.js";

/**
 * Runs a webhook tool (`callWebhookTool`): never throws, a failure is an outcome with `isError`.
 * `context` carries the session's dynamic variables, `secret__*` ones included (tool headers are
 * what they are for).
 */
export type WebhookToolRunner = (
  tool: AgentTool,
  parameters: Record<string, unknown>,
  limits: WebhookToolLimits,
  signal: AbortSignal,
  context: WebhookCallContext,
) => Promise<ToolOutcome>;

/** The longest a webhook call may take, whatever the tool's `response_timeout_secs`. */
export const WEBHOOK_MAX_TIMEOUT_MS = 20_000;
/** The largest webhook response body read. */
export const WEBHOOK_MAX_RESPONSE_BYTES = 1024 * 1024;

/** What the model is told when it called a client tool that does not answer (`expects_response: false`). */
export const CLIENT_TOOL_CALLED = "Client tool called; it sends no result.";

/** What a client_tool_result was to the runner: awaited by a call, answering a call nobody waits for, or unknown. */
export type ClientResultMatch =
  | { kind: "awaited" }
  | { kind: "late"; call: BrainToolCall }
  | { kind: "unknown" };

interface PendingResult {
  call: BrainToolCall;
  resolve: (outcome: ToolOutcome) => void;
}

/**
 * Runs the agent's tool calls: client tools over the socket (`client_tool_call`, then the
 * client's `client_tool_result`, waited for up to the tool's timeout), webhook tools through the
 * injected runner (`agent_tool_request` / `agent_tool_response`), and an error result for a tool
 * the agent does not have. `end_call` is the session's: it never reaches the runner.
 */
export class ToolRunner {
  /** Client calls waiting for their result, by tool_call_id. */
  private readonly pending = new Map<string, PendingResult>();
  /** Every client call made, by tool_call_id: a result arriving after its wait is still recognised. */
  private readonly clientCalls = new Map<string, BrainToolCall>();

  constructor(
    private readonly deps: {
      tools: () => readonly AgentTool[];
      send: (frame: ServerFrame) => void;
      clock: Clock;
      runWebhookTool: WebhookToolRunner;
      /** The session's dynamic variables, secrets included, for webhook calls. */
      variables: () => Readonly<Record<string, string>>;
    },
  ) {}

  /** The agent's tool of that name, if it has one. */
  find(name: string): AgentTool | undefined {
    return this.deps.tools().find((tool) => tool.name === name);
  }

  /** Runs one call made in the agent turn `eventId`; resolves with its result (never rejects). */
  async run(call: BrainToolCall, eventId: number, signal: AbortSignal): Promise<ToolCallResult> {
    const startedAt = this.deps.clock.now();
    const tool = this.find(call.toolName);
    const done = (outcome: ToolOutcome, called = true): ToolCallResult => ({
      call,
      kind: tool?.kind,
      ...outcome,
      called,
      latencyMs: this.deps.clock.now() - startedAt,
    });
    if (!tool) {
      const names = this.deps.tools().map((t) => t.name);
      return done(
        {
          result: `There is no tool named ${call.toolName}. The tools are: ${names.join(", ") || "none"}.`,
          isError: true,
        },
        false,
      );
    }
    if (tool.kind === "client") return done(await this.runClientTool(tool, call, eventId, signal));
    if (tool.kind === "webhook") return done(await this.runWebhookTool(tool, call, eventId, signal));
    return done(
      { result: `The system tool ${call.toolName} is not supported by this server.`, isError: true },
      false,
    );
  }

  /**
   * A client_tool_result arrived: hands it to the call waiting for it, if any. One for a call
   * nobody waits for any more is `late`: that call already has its recorded result (the client
   * tool that expects no response, a timeout, an interruption), so the answer is not recorded again.
   */
  clientResult(toolCallId: string, result: string, isError: boolean): ClientResultMatch {
    const waiting = this.pending.get(toolCallId);
    if (waiting) {
      this.pending.delete(toolCallId);
      waiting.resolve({ result, isError });
      return { kind: "awaited" };
    }
    const call = this.clientCalls.get(toolCallId);
    return call ? { kind: "late", call } : { kind: "unknown" };
  }

  private runClientTool(
    tool: AgentTool,
    call: BrainToolCall,
    eventId: number,
    signal: AbortSignal,
  ): Promise<ToolOutcome> {
    this.clientCalls.set(call.toolCallId, call);
    this.deps.send(clientToolCallFrame(call.toolName, call.toolCallId, call.parameters, eventId));
    if (!tool.expectsResponse) return Promise.resolve({ result: CLIENT_TOOL_CALLED, isError: false });
    return new Promise<ToolOutcome>((resolve) => {
      const settle = (outcome: ToolOutcome) => {
        cancelTimer();
        signal.removeEventListener("abort", onAbort);
        this.pending.delete(call.toolCallId);
        resolve(outcome);
      };
      const onAbort = () => settle({ result: "The tool call was cancelled.", isError: true });
      // A timeout of -1 waits as long as the turn lasts (upstream's "no timeout").
      const seconds = tool.responseTimeoutSecs;
      const cancelTimer =
        seconds > 0
          ? this.deps.clock.setTimer(seconds * 1000, () =>
              settle({ result: `The client did not answer within ${seconds} s.`, isError: true }),
            )
          : () => undefined;
      this.pending.set(call.toolCallId, { call, resolve: settle });
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private async runWebhookTool(
    tool: AgentTool,
    call: BrainToolCall,
    eventId: number,
    signal: AbortSignal,
  ): Promise<ToolOutcome> {
    this.deps.send(agentToolRequestFrame(call.toolName, call.toolCallId, "webhook", eventId));
    const limits: WebhookToolLimits = {
      timeoutMs:
        tool.responseTimeoutSecs > 0
          ? Math.min(tool.responseTimeoutSecs * 1000, WEBHOOK_MAX_TIMEOUT_MS)
          : WEBHOOK_MAX_TIMEOUT_MS,
      maxResponseBytes: WEBHOOK_MAX_RESPONSE_BYTES,
    };
    // The runner never throws by contract; a broken one is still a failed call, not a failed session.
    const outcome = await this.deps
      .runWebhookTool(tool, call.parameters, limits, signal, { dynamicVariables: this.deps.variables() })
      .catch(() => ({ result: "The webhook call failed.", isError: true }));
    if (!signal.aborted)
      this.deps.send(
        agentToolResponseFrame(call.toolName, call.toolCallId, "webhook", eventId, outcome.isError),
      );
    return outcome;
  }
}
