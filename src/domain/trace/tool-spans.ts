import { SpanKind } from "@opentelemetry/api";
import { asArray, asNumber, asRecord, asString } from "../json-value.js";
import type { CallSpan } from "./call-span.js";
import { toAttributes, toolResultAttributes } from "./span-attributes.js";
import type { TraceBuilder } from "./trace-builder.js";
import type { TurnSpan } from "./turn-span.js";

type Json = Record<string, unknown>;

/** The tool results of a transcript by the request id of the call they answer, and which ids were called. */
export interface ToolAnswers {
  /** The first result per request id, with the time of the turn that reports it. */
  results: Map<string, { result: Json; turnTime: number }>;
  calledIds: Set<string>;
}

/** Indexes a transcript's tool calls and results, so a call's span can end with its result. */
export function collectToolAnswers(transcript: readonly Json[], callStart: number): ToolAnswers {
  const results: ToolAnswers["results"] = new Map();
  const calledIds = new Set<string>();
  for (const turn of transcript) {
    for (const c of asArray(turn.tool_calls)) {
      const id = asString(asRecord(c)?.request_id);
      if (id !== null) calledIds.add(id);
    }
  }
  for (const turn of transcript) {
    const at = callStart + (asNumber(turn.time_in_call_secs) ?? 0);
    for (const r of asArray(turn.tool_results)) {
      const result = asRecord(r);
      const id = asString(result?.request_id);
      if (result && id !== null && !results.has(id)) results.set(id, { result, turnTime: at });
    }
  }
  return { results, calledIds };
}

/** The error message of a failed tool result, or undefined when it succeeded. */
function toolError(result: Json | undefined): string | undefined {
  if (result?.is_error !== true) return undefined;
  return asString(result.raw_error_message) ?? asString(result.error_type) ?? "tool call failed";
}

/** Adds a span per tool call of a turn: from the call's turn until its result (its latency, or its turn). */
export function addToolCallSpans(
  builder: TraceBuilder,
  turnSpan: TurnSpan,
  turn: Json,
  answers: ToolAnswers,
): void {
  asArray(turn.tool_calls).forEach((c, i) => {
    const call = asRecord(c);
    if (!call) return;
    const name = asString(call.tool_name) ?? "tool";
    const requestId = asString(call.request_id);
    const answer = requestId !== null ? answers.results.get(requestId) : undefined;
    const latency = asNumber(answer?.result.tool_latency_secs);
    const end = latency !== null ? turnSpan.start + latency : (answer?.turnTime ?? turnSpan.end);
    const details = asRecord(call.tool_details) ?? {};
    builder.add({
      path: `${turnSpan.path}/tool_call/${i}`,
      parent: turnSpan.context,
      name: `execute_tool ${name}`,
      kind: SpanKind.INTERNAL,
      start: turnSpan.start,
      end,
      attributes: toAttributes({
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": requestId,
        "gen_ai.tool.type": asString(call.type),
        "elevenlabs.tool.params_as_json": asString(call.params_as_json),
        "elevenlabs.tool.has_been_called":
          typeof call.tool_has_been_called === "boolean" ? call.tool_has_been_called : undefined,
        "http.request.method": asString(details.method),
        "url.full": asString(details.url),
        ...(answer ? toolResultAttributes(answer.result) : {}),
      }),
      error: toolError(answer?.result),
      ok: answer !== undefined && answer.result.is_error !== true,
    });
  });
}

/**
 * Adds a span per tool result of a turn whose call is not in the transcript: it ends at the
 * turn and starts its latency earlier (not before the call).
 */
export function addUncalledResultSpans(
  builder: TraceBuilder,
  call: CallSpan,
  turnSpan: TurnSpan,
  turn: Json,
  answers: ToolAnswers,
): void {
  asArray(turn.tool_results).forEach((r, i) => {
    const result = asRecord(r);
    const requestId = asString(result?.request_id);
    if (!result || (requestId !== null && answers.calledIds.has(requestId))) return;
    const name = asString(result.tool_name) ?? "tool";
    const latency = asNumber(result.tool_latency_secs) ?? 0;
    builder.add({
      path: `${turnSpan.path}/tool_result/${i}`,
      parent: turnSpan.context,
      name: `execute_tool ${name}`,
      kind: SpanKind.INTERNAL,
      start: Math.max(call.start, turnSpan.start - latency),
      end: turnSpan.start,
      attributes: toAttributes({
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": requestId,
        "gen_ai.tool.type": asString(result.type),
        ...toolResultAttributes(result),
      }),
      error: toolError(result),
      ok: result.is_error !== true,
    });
  });
}
