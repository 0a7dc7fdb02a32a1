import { NO_NUL_PATTERN } from "../../conversations/validation-issues.js";
import type { ValidationIssue } from "../../domain/errors.js";
import { MAX_ID_LENGTH } from "../../domain/id-length.js";
import type {
  AnyOfCondition,
  CompareOp,
  KeyedCondition,
  ListCursor,
  ListQuery,
} from "../../domain/list-query.js";
import { ValidationFailed } from "../api-error.js";
import { integerParam, numberParam } from "../path-params.js";

// Empty is allowed in a filter (it matches nothing), unlike in a path; U+0000 is not (see ID_SCHEMA).
const ID = { type: "string", maxLength: MAX_ID_LENGTH, pattern: NO_NUL_PATTERN } as const;
const IDS = { type: "array", items: ID, maxItems: 50 } as const;
const EXPRESSIONS = { type: "array", items: { type: "string", maxLength: 1024 }, maxItems: 50 } as const;
const STATUSES = ["initiated", "in-progress", "processing", "done", "failed"] as const;

/** The list endpoint's query string, as the SDK sends it (repeated keys for lists). */
export const listQuerySchema = {
  type: "object",
  properties: {
    cursor: { type: "string", maxLength: 2048 },
    page_size: integerParam({ minimum: 1, maximum: 100, default: 30 }),
    sort_direction: { type: "string", enum: ["asc", "desc"] },
    summary_mode: { type: "string", enum: ["exclude", "include"] },
    agent_id: ID,
    user_id: ID,
    branch_id: ID,
    version_id: ID,
    parent_conversation_id: ID,
    conversation_initiation_source: ID,
    conversation_product_type: ID,
    workflow_node_entered_id: ID,
    call_successful: { type: "string", enum: ["success", "failure", "unknown", "error"] },
    call_start_before_unix: numberParam({}),
    call_start_after_unix: numberParam({}),
    call_duration_min_secs: numberParam({ minimum: 0 }),
    call_duration_max_secs: numberParam({ minimum: 0 }),
    rating_min: numberParam({ minimum: 1, maximum: 5 }),
    rating_max: numberParam({ minimum: 1, maximum: 5 }),
    has_feedback_comment: { type: "boolean" },
    text_only: { type: "boolean" },
    include_invalid_tool_calls: { type: "boolean" },
    search: { type: "string", maxLength: 512 },
    main_languages: IDS,
    exclude_statuses: { type: "array", items: { type: "string", enum: STATUSES }, maxItems: 5 },
    tool_names: IDS,
    tool_names_successful: IDS,
    tool_names_errored: IDS,
    termination_reasons: IDS,
    visited_agent_ids: IDS,
    visited_agent_branch_ids: IDS,
    tag_ids: IDS,
    topic_ids: IDS,
    guardrail_types: IDS,
    custom_guardrail_names: IDS,
    data_collection_ids: IDS,
    evaluation_criteria_ids: IDS,
    evaluation_params: EXPRESSIONS,
    data_collection_params: EXPRESSIONS,
    dynamic_variable_params: EXPRESSIONS,
    triggered_procedure_ids: IDS,
  },
} as const;

/** The list query string after schema validation and coercion. */
export interface ListQueryString {
  cursor?: string;
  page_size: number;
  sort_direction?: "asc" | "desc";
  summary_mode?: "exclude" | "include";
  agent_id?: string;
  user_id?: string;
  branch_id?: string;
  version_id?: string;
  parent_conversation_id?: string;
  conversation_initiation_source?: string;
  conversation_product_type?: string;
  workflow_node_entered_id?: string;
  call_successful?: "success" | "failure" | "unknown" | "error";
  call_start_before_unix?: number;
  call_start_after_unix?: number;
  call_duration_min_secs?: number;
  call_duration_max_secs?: number;
  rating_min?: number;
  rating_max?: number;
  has_feedback_comment?: boolean;
  text_only?: boolean;
  include_invalid_tool_calls?: boolean;
  search?: string;
  main_languages?: string[];
  exclude_statuses?: string[];
  tool_names?: string[];
  tool_names_successful?: string[];
  tool_names_errored?: string[];
  termination_reasons?: string[];
  visited_agent_ids?: string[];
  visited_agent_branch_ids?: string[];
  tag_ids?: string[];
  topic_ids?: string[];
  guardrail_types?: string[];
  custom_guardrail_names?: string[];
  data_collection_ids?: string[];
  evaluation_criteria_ids?: string[];
  evaluation_params?: string[];
  data_collection_params?: string[];
  dynamic_variable_params?: string[];
  triggered_procedure_ids?: string[];
}

/** Filters the SDK can send that this server cannot answer yet: they are refused, never ignored. */
const UNSUPPORTED_FILTERS = {
  triggered_procedure_ids: "conversation documents do not record which procedures were triggered",
} as const;

/** Encodes a cursor: opaque to clients, a position (start time, id) to the server. */
export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.startTime, cursor.conversationId])).toString("base64url");
}

/** Decodes a cursor from `encodeCursor`; undefined if it is not one. */
export function decodeCursor(text: string): ListCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === "number" &&
      typeof value[1] === "string"
    ) {
      return { startTime: value[0], conversationId: value[1] };
    }
  } catch {
    // not a cursor of ours: reported below
  }
  return undefined;
}

const OPS = new Set<CompareOp>(["eq", "neq", "gt", "gte", "lt", "lte", "in"]);
const RESULTS = new Set(["success", "failure", "unknown"]);

/** Parses `id:op:value` expressions; the value may itself contain ':'. */
function parseKeyedConditions(
  name: string,
  expressions: string[] | undefined,
  issues: ValidationIssue[],
): KeyedCondition[] {
  const out: KeyedCondition[] = [];
  (expressions ?? []).forEach((expression, i) => {
    const first = expression.indexOf(":");
    const second = first < 0 ? -1 : expression.indexOf(":", first + 1);
    const key = expression.slice(0, first);
    const op = expression.slice(first + 1, second) as CompareOp;
    const value = expression.slice(second + 1);
    if (first <= 0 || second < 0 || !OPS.has(op)) {
      issues.push({
        loc: ["query", name, i],
        msg: "Expected id:op:value with op one of eq, neq, gt, gte, lt, lte, in",
        type: "value_error",
      });
      return;
    }
    if (["gt", "gte", "lt", "lte"].includes(op) && (value.trim() === "" || !Number.isFinite(Number(value)))) {
      issues.push({
        loc: ["query", name, i],
        msg: `Operator ${op} needs a numeric value`,
        type: "value_error",
      });
      return;
    }
    out.push({ key, op, values: op === "in" ? value.split("|") : [value] });
  });
  return out;
}

/** Turns the validated query string into a domain list query, or throws a 422. */
export function toListQuery(q: ListQueryString): ListQuery {
  const issues: ValidationIssue[] = [];
  for (const [name, why] of Object.entries(UNSUPPORTED_FILTERS)) {
    if (q[name as keyof ListQueryString] !== undefined) {
      issues.push({
        loc: ["query", name],
        msg: `Filter ${name} is not supported by this server: ${why}`,
        type: "unsupported_filter",
      });
    }
  }
  let cursor: ListCursor | null = null;
  if (q.cursor !== undefined && q.cursor !== "") {
    cursor = decodeCursor(q.cursor) ?? null;
    if (!cursor) issues.push({ loc: ["query", "cursor"], msg: "Invalid cursor", type: "value_error" });
  }
  const evaluations: { key: string; value: string }[] = [];
  (q.evaluation_params ?? []).forEach((expression, i) => {
    const at = expression.lastIndexOf(":");
    const value = expression.slice(at + 1);
    if (at <= 0 || !RESULTS.has(value)) {
      issues.push({
        loc: ["query", "evaluation_params", i],
        msg: "Expected criteria_id:result with result one of success, failure, unknown",
        type: "value_error",
      });
      return;
    }
    evaluations.push({ key: expression.slice(0, at), value });
  });
  const dataCollection = parseKeyedConditions("data_collection_params", q.data_collection_params, issues);
  const dynamicVariables = parseKeyedConditions("dynamic_variable_params", q.dynamic_variable_params, issues);
  if (issues.length > 0) throw new ValidationFailed(issues);

  const anyOf: AnyOfCondition[] = [];
  const addAnyOf = (kind: AnyOfCondition["kind"], values: string[] | undefined) => {
    if (values && values.length > 0) anyOf.push({ kind, values });
  };
  addAnyOf(q.include_invalid_tool_calls ? "tool_any" : "tool", q.tool_names);
  addAnyOf("tool_ok", q.tool_names_successful);
  addAnyOf("tool_err", q.tool_names_errored);
  addAnyOf("termination_reason", q.termination_reasons);
  addAnyOf("visited_agent", q.visited_agent_ids);
  addAnyOf("visited_branch", q.visited_agent_branch_ids);
  addAnyOf("tag", q.tag_ids);
  addAnyOf("topic", q.topic_ids);
  addAnyOf("guardrail_type", q.guardrail_types);
  addAnyOf("guardrail_name", q.custom_guardrail_names);
  addAnyOf(
    "workflow_node",
    q.workflow_node_entered_id !== undefined ? [q.workflow_node_entered_id] : undefined,
  );

  const query: ListQuery = {
    pageSize: q.page_size,
    cursor,
    direction: q.sort_direction ?? "desc",
    anyOf,
    evaluations,
    dataCollection,
    dynamicVariables,
  };
  const set = <K extends keyof ListQuery>(key: K, value: ListQuery[K] | undefined) => {
    if (value !== undefined) query[key] = value;
  };
  set("agentId", q.agent_id);
  set("userId", q.user_id);
  set("branchId", q.branch_id);
  set("versionId", q.version_id);
  set("parentConversationId", q.parent_conversation_id);
  set("initiationSource", q.conversation_initiation_source);
  set("conversationProduct", q.conversation_product_type);
  set("startBefore", q.call_start_before_unix);
  set("startAfter", q.call_start_after_unix);
  set("durationMin", q.call_duration_min_secs);
  set("durationMax", q.call_duration_max_secs);
  set("ratingMin", q.rating_min);
  set("ratingMax", q.rating_max);
  set("hasFeedbackComment", q.has_feedback_comment);
  set("textOnly", q.text_only);
  set("mainLanguages", q.main_languages);
  set("excludeStatuses", q.exclude_statuses);
  set("search", q.search?.trim() === "" ? undefined : q.search);
  if (q.call_successful === "error") {
    // compat: `error` is a filter-only value; stored analyses say success|failure|unknown.
    // We read it as "the call errored": analysis says "error", or the conversation failed.
    query.callSuccessful = ["error"];
    query.callFailedStatus = true;
  } else if (q.call_successful !== undefined) {
    query.callSuccessful = [q.call_successful];
  }
  return query;
}
