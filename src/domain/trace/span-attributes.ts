import type { Attributes } from "@opentelemetry/api";
import { asNumber, asRecord, asString } from "../json-value.js";

/** Longest string attribute value kept; longer ones are cut (a transcript line can be long). */
const MAX_ATTRIBUTE_CHARS = 8192;

/**
 * Builds span attributes in the order given, skipping absent values (null, undefined, empty or
 * mixed arrays, objects) and cutting long strings.
 */
export function toAttributes(values: Record<string, unknown>): Attributes {
  const target: Attributes = {};
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
  return target;
}

/** Token counts summed over LLM usage records, and the models they name (in first-seen order). */
export interface LlmUsageTotals {
  input?: number;
  output?: number;
  models: string[];
}

/** Sums token counts over LlmUsageOutput-shaped objects: `{model_usage: {model: {input, output_total, …}}}`. */
export function sumLlmUsage(usages: unknown[]): LlmUsageTotals {
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
      if (outTokens !== null) output = (output ?? 0) + outTokens;
    }
  }
  return { input, output, models };
}

/** Attributes shared by a tool call span and a tool result. */
export function toolResultAttributes(result: Record<string, unknown>): Record<string, unknown> {
  return {
    "elevenlabs.tool.result_value": asString(result.result_value),
    "elevenlabs.tool.is_error": typeof result.is_error === "boolean" ? result.is_error : undefined,
    "elevenlabs.tool.latency_secs": asNumber(result.tool_latency_secs),
    "elevenlabs.tool.error_type": asString(result.error_type),
    "error.type": result.is_error === true ? (asString(result.error_type) ?? "tool_error") : undefined,
  };
}
