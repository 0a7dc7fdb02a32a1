/**
 * The agent form's list sections: tools (a JSON editor per tool), evaluation criteria and
 * data-collection fields, each with add and remove. Every row is a group named after its place
 * ("Criterion 2"), so its inputs' labels are read with it.
 */
import {
  type CriterionRow,
  DATA_FIELD_TYPES,
  type DataFieldRow,
  type FormProblem,
  newRowKey,
  parseTool,
  TOOL_TEMPLATES,
  type ToolRow,
} from "./agent-form";

/** The problem the form found for a row or an input, if any. */
function problemOf(problems: readonly FormProblem[], field: string): string | undefined {
  return problems.find((p) => p.field === field)?.message;
}

function RowProblem({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} className="error agent-row-problem">
      {message}
    </p>
  );
}

/** Replaces the row with `key` by `change(row)`. */
function updateRow<T extends { key: number }>(rows: T[], key: number, change: Partial<T>): T[] {
  return rows.map((row) => (row.key === key ? { ...row, ...change } : row));
}

export interface ToolsEditorProps {
  tools: ToolRow[];
  problems: readonly FormProblem[];
  onChange: (tools: ToolRow[]) => void;
}

/** `prompt.tools`: one JSON text per tool, checked as it is typed. */
export function ToolsEditor({ tools, problems, onChange }: ToolsEditorProps) {
  return (
    <section className="agent-section" aria-labelledby="agent-tools-heading">
      <h2 id="agent-tools-heading">Tools</h2>
      <p className="muted">
        The tools the agent may call, each as its JSON (the API's shape): <code>webhook</code> tools are
        called by the server, <code>client</code> tools by the page that runs the conversation.
      </p>
      {tools.length === 0 && <p className="muted">No tools.</p>}
      {tools.map((tool, i) => {
        const inputId = `agent-tool-${tool.key}`;
        const parsed = parseTool(tool.json);
        const live = "problem" in parsed ? parsed.problem : undefined;
        const message = problemOf(problems, `tool-${tool.key}`) ?? live;
        return (
          <fieldset key={tool.key} className="agent-row">
            <legend>Tool {i + 1}</legend>
            <div className="field">
              <label htmlFor={inputId}>Tool JSON</label>
              <textarea
                id={inputId}
                className="agent-json"
                spellCheck={false}
                rows={8}
                value={tool.json}
                aria-invalid={message !== undefined}
                aria-describedby={message ? `${inputId}-problem` : undefined}
                onChange={(e) => onChange(updateRow(tools, tool.key, { json: e.target.value }))}
              />
            </div>
            <RowProblem id={`${inputId}-problem`} message={message} />
            <button
              type="button"
              className="secondary"
              aria-label={`Remove tool ${i + 1}`}
              onClick={(event) => {
                keepFocusInSection(event.currentTarget);
                onChange(tools.filter((t) => t.key !== tool.key));
              }}
            >
              Remove
            </button>
          </fieldset>
        );
      })}
      <div className="agent-add-buttons">
        <button
          type="button"
          className="secondary"
          onClick={() =>
            onChange([...tools, { key: newRowKey(), json: JSON.stringify(TOOL_TEMPLATES.webhook, null, 2) }])
          }
        >
          Add webhook tool
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() =>
            onChange([...tools, { key: newRowKey(), json: JSON.stringify(TOOL_TEMPLATES.client, null, 2) }])
          }
        >
          Add client tool
        </button>
      </div>
    </section>
  );
}

export interface CriteriaEditorProps {
  criteria: CriterionRow[];
  problems: readonly FormProblem[];
  onChange: (criteria: CriterionRow[]) => void;
}

/** `platform_settings.evaluation.criteria`: what post-call analysis judges each conversation on. */
export function CriteriaEditor({ criteria, problems, onChange }: CriteriaEditorProps) {
  return (
    <section className="agent-section" aria-labelledby="agent-criteria-heading">
      <h2 id="agent-criteria-heading">Evaluation criteria</h2>
      <p className="muted">Post-call analysis judges each conversation against these goals.</p>
      {criteria.length === 0 && <p className="muted">No criteria.</p>}
      {criteria.map((row, i) => {
        const base = `agent-criterion-${row.key}`;
        const message = problemOf(problems, `criterion-${row.key}`);
        const described = message ? `${base}-problem` : undefined;
        return (
          <fieldset key={row.key} className="agent-row">
            <legend>Criterion {i + 1}</legend>
            <div className="agent-row-fields">
              <div className="field">
                <label htmlFor={`${base}-id`}>ID</label>
                <input
                  id={`${base}-id`}
                  value={row.id}
                  spellCheck={false}
                  aria-describedby={described}
                  onChange={(e) => onChange(updateRow(criteria, row.key, { id: e.target.value }))}
                />
              </div>
              <div className="field">
                <label htmlFor={`${base}-name`}>Name</label>
                <input
                  id={`${base}-name`}
                  value={row.name}
                  aria-describedby={described}
                  onChange={(e) => onChange(updateRow(criteria, row.key, { name: e.target.value }))}
                />
              </div>
            </div>
            <div className="field">
              <label htmlFor={`${base}-goal`}>Goal</label>
              <textarea
                id={`${base}-goal`}
                rows={2}
                value={row.goal}
                aria-describedby={described}
                onChange={(e) => onChange(updateRow(criteria, row.key, { goal: e.target.value }))}
              />
            </div>
            <RowProblem id={`${base}-problem`} message={message} />
            <button
              type="button"
              className="secondary"
              aria-label={`Remove criterion ${i + 1}`}
              onClick={(event) => {
                keepFocusInSection(event.currentTarget);
                onChange(criteria.filter((c) => c.key !== row.key));
              }}
            >
              Remove
            </button>
          </fieldset>
        );
      })}
      <button
        type="button"
        className="secondary"
        onClick={() => onChange([...criteria, { key: newRowKey(), id: "", name: "", goal: "" }])}
      >
        Add criterion
      </button>
    </section>
  );
}

export interface DataFieldsEditorProps {
  fields: DataFieldRow[];
  problems: readonly FormProblem[];
  onChange: (fields: DataFieldRow[]) => void;
}

/** `platform_settings.data_collection`: the values post-call analysis extracts from a conversation. */
export function DataFieldsEditor({ fields, problems, onChange }: DataFieldsEditorProps) {
  return (
    <section className="agent-section" aria-labelledby="agent-data-heading">
      <h2 id="agent-data-heading">Data collection</h2>
      <p className="muted">Values post-call analysis extracts from each conversation.</p>
      {fields.length === 0 && <p className="muted">No data fields.</p>}
      {fields.map((row, i) => {
        const base = `agent-data-${row.key}`;
        const message = problemOf(problems, `data-${row.key}`);
        const described = message ? `${base}-problem` : undefined;
        return (
          <fieldset key={row.key} className="agent-row">
            <legend>Data field {i + 1}</legend>
            <div className="agent-row-fields">
              <div className="field">
                <label htmlFor={`${base}-id`}>ID</label>
                <input
                  id={`${base}-id`}
                  value={row.id}
                  spellCheck={false}
                  aria-describedby={described}
                  onChange={(e) => onChange(updateRow(fields, row.key, { id: e.target.value }))}
                />
              </div>
              <div className="field">
                <label htmlFor={`${base}-type`}>Type</label>
                <select
                  id={`${base}-type`}
                  value={row.type}
                  onChange={(e) => onChange(updateRow(fields, row.key, { type: e.target.value }))}
                >
                  {DATA_FIELD_TYPES.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <div className="field">
              <label htmlFor={`${base}-description`}>Description</label>
              <input
                id={`${base}-description`}
                value={row.description}
                onChange={(e) => onChange(updateRow(fields, row.key, { description: e.target.value }))}
              />
            </div>
            <RowProblem id={`${base}-problem`} message={message} />
            <button
              type="button"
              className="secondary"
              aria-label={`Remove data field ${i + 1}`}
              onClick={(event) => {
                keepFocusInSection(event.currentTarget);
                onChange(fields.filter((f) => f.key !== row.key));
              }}
            >
              Remove
            </button>
          </fieldset>
        );
      })}
      <button
        type="button"
        className="secondary"
        onClick={() => onChange([...fields, { key: newRowKey(), id: "", type: "string", description: "" }])}
      >
        Add data field
      </button>
    </section>
  );
}

/**
 * A removed row takes its Remove button with it: focus goes to the section's add button
 * instead, once the row is gone, so keyboard users stay where they were.
 */
function keepFocusInSection(removeButton: HTMLButtonElement): void {
  const section = removeButton.closest("section");
  requestAnimationFrame(() => {
    const buttons = section?.querySelectorAll<HTMLButtonElement>("button:not([aria-label^='Remove'])");
    buttons?.[buttons.length - 1]?.focus();
  });
}
