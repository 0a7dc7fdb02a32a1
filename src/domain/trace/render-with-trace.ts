import type { ConversationDoc } from "../conversation.js";
import { type AudioFlags, renderStoredDocument } from "../stored-document.js";
import { buildConversationTrace } from "./conversation-trace.js";

/**
 * Serves a stored document with its OTLP trace in `otlp_traces`: the stored text is kept as it is
 * and the trace appended. A document that arrived with an `otlp_traces` of its own has it
 * replaced, so the answer never holds the key twice.
 */
export function renderWithTrace(json: string, audio: AudioFlags): string {
  const doc = JSON.parse(json) as ConversationDoc;
  const trace = JSON.stringify(buildConversationTrace(doc));
  let base = json;
  if ("otlp_traces" in doc) {
    const { otlp_traces: _replaced, ...rest } = doc;
    base = JSON.stringify(rest);
  }
  const served = renderStoredDocument(base, audio);
  return `${served.slice(0, -1)},"otlp_traces":${trace}}`;
}
