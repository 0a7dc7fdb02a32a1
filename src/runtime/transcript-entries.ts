/**
 * The parts of a recorded transcript entry that describe tools and tokens, in upstream's shape
 * (the SDK's `ConversationHistoryTranscriptToolCallCommonModelOutput`, its tool results union and
 * `LlmUsageOutput`), so a live conversation reads back like one recorded by ElevenLabs.
 */
import type { AgentTool, BrainToolCall, BrainUsage } from "./brain.js";

type Json = Record<string, unknown>;

/** A tool call as a transcript entry's `tool_calls` records it. */
export function recordedToolCall(call: BrainToolCall, tool: AgentTool | undefined): Json {
  const paramsAsJson = JSON.stringify(call.parameters);
  const entry: Json = {
    request_id: call.toolCallId,
    tool_name: call.toolName,
    params_as_json: paramsAsJson,
    // A call of a tool the agent does not have is never run.
    tool_has_been_called: tool !== undefined,
  };
  if (!tool) return entry;
  entry.type = tool.kind;
  if (tool.kind === "client") entry.tool_details = { type: "client", parameters: paramsAsJson };
  if (tool.kind === "webhook") {
    const schema = tool.config.api_schema as Json | undefined;
    const url = schema?.url;
    if (typeof url === "string")
      entry.tool_details = {
        type: "webhook",
        method: typeof schema?.method === "string" ? schema.method : "GET",
        url,
      };
  }
  return entry;
}

/** How a tool call ended, as the session knows it. */
export interface ToolCallResult {
  call: BrainToolCall;
  /** The tool's kind; undefined for a tool the agent does not have. */
  kind: AgentTool["kind"] | undefined;
  result: string;
  isError: boolean;
  /** Whether the tool actually ran (false for an unknown tool or a call over the round limit). */
  called: boolean;
  /** How long the call took; undefined when not known (a client result that came after its wait). */
  latencyMs?: number;
}

/** A tool result as a transcript entry's `tool_results` records it (`end_call` as a system result). */
export function recordedToolResult(outcome: ToolCallResult): Json {
  const entry: Json = {
    request_id: outcome.call.toolCallId,
    tool_name: outcome.call.toolName,
    result_value: outcome.result,
    is_error: outcome.isError,
    tool_has_been_called: outcome.called,
  };
  if (outcome.latencyMs !== undefined) entry.tool_latency_secs = outcome.latencyMs / 1000;
  if (outcome.kind) entry.type = outcome.kind;
  if (outcome.isError) entry.error_type = outcome.called ? "tool_error" : "tool_not_called";
  if (outcome.kind === "system" && outcome.call.toolName === "end_call" && !outcome.isError) {
    // upstream records the system result as an object, and its JSON as the result value.
    const reason = outcome.call.parameters.reason;
    const result = {
      result_type: "end_call_success",
      status: "success",
      reason: typeof reason === "string" ? reason : outcome.result,
    };
    entry.result = result;
    entry.result_value = JSON.stringify(result);
  }
  return entry;
}

/** Tokens by model, as `llm_usage.model_usage` records them. */
export type ModelUsage = Record<string, { input: { tokens: number }; output_total: { tokens: number } }>;

/** Adds one response's usage to a per-model tally (in place) and returns it. */
export function addUsage(tally: ModelUsage, usage: BrainUsage): ModelUsage {
  const current = tally[usage.model] ?? { input: { tokens: 0 }, output_total: { tokens: 0 } };
  tally[usage.model] = {
    input: { tokens: current.input.tokens + usage.inputTokens },
    output_total: { tokens: current.output_total.tokens + usage.outputTokens },
  };
  return tally;
}
