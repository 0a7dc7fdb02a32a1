/**
 * How a live session's recorder writes over the stored document after its first write: it sets
 * only what it owns, and keeps everything other writers stored mid-call.
 */

type Json = Record<string, unknown>;

/** The top-level keys of the document the recorder owns; every other key is another writer's. */
const RECORDED_KEYS = [
  "agent_id",
  "conversation_id",
  "status",
  "transcript",
  "conversation_initiation_client_data",
  "user_id",
] as const;

/**
 * The stored document with what the recorder owns set from `recorded`: its keys, and its metadata
 * keys over the stored metadata (feedback counts merged into the stored feedback). Everything
 * another writer stored (feedback over HTTP, tags, an analysis) is kept.
 */
export function mergeRecorded(current: Json, recorded: Json): Json {
  const merged: Json = { ...current };
  for (const key of RECORDED_KEYS) if (key in recorded) merged[key] = recorded[key];
  const stored = (current.metadata as Json | undefined) ?? {};
  const own = recorded.metadata as Json;
  merged.metadata = { ...stored, ...own };
  if (own.feedback !== undefined)
    (merged.metadata as Json).feedback = {
      ...((stored.feedback as Json | undefined) ?? {}),
      ...(own.feedback as Json),
    };
  return merged;
}

/** The stored document with only the end of the call set: status, termination reason, error, duration. */
export function endRecorded(current: Json, recorded: Json): Json {
  const own = recorded.metadata as Json;
  const metadata: Json = { ...((current.metadata as Json | undefined) ?? {}) };
  for (const key of ["termination_reason", "error", "call_duration_secs"])
    if (own[key] !== undefined) metadata[key] = own[key];
  return { ...current, status: recorded.status, metadata };
}
