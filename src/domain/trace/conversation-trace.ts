/**
 * The OpenTelemetry view of a stored conversation (`format=opentelemetry`): one trace per
 * conversation, built as SDK span objects and serialised with the OTLP/JSON trace serializer.
 *
 * Span tree:
 *   invoke_agent {agent}          the call: start_time_unix_secs … + call_duration_secs
 *   ├─ {role} turn #i             one per transcript entry, until the next entry (or the end of call)
 *   │  └─ execute_tool {name}     one per tool call, until its result (tool_latency_secs)
 *   └─ …
 * Tool results are span events on the turn that reports them (and close the call's span); a
 * result without a matching call gets a tool span of its own under its turn. Turn metrics
 * (LLM/TTS/ASR timings), LLM token usage and charging become attributes.
 */
import { createHash } from "node:crypto";
import {
  type Attributes,
  type HrTime,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
} from "@opentelemetry/api";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import type { ConversationDoc } from "../conversation.js";

/** The instrumentation scope named on every span. */
export const TRACE_SCOPE = { name: "openconvai.conversation", version: "1" } as const;

/** Longest string attribute value kept; longer ones are cut (a transcript line can be long). */
const MAX_ATTRIBUTE_CHARS = 8192;

type Json = Record<string, unknown>;

function asRecord(value: unknown): Json | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function asNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Derives a stable id of `hexChars` hex digits from text; never all zeros (an invalid id in OTLP). */
function deriveId(text: string, hexChars: number): string {
  const hex = createHash("sha256").update(text).digest("hex").slice(0, hexChars);
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/** The trace id of a conversation: the first 16 bytes of SHA-256 over its id. */
export function conversationTraceId(conversationId: string): string {
  return deriveId(`openconvai.trace\u0000${conversationId}`, 32);
}

/**
 * Seconds (fractions allowed) to OpenTelemetry's [seconds, nanoseconds], to the microsecond: a
 * unix time in a double carries about 0.2 µs, so finer digits would be rounding noise.
 */
function toHrTime(seconds: number): HrTime {
  const micros = Math.round(seconds * 1e6);
  const whole = Math.floor(micros / 1e6);
  return [whole, (micros - whole * 1e6) * 1000];
}

/** Puts attribute values in, skipping absent ones and cutting long strings. */
function setAttributes(target: Attributes, values: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === "string") {
      target[key] = value.length > MAX_ATTRIBUTE_CHARS ? value.slice(0, MAX_ATTRIBUTE_CHARS) : value;
    } else if (typeof value === "number" && Number.isFinite(value)) {
      target[key] = value;
    } else if (typeof value === "boolean") {
      target[key] = value;
    } else if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) {
      target[key] = value as string[];
    }
  }
}

/** Sums token counts over LlmUsageOutput-shaped objects: `{model_usage: {model: {input, output_total, …}}}`. */
function sumLlmUsage(usages: unknown[]): { input?: number; output?: number; models: string[] } {
  let input: number | undefined;
  let output: number | undefined;
  const models: string[] = [];
  for (const usage of usages) {
    for (const [model, raw] of Object.entries(asRecord(asRecord(usage)?.model_usage) ?? {})) {
      const tokens = asRecord(raw);
      if (!tokens) continue;
      if (!models.includes(model)) models.push(model);
      const inTokens =
        (asNumber(asRecord(tokens.input)?.tokens) ?? 0) +
        (asNumber(asRecord(tokens.input_cache_read)?.tokens) ?? 0) +
        (asNumber(asRecord(tokens.input_cache_write)?.tokens) ?? 0);
      const outTokens = asNumber(asRecord(tokens.output_total)?.tokens);
      if (tokens.input || tokens.input_cache_read || tokens.input_cache_write)
        input = (input ?? 0) + inTokens;
      if (outTokens !== undefined) output = (output ?? 0) + outTokens;
    }
  }
  return { input, output, models };
}

/** Collects span objects for one trace. */
class TraceBuilder {
  readonly spans: ReadableSpan[] = [];
  private readonly resource;

  constructor(
    private readonly traceId: string,
    private readonly conversationId: string,
    resourceAttributes: Attributes,
  ) {
    this.resource = resourceFromAttributes(resourceAttributes);
  }

  /** The span context of the span at `path` (a stable name inside the conversation). */
  context(path: string): SpanContext {
    return {
      traceId: this.traceId,
      spanId: deriveId(`${this.conversationId}\u0000${path}`, 16),
      traceFlags: TraceFlags.SAMPLED,
    };
  }

  add(span: {
    path: string;
    parent?: SpanContext;
    name: string;
    kind: SpanKind;
    start: number;
    end: number;
    attributes: Attributes;
    events?: TimedEvent[];
    error?: string;
    ok?: boolean;
  }): SpanContext {
    const context = this.context(span.path);
    const end = Math.max(span.start, span.end);
    const startTime = toHrTime(span.start);
    const endTime = toHrTime(end);
    const readable: ReadableSpan = {
      name: span.name,
      kind: span.kind,
      spanContext: () => context,
      ...(span.parent ? { parentSpanContext: span.parent } : {}),
      startTime,
      endTime,
      duration: toHrTime(end - span.start),
      status:
        span.error !== undefined
          ? { code: SpanStatusCode.ERROR, message: span.error }
          : { code: span.ok ? SpanStatusCode.OK : SpanStatusCode.UNSET },
      attributes: span.attributes,
      links: [],
      events: span.events ?? [],
      ended: true,
      resource: this.resource,
      instrumentationScope: TRACE_SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
    this.spans.push(readable);
    return context;
  }
}

/** What a tool call span needs from the result that answered it. */
interface ToolResultInfo {
  result: Json;
  turnTime: number;
}

/** Attributes shared by a tool call span and a tool result. */
function toolResultAttributes(result: Json): Record<string, unknown> {
  return {
    "elevenlabs.tool.result_value": asString(result.result_value),
    "elevenlabs.tool.is_error": typeof result.is_error === "boolean" ? result.is_error : undefined,
    "elevenlabs.tool.latency_secs": asNumber(result.tool_latency_secs),
    "elevenlabs.tool.error_type": asString(result.error_type),
    "error.type": result.is_error === true ? (asString(result.error_type) ?? "tool_error") : undefined,
  };
}

/** The error message of a failed tool result, or undefined when it succeeded. */
function toolError(result: Json | undefined): string | undefined {
  if (result?.is_error !== true) return undefined;
  return asString(result.raw_error_message) ?? asString(result.error_type) ?? "tool call failed";
}

/** Builds the OTLP spans of a conversation document (exported for tests that look at the tree). */
export function buildConversationSpans(doc: ConversationDoc): ReadableSpan[] {
  const conversationId = String(doc.conversation_id);
  const agentId = asString(doc.agent_id);
  const agentName = asString(doc.agent_name);
  const metadata = asRecord(doc.metadata) ?? {};
  const analysis = asRecord(doc.analysis) ?? {};
  const charging = asRecord(metadata.charging) ?? {};
  const callStart = asNumber(metadata.start_time_unix_secs) ?? 0;
  const duration = Math.max(0, asNumber(metadata.call_duration_secs) ?? 0);
  const callEnd = callStart + duration;
  const transcript = asArray(doc.transcript).map((t) => asRecord(t) ?? {});

  const builder = new TraceBuilder(conversationTraceId(conversationId), conversationId, {
    "service.name": "elevenlabs-agents",
    ...(agentId !== undefined ? { "elevenlabs.agent_id": agentId } : {}),
    ...(agentName !== undefined ? { "elevenlabs.agent_name": agentName } : {}),
  });

  // Root: the call.
  const root: Attributes = {};
  const chargingUsage = asRecord(charging.llm_usage) ?? {};
  const turnUsages = transcript.map((t) => t.llm_usage);
  // Charging's per-category usage is the billed total; without it, the turns' usage is summed.
  const billed = sumLlmUsage([chargingUsage.irreversible_generation, chargingUsage.initiated_generation]);
  const usage = billed.models.length > 0 ? billed : sumLlmUsage(turnUsages);
  const tts = asRecord(charging.tts_usage) ?? {};
  const asr = asRecord(charging.asr_usage) ?? {};
  const phone = asRecord(metadata.phone_call) ?? {};
  setAttributes(root, {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.provider.name": "elevenlabs",
    "gen_ai.agent.id": agentId,
    "gen_ai.agent.name": agentName,
    "gen_ai.conversation.id": conversationId,
    "gen_ai.usage.input_tokens": usage.input,
    "gen_ai.usage.output_tokens": usage.output,
    "elevenlabs.conversation_id": conversationId,
    "elevenlabs.agent_id": agentId,
    "elevenlabs.agent_name": agentName,
    "elevenlabs.status": asString(doc.status),
    "elevenlabs.user_id": asString(doc.user_id),
    "elevenlabs.branch_id": asString(doc.branch_id),
    "elevenlabs.version_id": asString(doc.version_id),
    "elevenlabs.call_duration_secs": asNumber(metadata.call_duration_secs),
    "elevenlabs.start_time_unix_secs": asNumber(metadata.start_time_unix_secs),
    "elevenlabs.termination_reason": asString(metadata.termination_reason),
    "elevenlabs.main_language": asString(metadata.main_language),
    "elevenlabs.conversation_initiation_source": asString(metadata.conversation_initiation_source),
    "elevenlabs.text_only": typeof metadata.text_only === "boolean" ? metadata.text_only : undefined,
    "elevenlabs.cost": asNumber(metadata.cost),
    "elevenlabs.phone_call.type": asString(phone.type),
    "elevenlabs.phone_call.direction": asString(phone.direction),
    "elevenlabs.transcript.turn_count": transcript.length,
    "elevenlabs.analysis.call_successful": asString(analysis.call_successful),
    "elevenlabs.analysis.call_summary_title": asString(analysis.call_summary_title),
    "elevenlabs.analysis.transcript_summary": asString(analysis.transcript_summary),
    "elevenlabs.charging.tier": asString(charging.tier),
    "elevenlabs.charging.llm_charge": asNumber(charging.llm_charge),
    "elevenlabs.charging.call_charge": asNumber(charging.call_charge),
    "elevenlabs.charging.llm_price": asNumber(charging.llm_price),
    "elevenlabs.charging.platform_charge": asNumber(charging.platform_charge),
    "elevenlabs.llm.models": usage.models,
    "elevenlabs.tts.model": asString(tts.primary_tts_model),
    "elevenlabs.tts.total_audio_output_seconds": asNumber(tts.total_audio_output_seconds),
    "elevenlabs.tts.total_characters": asNumber(tts.total_characters),
    "elevenlabs.asr.model": asString(asr.asr_model),
    "elevenlabs.asr.total_transcription_calls": asNumber(asr.total_transcription_calls),
    "elevenlabs.asr.total_audio_input_seconds": asNumber(asr.total_audio_input_seconds),
  });
  const failed = doc.status === "failed";
  // The root first: readers that stream spans see the parent before its children.
  const rootContext = builder.add({
    path: "call",
    name: agentName !== undefined ? `invoke_agent ${agentName}` : "invoke_agent",
    kind: SpanKind.SERVER,
    start: callStart,
    end: callEnd,
    attributes: root,
    error: failed ? (asString(asRecord(metadata.error)?.reason) ?? "conversation failed") : undefined,
    ok: doc.status === "done",
  });

  // Results by the request id of the call they answer, so a call's span can end with its result.
  const results = new Map<string, ToolResultInfo>();
  const calledIds = new Set<string>();
  for (const turn of transcript) {
    for (const c of asArray(turn.tool_calls)) {
      const id = asString(asRecord(c)?.request_id);
      if (id !== undefined) calledIds.add(id);
    }
  }
  for (const turn of transcript) {
    const at = callStart + (asNumber(turn.time_in_call_secs) ?? 0);
    for (const r of asArray(turn.tool_results)) {
      const result = asRecord(r);
      const id = asString(result?.request_id);
      if (result && id !== undefined && !results.has(id)) results.set(id, { result, turnTime: at });
    }
  }

  transcript.forEach((turn, index) => {
    const start = callStart + Math.max(0, asNumber(turn.time_in_call_secs) ?? 0);
    const nextTurn = transcript[index + 1];
    const nextAt = nextTurn ? callStart + (asNumber(nextTurn.time_in_call_secs) ?? 0) : undefined;
    const end = Math.max(start, nextAt ?? Math.max(callEnd, start));
    const role = asString(turn.role) ?? "unknown";
    const turnPath = `turn/${index}`;
    const turnContext = builder.context(turnPath);

    const attributes: Attributes = {};
    const agentMeta = asRecord(turn.agent_metadata) ?? {};
    const turnMetrics = asRecord(turn.conversation_turn_metrics) ?? {};
    const turnUsage = sumLlmUsage([turn.llm_usage]);
    const model = asString(turn.producing_llm) ?? asString(turn.llm_override) ?? turnUsage.models[0];
    setAttributes(attributes, {
      "elevenlabs.conversation_id": conversationId,
      "elevenlabs.transcript.index": index,
      "elevenlabs.transcript.role": role,
      "elevenlabs.transcript.message": asString(turn.message),
      "elevenlabs.transcript.original_message": asString(turn.original_message),
      "elevenlabs.transcript.time_in_call_secs": asNumber(turn.time_in_call_secs),
      "elevenlabs.transcript.interrupted":
        typeof turn.interrupted === "boolean" ? turn.interrupted : undefined,
      "elevenlabs.transcript.source_medium": asString(turn.source_medium),
      "elevenlabs.agent_id": asString(agentMeta.agent_id),
      "elevenlabs.branch_id": asString(agentMeta.branch_id),
      "elevenlabs.workflow_node_id": asString(agentMeta.workflow_node_id),
      "elevenlabs.asr.provider": asString(turnMetrics.convai_asr_provider),
      "elevenlabs.tts.model": asString(turnMetrics.convai_tts_model),
      "elevenlabs.tts.voice_id": asString(turnMetrics.voice_id),
      "gen_ai.request.model": model,
      "gen_ai.usage.input_tokens": turnUsage.input,
      "gen_ai.usage.output_tokens": turnUsage.output,
    });
    // Per-turn timings (LLM time to first byte/sentence, TTS time to first byte, ASR…), in seconds.
    for (const [name, record] of Object.entries(asRecord(turnMetrics.metrics) ?? {})) {
      const elapsed = asNumber(asRecord(record)?.elapsed_time);
      if (elapsed !== undefined) attributes[`elevenlabs.metrics.${name}.elapsed_time_secs`] = elapsed;
    }

    const events: TimedEvent[] = [];
    const rag = asRecord(turn.rag_retrieval_info);
    if (rag) {
      const ragAttributes: Attributes = {};
      setAttributes(ragAttributes, {
        "elevenlabs.rag.embedding_model": asString(rag.embedding_model),
        "elevenlabs.rag.retrieval_query": asString(rag.retrieval_query),
        "elevenlabs.rag.latency_secs": asNumber(rag.rag_latency_secs),
        "elevenlabs.rag.chunk_count": asArray(rag.chunks).length,
      });
      events.push({ name: "elevenlabs.rag_retrieval", time: toHrTime(start), attributes: ragAttributes });
    }
    for (const r of asArray(turn.tool_results)) {
      const result = asRecord(r);
      if (!result) continue;
      const eventAttributes: Attributes = {};
      setAttributes(eventAttributes, {
        "gen_ai.tool.name": asString(result.tool_name),
        "gen_ai.tool.call.id": asString(result.request_id),
        ...toolResultAttributes(result),
      });
      events.push({ name: "elevenlabs.tool_result", time: toHrTime(start), attributes: eventAttributes });
    }

    builder.add({
      path: turnPath,
      parent: rootContext,
      name: `${role} turn`,
      kind: SpanKind.INTERNAL,
      start,
      end,
      attributes,
      events,
    });

    // Tool calls: a span each, from the call's turn until its result.
    asArray(turn.tool_calls).forEach((c, i) => {
      const call = asRecord(c);
      if (!call) return;
      const name = asString(call.tool_name) ?? "tool";
      const requestId = asString(call.request_id);
      const answer = requestId !== undefined ? results.get(requestId) : undefined;
      const latency = asNumber(answer?.result.tool_latency_secs);
      const toolEnd = latency !== undefined ? start + latency : (answer?.turnTime ?? end);
      const details = asRecord(call.tool_details) ?? {};
      const toolAttributes: Attributes = {};
      setAttributes(toolAttributes, {
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
      });
      builder.add({
        path: `${turnPath}/tool_call/${i}`,
        parent: turnContext,
        name: `execute_tool ${name}`,
        kind: SpanKind.INTERNAL,
        start,
        end: toolEnd,
        attributes: toolAttributes,
        error: toolError(answer?.result),
        ok: answer !== undefined && answer.result.is_error !== true,
      });
    });

    // A result whose call is not in the transcript gets a span of its own, ending with its latency.
    asArray(turn.tool_results).forEach((r, i) => {
      const result = asRecord(r);
      const requestId = asString(result?.request_id);
      if (!result || (requestId !== undefined && calledIds.has(requestId))) return;
      const name = asString(result.tool_name) ?? "tool";
      const toolAttributes: Attributes = {};
      setAttributes(toolAttributes, {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": requestId,
        "gen_ai.tool.type": asString(result.type),
        ...toolResultAttributes(result),
      });
      const latency = asNumber(result.tool_latency_secs) ?? 0;
      builder.add({
        path: `${turnPath}/tool_result/${i}`,
        parent: turnContext,
        name: `execute_tool ${name}`,
        kind: SpanKind.INTERNAL,
        start: Math.max(callStart, start - latency),
        end: start,
        attributes: toolAttributes,
        error: toolError(result),
        ok: result.is_error !== true,
      });
    });
  });

  return builder.spans;
}

/** The OTLP/JSON ExportTraceServiceRequest (`resourceSpans` → `scopeSpans` → `spans`) of a conversation. */
export function buildConversationTrace(doc: ConversationDoc): Record<string, unknown> {
  const bytes = JsonTraceSerializer.serializeRequest(buildConversationSpans(doc));
  if (!bytes) throw new Error("the OTLP trace serializer produced nothing");
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}
