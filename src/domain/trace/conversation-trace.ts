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
 *
 * One module per kind of span: call-span.ts, turn-span.ts, tool-spans.ts; the span objects are
 * made in trace-builder.ts.
 */
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { ConversationDoc } from "../conversation.js";
import { asArray, asRecord, asString } from "../json-value.js";
import { addCallSpan } from "./call-span.js";
import { addToolCallSpans, addUncalledResultSpans, collectToolAnswers } from "./tool-spans.js";
import { deriveId, TraceBuilder } from "./trace-builder.js";
import { addTurnSpan } from "./turn-span.js";

/** The trace id of a conversation: the first 16 bytes of SHA-256 over its id. */
export function conversationTraceId(conversationId: string): string {
  return deriveId(`openconvai.trace\u0000${conversationId}`, 32);
}

/** Builds the OTLP spans of a conversation document (exported for tests that look at the tree). */
export function buildConversationSpans(doc: ConversationDoc): ReadableSpan[] {
  const conversationId = String(doc.conversation_id);
  const agentId = asString(doc.agent_id);
  const agentName = asString(doc.agent_name);
  const transcript = asArray(doc.transcript).map((t) => asRecord(t) ?? {});
  const builder = new TraceBuilder(conversationTraceId(conversationId), conversationId, {
    "service.name": "elevenlabs-agents",
    ...(agentId !== null ? { "elevenlabs.agent_id": agentId } : {}),
    ...(agentName !== null ? { "elevenlabs.agent_name": agentName } : {}),
  });
  const call = addCallSpan(builder, doc, transcript);
  const answers = collectToolAnswers(transcript, call.start);
  transcript.forEach((turn, index) => {
    const turnSpan = addTurnSpan(builder, call, turn, index, transcript[index + 1]);
    addToolCallSpans(builder, turnSpan, turn, answers);
    addUncalledResultSpans(builder, call, turnSpan, turn, answers);
  });
  return builder.spans;
}

/** The OTLP/JSON ExportTraceServiceRequest (`resourceSpans` → `scopeSpans` → `spans`) of a conversation. */
export function buildConversationTrace(doc: ConversationDoc): Record<string, unknown> {
  const bytes = JsonTraceSerializer.serializeRequest(buildConversationSpans(doc));
  if (!bytes) throw new Error("the OTLP trace serializer produced nothing");
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}
