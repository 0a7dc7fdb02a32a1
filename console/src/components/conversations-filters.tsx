/**
 * The conversations list's filters: one control per query parameter of
 * `GET /v1/convai/conversations`, named exactly as the API names it, so the page's URL query is
 * the request's query (a view is shared by its address). Common filters are always shown; the
 * rest sit under "More filters".
 */
import { type KeyboardEvent, type ReactNode, useEffect, useId, useState } from "react";

/** How a filter is edited and kept in the URL. */
type FilterKind =
  /** One text value. */
  | "text"
  /** One number. */
  | "number"
  /** A day, kept as unix seconds (the start of the day, or the end of it for an upper bound). */
  | "date-after"
  | "date-before"
  /** One of a few values. */
  | "choice"
  /** Several ids, typed comma-separated, kept as repeated parameters. */
  | "ids"
  /** Several expressions (which may hold commas), one a line, kept as repeated parameters. */
  | "lines";

/** One filter of the list. */
export interface FilterSpec {
  /** The API's query parameter. */
  name: string;
  label: string;
  kind: FilterKind;
  hint?: string;
  /** For `choice`: the values and their labels ("" = any). */
  options?: readonly { value: string; label: string }[];
  min?: number;
  max?: number;
}

const ANY = { value: "", label: "Any" } as const;
const YES_NO = [ANY, { value: "true", label: "Yes" }, { value: "false", label: "No" }] as const;

/** `call_successful`'s values. */
export const CALL_SUCCESSFUL_OPTIONS = [
  ANY,
  { value: "success", label: "Success" },
  { value: "failure", label: "Failure" },
  { value: "unknown", label: "Unknown" },
  { value: "error", label: "Error (failed calls)" },
] as const;

/** The statuses `exclude_statuses` can name. */
export const STATUSES = ["initiated", "in-progress", "processing", "done", "failed"] as const;

/** A titled group of the "More filters". */
export interface FilterGroup {
  legend: string;
  filters: readonly FilterSpec[];
}

const COMMAS = "Comma-separated";

/** Filters shown under "More filters" (agent, result, dates, search and tags are always shown), by theme. */
export const MORE_FILTER_GROUPS: readonly FilterGroup[] = [
  {
    legend: "Call",
    filters: [
      { name: "call_duration_min_secs", label: "Duration at least (s)", kind: "number", min: 0 },
      { name: "call_duration_max_secs", label: "Duration at most (s)", kind: "number", min: 0 },
      { name: "user_id", label: "User id", kind: "text" },
      { name: "main_languages", label: "Languages", kind: "ids", hint: "Comma-separated codes, e.g. en, es" },
      { name: "text_only", label: "Text only", kind: "choice", options: YES_NO },
      {
        name: "conversation_initiation_source",
        label: "Initiation source",
        kind: "text",
        hint: "e.g. widget, twilio",
      },
      { name: "conversation_product_type", label: "Product", kind: "text" },
      { name: "parent_conversation_id", label: "Parent conversation id", kind: "text" },
    ],
  },
  {
    legend: "Feedback",
    filters: [
      { name: "rating_min", label: "Rating at least", kind: "number", min: 1, max: 5 },
      { name: "rating_max", label: "Rating at most", kind: "number", min: 1, max: 5 },
      { name: "has_feedback_comment", label: "Has a feedback comment", kind: "choice", options: YES_NO },
    ],
  },
  {
    legend: "Tools",
    filters: [
      { name: "tool_names", label: "Tools used", kind: "ids", hint: "Comma-separated tool names" },
      { name: "tool_names_successful", label: "Tools that succeeded", kind: "ids", hint: COMMAS },
      { name: "tool_names_errored", label: "Tools that failed", kind: "ids", hint: COMMAS },
      {
        name: "include_invalid_tool_calls",
        label: "Count invalid tool calls",
        kind: "choice",
        options: YES_NO,
      },
    ],
  },
  {
    legend: "Agents and workflow",
    filters: [
      { name: "visited_agent_ids", label: "Visited agents", kind: "ids", hint: "Comma-separated agent ids" },
      { name: "visited_agent_branch_ids", label: "Visited branches", kind: "ids", hint: COMMAS },
      { name: "branch_id", label: "Branch id", kind: "text" },
      { name: "version_id", label: "Version id", kind: "text" },
      { name: "workflow_node_entered_id", label: "Workflow node entered", kind: "text" },
    ],
  },
  {
    legend: "Outcome and analysis",
    filters: [
      { name: "termination_reasons", label: "Termination reasons", kind: "ids", hint: COMMAS },
      { name: "topic_ids", label: "Topics", kind: "ids", hint: "Comma-separated topic ids" },
      { name: "guardrail_types", label: "Guardrail types", kind: "ids", hint: COMMAS },
      { name: "custom_guardrail_names", label: "Custom guardrails", kind: "ids", hint: COMMAS },
      {
        name: "evaluation_params",
        label: "Evaluation results",
        kind: "lines",
        hint: "One a line: criteria_id:success|failure|unknown",
      },
      {
        name: "data_collection_params",
        label: "Collected data",
        kind: "lines",
        hint: "One a line: id:op:value, op eq, neq, gt, gte, lt, lte or in (values a|b)",
      },
      {
        name: "dynamic_variable_params",
        label: "Dynamic variables",
        kind: "lines",
        hint: "One a line: name:op:value",
      },
    ],
  },
  {
    legend: "What the list shows",
    filters: [
      {
        name: "evaluation_criteria_ids",
        label: "Evaluation results to include",
        kind: "ids",
        hint: "Comma-separated criteria ids",
      },
      { name: "data_collection_ids", label: "Collected data to include", kind: "ids", hint: COMMAS },
      {
        name: "summary_mode",
        label: "Summaries",
        kind: "choice",
        options: [ANY, { value: "include", label: "Include" }, { value: "exclude", label: "Exclude" }],
      },
      {
        name: "sort_direction",
        label: "Order",
        kind: "choice",
        options: [
          { value: "", label: "Newest first" },
          { value: "asc", label: "Oldest first" },
        ],
      },
      {
        name: "page_size",
        label: "Page size",
        kind: "choice",
        options: [
          { value: "", label: "30" },
          { value: "10", label: "10" },
          { value: "50", label: "50" },
          { value: "100", label: "100" },
        ],
      },
    ],
  },
];

/** Every filter under "More filters". */
export const MORE_FILTERS: readonly FilterSpec[] = MORE_FILTER_GROUPS.flatMap((g) => g.filters);

/** Every query parameter the page reads from its URL (a filter, or `search`). */
export const FILTER_NAMES: readonly string[] = [
  "search",
  "agent_id",
  "call_successful",
  "call_start_after_unix",
  "call_start_before_unix",
  "tag_ids",
  "exclude_statuses",
  ...MORE_FILTERS.map((f) => f.name),
];

/** How many of the "More filters" are set (shown on the disclosure). */
export function countMoreFilters(params: URLSearchParams): number {
  let n = 0;
  for (const f of MORE_FILTERS) if (params.getAll(f.name).some((v) => v !== "")) n++;
  if (params.getAll("exclude_statuses").length > 0) n++;
  return n;
}

/** Splits "a, b,c" into ids. */
function splitIds(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Splits one-a-line expressions. */
function splitLines(text: string): string[] {
  return text
    .split("\n")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A unix time as the local day (YYYY-MM-DD) a date input shows. */
function dayOf(unixSecs: string): string {
  const n = Number(unixSecs);
  if (unixSecs === "" || !Number.isFinite(n)) return "";
  const d = new Date(n * 1000);
  const pad = (v: number) => String(v).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A local day's start (or, with `end`, the start of the next day) as unix seconds. */
export function unixOfDay(day: string, end: boolean): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return "";
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (end ? 1 : 0));
  return String(Math.floor(date.getTime() / 1000));
}

/** Sets a parameter's values (none removes it). */
export type SetFilter = (name: string, values: readonly string[]) => void;

/**
 * A text-like input that edits a draft and applies it on Enter or when focus leaves, so typing
 * does not reload the list at every key.
 */
function DraftInput({
  id,
  value,
  onCommit,
  type = "text",
  min,
  max,
  multiline = false,
  describedBy,
}: {
  id: string;
  value: string;
  onCommit: (text: string) => void;
  type?: "text" | "number";
  min?: number;
  max?: number;
  multiline?: boolean;
  describedBy?: string;
}) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  const commit = () => {
    if (draft !== value) onCommit(draft);
  };
  if (multiline) {
    return (
      <textarea
        id={id}
        rows={2}
        value={draft}
        aria-describedby={describedBy}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
      />
    );
  }
  return (
    <input
      id={id}
      type={type}
      min={min}
      max={max}
      step={type === "number" ? "any" : undefined}
      value={draft}
      aria-describedby={describedBy}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={commit}
      onKeyDown={(e: KeyboardEvent<HTMLInputElement>) => {
        if (e.key === "Enter") {
          e.preventDefault();
          commit();
        }
      }}
    />
  );
}

/** One filter's control, labelled, reading and writing the URL's parameter. */
export function FilterControl({
  spec,
  params,
  setFilter,
}: {
  spec: FilterSpec;
  params: URLSearchParams;
  setFilter: SetFilter;
}) {
  const id = useId();
  const hintId = spec.hint ? `${id}-hint` : undefined;
  const values = params.getAll(spec.name);
  const one = values[0] ?? "";
  let control: ReactNode;
  switch (spec.kind) {
    case "choice":
      control = (
        <select id={id} value={one} onChange={(e) => setFilter(spec.name, [e.target.value])}>
          {(spec.options ?? []).map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    case "date-after":
    case "date-before":
      control = (
        <input
          id={id}
          type="date"
          value={dayOf(one)}
          onChange={(e) => setFilter(spec.name, [unixOfDay(e.target.value, spec.kind === "date-before")])}
        />
      );
      break;
    case "ids":
      control = (
        <DraftInput
          id={id}
          value={values.join(", ")}
          describedBy={hintId}
          onCommit={(text) => setFilter(spec.name, splitIds(text))}
        />
      );
      break;
    case "lines":
      control = (
        <DraftInput
          id={id}
          multiline
          value={values.join("\n")}
          describedBy={hintId}
          onCommit={(text) => setFilter(spec.name, splitLines(text))}
        />
      );
      break;
    default:
      control = (
        <DraftInput
          id={id}
          type={spec.kind === "number" ? "number" : "text"}
          min={spec.min}
          max={spec.max}
          value={one}
          describedBy={hintId}
          onCommit={(text) => setFilter(spec.name, [text.trim()])}
        />
      );
  }
  return (
    <div className="field">
      <label htmlFor={id}>{spec.label}</label>
      {control}
      {spec.hint ? (
        <span id={hintId} className="hint">
          {spec.hint}
        </span>
      ) : null}
    </div>
  );
}

/** A group of checkboxes for a list-valued parameter (tags, statuses). */
export function CheckboxFilter({
  name,
  legend,
  choices,
  params,
  setFilter,
}: {
  name: string;
  legend: string;
  choices: readonly { value: string; label: string }[];
  params: URLSearchParams;
  setFilter: SetFilter;
}) {
  const selected = params.getAll(name);
  if (choices.length === 0) return null;
  return (
    <fieldset className="conversations-checks">
      <legend>{legend}</legend>
      {choices.map((c) => (
        <label key={c.value}>
          <input
            type="checkbox"
            checked={selected.includes(c.value)}
            onChange={(e) =>
              setFilter(
                name,
                e.target.checked ? [...selected, c.value] : selected.filter((v) => v !== c.value),
              )
            }
          />{" "}
          {c.label}
        </label>
      ))}
    </fieldset>
  );
}
