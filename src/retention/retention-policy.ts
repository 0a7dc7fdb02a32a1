/**
 * The retention policy, without I/O: what an agent's `platform_settings.privacy` asks for, which
 * rule governs which conversations, and what a partial deletion leaves of a document.
 */
import type { ConversationDoc } from "../domain/conversation.js";

/** The retention fields of an agent's `platform_settings.privacy`. */
export interface PrivacySettings {
  /** Days after the start a conversation expires; "unlimited" for -1 (never); null when unset (the server's default applies). */
  retentionDays: number | "unlimited" | null;
  /** At expiry, delete the audio (and keep the rest, unless `deleteTranscriptAndPii` too). */
  deleteAudio: boolean;
  /** At expiry, delete the transcript and what holds personal data (and keep the rest, unless `deleteAudio` too). */
  deleteTranscriptAndPii: boolean;
  /** Nothing is kept after the call, beyond what the post-call webhooks deliver. */
  zeroRetentionMode: boolean;
  /** The settings govern every conversation of the agent, not only those started after they took effect. */
  applyToExistingConversations: boolean;
}

/** What happens to a conversation when it expires: deleted whole, or only some of its parts. */
export type ExpiryAction = { kind: "delete" } | { kind: "partial"; audio: boolean; transcript: boolean };

/** How one agent's conversations are governed (the ones its settings cover). */
export interface AgentRule {
  agentId: string;
  /** Unix seconds: the settings cover conversations started at or after this; null for all of them. */
  startFrom: number | null;
  /** Days after the start the covered conversations expire; null for never. */
  expireAfterDays: number | null;
  expiry: ExpiryAction;
  /** Covered conversations are deleted once finished and their webhook deliveries are final. */
  zeroRetention: boolean;
}

const SECONDS_PER_DAY = 86_400;

/**
 * The retention fields of an agent document's `platform_settings.privacy`; null when it sets none
 * of them that change anything (no retention rule of its own: the server's default governs).
 * Flags of the wrong type count as unset. `retention_days` must be a whole number: -1 is
 * upstream's "no limit", 1 or more a period in days; anything else (0, a fraction, another
 * negative, not a number) is ignored as if unset, and passed to `onInvalidDays` (for a warning).
 */
export function readPrivacySettings(
  agentJson: string,
  onInvalidDays?: (value: unknown) => void,
): PrivacySettings | null {
  const doc = JSON.parse(agentJson) as Record<string, unknown>;
  const privacy = objectAt(objectAt(doc, "platform_settings"), "privacy");
  if (!privacy) return null;
  const days = privacy.retention_days;
  const retentionDays = validDays(days);
  if (retentionDays === null && days !== undefined && days !== null) onInvalidDays?.(days);
  const settings: PrivacySettings = {
    retentionDays,
    deleteAudio: privacy.delete_audio === true,
    deleteTranscriptAndPii: privacy.delete_transcript_and_pii === true,
    zeroRetentionMode: privacy.zero_retention_mode === true,
    applyToExistingConversations: privacy.apply_to_existing_conversations === true,
  };
  const changesAnything =
    settings.retentionDays !== null ||
    settings.deleteAudio ||
    settings.deleteTranscriptAndPii ||
    settings.zeroRetentionMode;
  return changesAnything ? settings : null;
}

/** -1: "unlimited"; a whole number of days from 1: that; anything else: null (invalid). */
function validDays(value: unknown): number | "unlimited" | null {
  if (value === -1) return "unlimited";
  return typeof value === "number" && Number.isInteger(value) && value >= 1 ? value : null;
}

/** The settings as canonical JSON: equal settings give equal text (what a mark compares). */
export function settingsKey(settings: PrivacySettings): string {
  return JSON.stringify([
    settings.retentionDays,
    settings.deleteAudio,
    settings.deleteTranscriptAndPii,
    settings.zeroRetentionMode,
    settings.applyToExistingConversations,
  ]);
}

/**
 * The rule for an agent whose settings took effect at `effectiveAt` (Unix seconds), given the
 * server's default (`OPENCONVAI_RETENTION_DAYS`, null for forever). Its own `retention_days`
 * wins over the default; without one, the default's period applies with the agent's deletion
 * choices. Neither delete flag set: the conversation is deleted whole at expiry; either set: only
 * those parts are, and the conversation stays.
 */
export function agentRule(
  agentId: string,
  settings: PrivacySettings,
  effectiveAt: number,
  defaultDays: number | null,
): AgentRule {
  const days = settings.retentionDays;
  const partial = settings.deleteAudio || settings.deleteTranscriptAndPii;
  return {
    agentId,
    startFrom: settings.applyToExistingConversations ? null : effectiveAt,
    expireAfterDays: days === "unlimited" ? null : (days ?? defaultDays),
    expiry: partial
      ? { kind: "partial", audio: settings.deleteAudio, transcript: settings.deleteTranscriptAndPii }
      : { kind: "delete" },
    zeroRetention: settings.zeroRetentionMode,
  };
}

/** Unix seconds: conversations that started before this have expired, `days` after their start. */
export function expiryCutoff(nowMs: number, days: number): number {
  return nowMs / 1000 - days * SECONDS_PER_DAY;
}

/** What a partial deletion removed, and when (Unix seconds). */
export interface PartialDeletion {
  audio: boolean;
  transcript: boolean;
  atUnixSecs: number;
}

/**
 * The document after a partial deletion, recorded in `metadata.deletion_settings` as upstream
 * reports it. The transcript goes with what carries personal data: the analysis' summary, title,
 * data-collection values and evaluation rationales, the end user's id, the dynamic variables, the
 * phone numbers. What stays: the agent, times, status, the outcome, costs, the evaluations'
 * results, feedback ratings.
 */
export function applyPartialDeletion(doc: ConversationDoc, deletion: PartialDeletion): ConversationDoc {
  const at = deletion.atUnixSecs;
  const next: ConversationDoc = { ...doc };
  const metadata: Record<string, unknown> = { ...(objectAt(doc, "metadata") ?? {}) };
  const marks: Record<string, unknown> = { ...(objectAt(metadata, "deletion_settings") ?? {}) };
  marks.deletion_time_unix_secs = at;
  if (deletion.transcript) {
    next.transcript = [];
    if ("user_id" in next) next.user_id = null;
    const analysis = objectAt(doc, "analysis");
    if (analysis) next.analysis = stripAnalysis(analysis);
    const clientData = objectAt(doc, "conversation_initiation_client_data");
    if (clientData) {
      next.conversation_initiation_client_data = {
        ...clientData,
        ...("dynamic_variables" in clientData ? { dynamic_variables: {} } : {}),
        ...("user_id" in clientData ? { user_id: null } : {}),
      };
    }
    if ("phone_call" in metadata) metadata.phone_call = null;
    marks.delete_transcript_and_pii = true;
    marks.deleted_transcript_at_time_unix_secs = at;
    marks.deleted_logs_at_time_unix_secs = at;
  }
  if (deletion.audio) {
    marks.delete_audio = true;
    marks.deleted_audio_at_time_unix_secs = at;
  }
  metadata.deletion_settings = marks;
  next.metadata = metadata;
  return next;
}

function stripAnalysis(analysis: Record<string, unknown>): Record<string, unknown> {
  const next: Record<string, unknown> = { ...analysis, transcript_summary: "" };
  if ("call_summary_title" in next) next.call_summary_title = null;
  if ("data_collection_results" in next) next.data_collection_results = {};
  if ("data_collection_results_list" in next) next.data_collection_results_list = [];
  const evaluations = objectAt(analysis, "evaluation_criteria_results");
  if (evaluations) {
    next.evaluation_criteria_results = Object.fromEntries(
      Object.entries(evaluations).map(([key, value]) => [key, withoutRationale(value)]),
    );
  }
  if (Array.isArray(analysis.evaluation_criteria_results_list)) {
    next.evaluation_criteria_results_list = analysis.evaluation_criteria_results_list.map(withoutRationale);
  }
  return next;
}

function withoutRationale(value: unknown): unknown {
  return value !== null && typeof value === "object" && "rationale" in value
    ? { ...value, rationale: "" }
    : value;
}

function objectAt(value: unknown, key: string): Record<string, unknown> | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const inner = (value as Record<string, unknown>)[key];
  return inner !== null && typeof inner === "object" && !Array.isArray(inner)
    ? (inner as Record<string, unknown>)
    : undefined;
}
