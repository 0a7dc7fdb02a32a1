/**
 * The parts of a conversation document (`GET /v1/convai/conversations/{id}`, the wire shape of
 * GetConversationResponseModel, snake_case as served) that the conversation page shows. Every
 * field is optional here: documents come from many sources, and the page shows what exists.
 */

/** A tool call an agent turn made. */
export interface ToolCall {
  type?: string | null;
  request_id?: string;
  tool_name?: string;
  params_as_json?: string;
  tool_has_been_called?: boolean;
  tool_details?: Record<string, unknown> | null;
}

/** What a tool answered. */
export interface ToolResult {
  type?: string | null;
  request_id?: string;
  tool_name?: string;
  result_value?: string;
  result?: unknown;
  is_error?: boolean;
  tool_latency_secs?: number | null;
  error_type?: string | null;
  raw_error_message?: string | null;
}

/** One entry of the transcript. */
export interface Turn {
  role?: string;
  message?: string | null;
  time_in_call_secs?: number;
  tool_calls?: ToolCall[] | null;
  tool_results?: ToolResult[] | null;
  interrupted?: boolean | null;
  source_medium?: string | null;
  llm_override?: string | null;
  producing_llm?: string | null;
  conversation_turn_metrics?: {
    metrics?: Record<string, { elapsed_time?: number } | null> | null;
    convai_asr_provider?: string | null;
    convai_tts_model?: string | null;
  } | null;
  llm_usage?: { model_usage?: Record<string, unknown> | null } | null;
}

/** A verdict with its rationale (an evaluation criterion). */
export interface EvaluationResult {
  criteria_id?: string;
  result?: string;
  rationale?: string | null;
}

/** A collected value with its rationale. */
export interface DataCollectionResult {
  data_collection_id?: string;
  value?: unknown;
  rationale?: string | null;
  json_schema?: Record<string, unknown> | null;
}

/** The call's feedback (metadata.feedback). */
export interface Feedback {
  type?: string | null;
  overall_score?: string | null;
  likes?: number | null;
  dislikes?: number | null;
  rating?: number | null;
  comment?: string | null;
}

/** The conversation document, as served. */
export interface ConversationDoc {
  conversation_id: string;
  agent_id?: string;
  agent_name?: string | null;
  status?: string;
  user_id?: string | null;
  transcript?: Turn[] | null;
  metadata?: {
    start_time_unix_secs?: number;
    accepted_time_unix_secs?: number | null;
    call_duration_secs?: number;
    cost?: number | null;
    termination_reason?: string | null;
    main_language?: string | null;
    timezone?: string | null;
    conversation_initiation_source?: string | null;
    authorization_method?: string | null;
    text_only?: boolean | null;
    feedback?: Feedback | null;
    charging?: { llm_charge?: number | null; call_charge?: number | null; tier?: string | null } | null;
    phone_call?: Record<string, unknown> | null;
    error?: { code?: number; reason?: string | null } | null;
    warnings?: string[] | null;
  } | null;
  analysis?: {
    call_successful?: string | null;
    transcript_summary?: string | null;
    call_summary_title?: string | null;
    evaluation_criteria_results?: Record<string, EvaluationResult> | null;
    data_collection_results?: Record<string, DataCollectionResult> | null;
  } | null;
  conversation_initiation_client_data?: {
    dynamic_variables?: Record<string, unknown> | null;
  } | null;
  has_audio?: boolean;
  has_user_audio?: boolean;
  has_response_audio?: boolean;
  tag_ids?: string[] | null;
}

/** A tag as `/v1/convai/tags` serves it. */
export interface ConversationTag {
  tag_id: string;
  title: string;
  description?: string | null;
}

/** `text` pretty-printed when it is JSON; as it is otherwise. */
export function prettyJson(text: string | null | undefined): string {
  if (text === null || text === undefined || text === "") return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A value of any kind as text for a definition list ("—" when empty). */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
