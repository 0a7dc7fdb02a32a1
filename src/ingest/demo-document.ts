/**
 * How a demo conversation's document is built from its description in the data file
 * (demo-data/demo-conversations.json): the wire shape the API serves, with the parts every
 * document has in common (turn metrics, tool call and result entries, deletion settings,
 * charging, client data) filled in here.
 */
import type { ConversationDoc } from "../domain/conversation.js";

/** A tool the agent uses: the call, then its result one turn later. */
export interface ToolUse {
  name: string;
  type: "webhook" | "system";
  params: Record<string, unknown>;
  /** What the tool answered; for system tools, the `result` object (with its `result_type`). */
  result: Record<string, unknown>;
  latency: number;
  /** Set when the tool failed: its error type and raw message. */
  error?: { type: string; message: string };
  url?: string;
  method?: string;
}

/** One step of a demo transcript: a spoken line, or a tool use by the agent. */
export type Step = [role: "agent" | "user", atSecs: number, message: string] | { at: number; tool: ToolUse };

/** An analysis verdict: of the call, or of one evaluation criterion. */
export type Verdict = "success" | "failure" | "unknown";

/** One demo conversation as the data file describes it; the document is built from it. */
export interface DemoSpec {
  /** The conversation's number: its id is `conv_demo_<nn>`, and it seeds the turn timings. */
  n: number;
  /** The agent's id. */
  agent: string;
  minutesAgo: number;
  language: string;
  timezone: string;
  userId: string | null;
  source: string;
  duration: number;
  steps: Step[];
  callSuccessful: Verdict;
  title: string;
  summary: string;
  evaluations: Record<string, [Verdict, string]>;
  data: Record<string, [unknown, string]>;
  dynamicVariables: Record<string, string | number | boolean>;
  termination: string;
  feedback?: { rating: number; comment: string | null };
  phoneCall?: Record<string, unknown>;
  status?: string;
  extra?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

const demoId = (n: number) => `conv_demo_${String(n).padStart(2, "0")}`;

/** Turn timings that look real and are the same on every run (`seed` picks them). */
function turnMetrics(seed: number): Record<string, unknown> {
  const t = (k: number) => Math.round((0.18 + ((seed * 37 + k * 11) % 47) / 100) * 1000) / 1000;
  return {
    metrics: {
      convai_llm_service_ttfb: { elapsed_time: t(1) },
      convai_llm_service_ttf_sentence: { elapsed_time: t(2) + 0.2 },
      convai_tts_service_ttfb: { elapsed_time: t(3) / 2 },
    },
  };
}

/** The transcript: a spoken step is one entry; a tool use is its call, then its result one turn later. */
function buildTranscript(spec: DemoSpec): Record<string, unknown>[] {
  const transcript: Record<string, unknown>[] = [];
  let agentId = spec.agent;
  let requests = 0;
  for (const step of spec.steps) {
    if (Array.isArray(step)) {
      const [role, at, message] = step;
      const entry: Record<string, unknown> = {
        role,
        message,
        tool_calls: [],
        tool_results: [],
        feedback: null,
        time_in_call_secs: at,
        interrupted: false,
        source_medium: role === "user" ? "audio" : null,
      };
      if (role === "agent") {
        entry.agent_metadata = { agent_id: agentId, branch_id: null, workflow_node_id: null };
        entry.conversation_turn_metrics = turnMetrics(spec.n * 100 + at);
      }
      transcript.push(entry);
      continue;
    }
    const { at, tool } = step;
    requests++;
    const requestId = `${tool.name}_${spec.n}_${requests}`;
    const details =
      tool.type === "webhook"
        ? {
            type: "webhook",
            method: tool.method ?? "POST",
            url: tool.url ?? "",
            headers: { "content-type": "application/json" },
            body: tool.method === "GET" ? null : JSON.stringify(tool.params),
          }
        : null;
    const result: Record<string, unknown> = {
      type: tool.type,
      request_id: requestId,
      tool_name: tool.name,
      result_value: JSON.stringify(tool.result),
      is_error: tool.error !== undefined,
      tool_has_been_called: true,
      tool_latency_secs: tool.latency,
      error_type: tool.error?.type ?? null,
      raw_error_message: tool.error?.message ?? null,
    };
    if (tool.type === "system") result.result = tool.result;
    transcript.push(
      {
        role: "agent",
        message: null,
        agent_metadata: { agent_id: agentId, branch_id: null, workflow_node_id: null },
        tool_calls: [
          {
            type: tool.type,
            request_id: requestId,
            tool_name: tool.name,
            params_as_json: JSON.stringify(tool.params),
            tool_has_been_called: true,
            tool_details: details,
          },
        ],
        tool_results: [],
        feedback: null,
        time_in_call_secs: at,
      },
      {
        role: "agent",
        message: null,
        agent_metadata: { agent_id: agentId, branch_id: null, workflow_node_id: null },
        tool_calls: [],
        tool_results: [result],
        feedback: null,
        time_in_call_secs: at + Math.ceil(tool.latency),
      },
    );
    if (tool.result.result_type === "transfer_to_agent_success") agentId = String(tool.result.to_agent);
  }
  return transcript;
}

/** Builds a demo conversation's document, starting `spec.minutesAgo` minutes before `nowUnixSecs`. */
export function buildDemoDocument(spec: DemoSpec, agentName: string, nowUnixSecs: number): ConversationDoc {
  const id = demoId(spec.n);
  const start = nowUnixSecs - spec.minutesAgo * 60;
  const phone = spec.phoneCall !== undefined;
  const metadata: Record<string, unknown> = {
    start_time_unix_secs: start,
    accepted_time_unix_secs: start,
    call_duration_secs: spec.duration,
    cost: spec.duration * 11,
    deletion_settings: {
      deletion_time_unix_secs: null,
      deleted_logs_at_time_unix_secs: null,
      deleted_audio_at_time_unix_secs: null,
      deleted_transcript_at_time_unix_secs: null,
      delete_transcript_and_pii: false,
      delete_audio: false,
    },
    feedback: spec.feedback
      ? {
          type: "rating",
          overall_score: null,
          likes: 0,
          dislikes: 0,
          rating: spec.feedback.rating,
          comment: spec.feedback.comment,
        }
      : { type: null, overall_score: null, likes: 0, dislikes: 0, rating: null, comment: null },
    authorization_method: phone ? "authorization_header" : "signed_url",
    charging: {
      dev_discount: false,
      tier: "pro",
      llm_charge: spec.duration * 2,
      call_charge: spec.duration * 9,
    },
    phone_call: spec.phoneCall ?? null,
    termination_reason: spec.termination,
    main_language: spec.language,
    text_only: false,
    conversation_initiation_source: spec.source,
    timezone: spec.timezone,
    ...spec.metadata,
  };
  const evaluation_criteria_results: Record<string, unknown> = {};
  for (const [criterion, [result, rationale]] of Object.entries(spec.evaluations)) {
    evaluation_criteria_results[criterion] = { criteria_id: criterion, result, rationale };
  }
  const data_collection_results: Record<string, unknown> = {};
  for (const [field, [value, rationale]] of Object.entries(spec.data)) {
    data_collection_results[field] = { data_collection_id: field, value, rationale };
  }
  return {
    agent_id: spec.agent,
    agent_name: agentName,
    conversation_id: id,
    status: spec.status ?? "done",
    user_id: spec.userId,
    branch_id: null,
    version_id: null,
    transcript: buildTranscript(spec),
    metadata,
    analysis: {
      evaluation_criteria_results,
      data_collection_results,
      call_successful: spec.callSuccessful,
      transcript_summary: spec.summary,
      call_summary_title: spec.title,
    },
    conversation_initiation_client_data: {
      conversation_config_override: { agent: { language: spec.language } },
      custom_llm_extra_body: {},
      user_id: spec.userId,
      source_info: { source: spec.source, version: phone ? null : "0.9.2" },
      dynamic_variables: {
        ...spec.dynamicVariables,
        system__agent_id: spec.agent,
        system__conversation_id: id,
        system__time_utc: new Date(start * 1000).toISOString(),
        system__timezone: spec.timezone,
      },
    },
    ...spec.extra,
  };
}
