import { type Attributes, type SpanContext, SpanKind } from "@opentelemetry/api";
import type { ConversationDoc } from "../conversation.js";
import { asNumber, asRecord, asString } from "../json-value.js";
import { sumLlmUsage, toAttributes } from "./span-attributes.js";
import type { TraceBuilder } from "./trace-builder.js";

/** The root span as its children need it: its context and the call's time range (unix seconds). */
export interface CallSpan {
  conversationId: string;
  context: SpanContext;
  start: number;
  end: number;
}

/** Attributes of the call: the conversation, its outcome, analysis, charging and total usage. */
function callAttributes(doc: ConversationDoc, transcript: readonly Record<string, unknown>[]): Attributes {
  const conversationId = String(doc.conversation_id);
  const agentId = asString(doc.agent_id);
  const agentName = asString(doc.agent_name);
  const metadata = asRecord(doc.metadata) ?? {};
  const analysis = asRecord(doc.analysis) ?? {};
  const charging = asRecord(metadata.charging) ?? {};
  const chargingUsage = asRecord(charging.llm_usage) ?? {};
  // Charging's per-category usage is the billed total; without it, the turns' usage is summed.
  const billed = sumLlmUsage([chargingUsage.irreversible_generation, chargingUsage.initiated_generation]);
  const usage = billed.models.length > 0 ? billed : sumLlmUsage(transcript.map((t) => t.llm_usage));
  const tts = asRecord(charging.tts_usage) ?? {};
  const asr = asRecord(charging.asr_usage) ?? {};
  const phone = asRecord(metadata.phone_call) ?? {};
  return toAttributes({
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
}

/**
 * Adds the root span, the call: from `start_time_unix_secs` for `call_duration_secs`, failed
 * when the conversation failed. It is added first: readers that stream spans see the parent
 * before its children.
 */
export function addCallSpan(
  builder: TraceBuilder,
  doc: ConversationDoc,
  transcript: readonly Record<string, unknown>[],
): CallSpan {
  const agentName = asString(doc.agent_name);
  const metadata = asRecord(doc.metadata) ?? {};
  const start = asNumber(metadata.start_time_unix_secs) ?? 0;
  const end = start + Math.max(0, asNumber(metadata.call_duration_secs) ?? 0);
  const failed = doc.status === "failed";
  const context = builder.add({
    path: "call",
    name: agentName !== null ? `invoke_agent ${agentName}` : "invoke_agent",
    kind: SpanKind.SERVER,
    start,
    end,
    attributes: callAttributes(doc, transcript),
    error: failed ? (asString(asRecord(metadata.error)?.reason) ?? "conversation failed") : undefined,
    ok: doc.status === "done",
  });
  return { conversationId: String(doc.conversation_id), context, start, end };
}
