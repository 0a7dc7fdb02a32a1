import { type Attributes, type SpanContext, SpanKind } from "@opentelemetry/api";
import type { TimedEvent } from "@opentelemetry/sdk-trace-base";
import { asArray, asNumber, asRecord, asString } from "../json-value.js";
import type { CallSpan } from "./call-span.js";
import { sumLlmUsage, toAttributes, toolResultAttributes } from "./span-attributes.js";
import { type TraceBuilder, toHrTime } from "./trace-builder.js";

/** A turn's span as its tool spans need it: its path, context and time range (unix seconds). */
export interface TurnSpan {
  path: string;
  context: SpanContext;
  start: number;
  end: number;
}

/** Attributes of a turn: what was said, by which agent, with which models, and its timings. */
function turnAttributes(conversationId: string, turn: Record<string, unknown>, index: number): Attributes {
  const agentMeta = asRecord(turn.agent_metadata) ?? {};
  const turnMetrics = asRecord(turn.conversation_turn_metrics) ?? {};
  const usage = sumLlmUsage([turn.llm_usage]);
  const attributes = toAttributes({
    "elevenlabs.conversation_id": conversationId,
    "elevenlabs.transcript.index": index,
    "elevenlabs.transcript.role": asString(turn.role) ?? "unknown",
    "elevenlabs.transcript.message": asString(turn.message),
    "elevenlabs.transcript.original_message": asString(turn.original_message),
    "elevenlabs.transcript.time_in_call_secs": asNumber(turn.time_in_call_secs),
    "elevenlabs.transcript.interrupted": typeof turn.interrupted === "boolean" ? turn.interrupted : undefined,
    "elevenlabs.transcript.source_medium": asString(turn.source_medium),
    "elevenlabs.agent_id": asString(agentMeta.agent_id),
    "elevenlabs.branch_id": asString(agentMeta.branch_id),
    "elevenlabs.workflow_node_id": asString(agentMeta.workflow_node_id),
    "elevenlabs.asr.provider": asString(turnMetrics.convai_asr_provider),
    "elevenlabs.tts.model": asString(turnMetrics.convai_tts_model),
    "elevenlabs.tts.voice_id": asString(turnMetrics.voice_id),
    "gen_ai.request.model": asString(turn.producing_llm) ?? asString(turn.llm_override) ?? usage.models[0],
    "gen_ai.usage.input_tokens": usage.input,
    "gen_ai.usage.output_tokens": usage.output,
  });
  // Per-turn timings (LLM time to first byte/sentence, TTS time to first byte, ASR…), in seconds.
  for (const [name, record] of Object.entries(asRecord(turnMetrics.metrics) ?? {})) {
    const elapsed = asNumber(asRecord(record)?.elapsed_time);
    if (elapsed !== null) attributes[`elevenlabs.metrics.${name}.elapsed_time_secs`] = elapsed;
  }
  return attributes;
}

/** Events of a turn, at its start: the RAG retrieval it made, and each tool result it reports. */
function turnEvents(turn: Record<string, unknown>, start: number): TimedEvent[] {
  const events: TimedEvent[] = [];
  const rag = asRecord(turn.rag_retrieval_info);
  if (rag) {
    const attributes = toAttributes({
      "elevenlabs.rag.embedding_model": asString(rag.embedding_model),
      "elevenlabs.rag.retrieval_query": asString(rag.retrieval_query),
      "elevenlabs.rag.latency_secs": asNumber(rag.rag_latency_secs),
      "elevenlabs.rag.chunk_count": asArray(rag.chunks).length,
    });
    events.push({ name: "elevenlabs.rag_retrieval", time: toHrTime(start), attributes });
  }
  for (const r of asArray(turn.tool_results)) {
    const result = asRecord(r);
    if (!result) continue;
    const attributes = toAttributes({
      "gen_ai.tool.name": asString(result.tool_name),
      "gen_ai.tool.call.id": asString(result.request_id),
      ...toolResultAttributes(result),
    });
    events.push({ name: "elevenlabs.tool_result", time: toHrTime(start), attributes });
  }
  return events;
}

/**
 * Adds the span of transcript entry `index`: from its time in the call until the next entry's
 * (the last one lasts until the end of the call).
 */
export function addTurnSpan(
  builder: TraceBuilder,
  call: CallSpan,
  turn: Record<string, unknown>,
  index: number,
  nextTurn: Record<string, unknown> | undefined,
): TurnSpan {
  const start = call.start + Math.max(0, asNumber(turn.time_in_call_secs) ?? 0);
  const nextAt = nextTurn ? call.start + (asNumber(nextTurn.time_in_call_secs) ?? 0) : undefined;
  const end = Math.max(start, nextAt ?? Math.max(call.end, start));
  const path = `turn/${index}`;
  const context = builder.add({
    path,
    parent: call.context,
    name: `${asString(turn.role) ?? "unknown"} turn`,
    kind: SpanKind.INTERNAL,
    start,
    end,
    attributes: turnAttributes(call.conversationId, turn, index),
    events: turnEvents(turn, start),
  });
  return { path, context, start, end };
}
