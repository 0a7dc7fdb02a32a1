/**
 * One agent, new (`/agents/new`) or stored (`/agents/:agentId`): a form for the fields the live
 * session and post-call analysis read. Create is `POST /v1/convai/agents/create`, save is
 * `PATCH /v1/convai/agents/{id}` (a deep merge: only the keys the form owns are sent, so the rest of
 * the document stays as it was), delete is `DELETE`. The server's 422 issues are shown by the form.
 */
import "./agent-edit.css";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api } from "../api/client";
import {
  type AgentFormState,
  agentBodyOf,
  agentFormOf,
  checkAgentForm,
  emptyAgentForm,
  type FormProblem,
  removedDataFields,
} from "../components/agent-form";
import { CriteriaEditor, DataFieldsEditor, ToolsEditor } from "../components/agent-form-sections";
import { usePageTitle } from "../components/page-title";
import { ErrorLine, Loading } from "../components/status";
import { useApi } from "../components/use-api";

type Json = Record<string, unknown>;

/** What the page is told when it opens right after a create. */
interface CreatedState {
  created?: boolean;
}

export function AgentEditPage() {
  const { agentId } = useParams();
  // A fresh editor per agent: after a create the route changes to the new id.
  return <AgentEditor key={agentId ?? "new"} agentId={agentId} />;
}

function AgentEditor({ agentId }: { agentId: string | undefined }) {
  const loaded = useApi<Json | null>(
    (signal) =>
      agentId
        ? api<Json>("GET", `/v1/convai/agents/${encodeURIComponent(agentId)}`, { signal })
        : Promise.resolve(null),
    [agentId],
  );
  const title = agentId
    ? (typeof loaded.data?.name === "string" && loaded.data.name) || "Agent"
    : "New agent";
  usePageTitle(title);

  if (agentId && loaded.loading && !loaded.data) return <Loading what="the agent" />;
  if (agentId && loaded.error)
    return (
      <>
        <h1>Agent</h1>
        <ErrorLine error={loaded.error} />
        <p>
          <Link to="/agents">Back to the agents</Link>
        </p>
      </>
    );
  return <AgentForm agentId={agentId} stored={loaded.data ?? null} />;
}

interface AgentFormProps {
  agentId: string | undefined;
  stored: Json | null;
}

function AgentForm({ agentId, stored: initial }: AgentFormProps) {
  const navigate = useNavigate();
  const location = useLocation();
  const ids = useId();
  const [stored, setStored] = useState<Json | null>(initial);
  const [form, setForm] = useState<AgentFormState>(() => (initial ? agentFormOf(initial) : emptyAgentForm()));
  const [problems, setProblems] = useState<FormProblem[]>([]);
  const [serverError, setServerError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(
    (location.state as CreatedState | null)?.created ? "Agent created." : null,
  );
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const problemsRef = useRef<HTMLDivElement>(null);
  const deleteRef = useRef<HTMLButtonElement>(null);
  const deleteOpenerRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (confirmDelete) deleteRef.current?.focus();
  }, [confirmDelete]);

  useEffect(() => {
    if ((problems.length > 0 || serverError) && problemsRef.current) problemsRef.current.focus();
  }, [problems, serverError]);

  const set = <K extends keyof AgentFormState>(key: K, value: AgentFormState[K]) => {
    setSaved(null);
    setForm((f) => ({ ...f, [key]: value }));
  };

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaved(null);
    setServerError(null);
    const found = checkAgentForm(form);
    setProblems(found);
    if (found.length > 0) return;
    setBusy(true);
    try {
      const body = agentBodyOf(form);
      if (!agentId) {
        const { agent_id } = await api<{ agent_id: string }>("POST", "/v1/convai/agents/create", {
          json: body,
        });
        navigate(`/agents/${agent_id}`, { state: { created: true } satisfies CreatedState });
        return;
      }
      const path = `/v1/convai/agents/${encodeURIComponent(agentId)}`;
      const platform = body.platform_settings as Json;
      let written: Json;
      if (stored && removedDataFields(stored, form).length > 0) {
        // An update merges objects key by key, so a removed data field is dropped by clearing the
        // object in the checked update, then writing the fields that are left.
        await api<Json>("PATCH", path, {
          json: { ...body, platform_settings: { ...platform, data_collection: null } },
        });
        written = await api<Json>("PATCH", path, {
          json: { platform_settings: { data_collection: platform.data_collection } },
        });
      } else {
        written = await api<Json>("PATCH", path, { json: body });
      }
      setStored(written);
      setSaved("Saved.");
    } catch (e) {
      setServerError(
        `The server did not save the agent: ${e instanceof Error ? e.message : String(e)}. Fix what it names, then save again.`,
      );
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!agentId) return;
    setBusy(true);
    setServerError(null);
    try {
      await api("DELETE", `/v1/convai/agents/${encodeURIComponent(agentId)}`);
      navigate("/agents", { state: { deleted: form.name || agentId } });
    } catch (e) {
      setServerError(`The agent was not deleted: ${e instanceof Error ? e.message : String(e)}`);
      setBusy(false);
    }
  }

  const problemFor = (field: string) => problems.find((p) => p.field === field)?.message;
  const fieldId = (name: string) => `${ids}-${name}`;

  return (
    <div className="agent-edit">
      <p className="agent-breadcrumb">
        <Link to="/agents">Agents</Link>
      </p>
      <div className="agent-edit-heading">
        <h1>{agentId ? (typeof stored?.name === "string" && stored.name) || "Agent" : "New agent"}</h1>
        {agentId && (
          <Link className="agent-talk-link" to={`/agents/${encodeURIComponent(agentId)}/talk`}>
            Talk to this agent
          </Link>
        )}
      </div>
      {agentId && (
        <p className="muted agent-id">
          ID <code>{agentId}</code>
        </p>
      )}
      <form onSubmit={save} noValidate aria-label={agentId ? "Agent settings" : "New agent"}>
        <section className="agent-section" aria-labelledby={fieldId("basics")}>
          <h2 id={fieldId("basics")}>Conversation</h2>
          <div className="field">
            <label htmlFor={fieldId("name")}>Name</label>
            <input id={fieldId("name")} value={form.name} onChange={(e) => set("name", e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={fieldId("prompt")}>Prompt</label>
            <textarea
              id={fieldId("prompt")}
              rows={8}
              value={form.prompt}
              aria-describedby={fieldId("prompt-hint")}
              onChange={(e) => set("prompt", e.target.value)}
            />
            <span id={fieldId("prompt-hint")} className="hint">
              The system prompt the model is given. {"{{name}}"} placeholders are filled from dynamic
              variables.
            </span>
          </div>
          <div className="field">
            <label htmlFor={fieldId("first-message")}>First message</label>
            <textarea
              id={fieldId("first-message")}
              rows={2}
              value={form.firstMessage}
              aria-describedby={fieldId("first-message-hint")}
              onChange={(e) => set("firstMessage", e.target.value)}
            />
            <span id={fieldId("first-message-hint")} className="hint">
              What the agent says first; empty to wait for the user.
            </span>
          </div>
          <div className="field agent-narrow">
            <label htmlFor={fieldId("language")}>Language</label>
            <input
              id={fieldId("language")}
              value={form.language}
              spellCheck={false}
              aria-describedby={fieldId("language-hint")}
              onChange={(e) => set("language", e.target.value)}
            />
            <span id={fieldId("language-hint")} className="hint">
              A language code: en, de, fr…
            </span>
          </div>
        </section>

        <section className="agent-section" aria-labelledby={fieldId("llm-heading")}>
          <h2 id={fieldId("llm-heading")}>Model</h2>
          <div className="agent-row-fields">
            <div className="field">
              <label htmlFor={fieldId("llm")}>LLM</label>
              <input
                id={fieldId("llm")}
                value={form.llm}
                spellCheck={false}
                aria-describedby={fieldId("llm-hint")}
                onChange={(e) => set("llm", e.target.value)}
              />
              <span id={fieldId("llm-hint")} className="hint">
                Empty for the server's model; a name in OPENCONVAI_LLM_MODEL_MAP picks the mapped one.
              </span>
            </div>
            <div className="field">
              <label htmlFor={fieldId("temperature")}>Temperature</label>
              <input
                id={fieldId("temperature")}
                type="number"
                inputMode="decimal"
                min={0}
                max={2}
                step={0.1}
                value={form.temperature}
                aria-invalid={problemFor("temperature") !== undefined}
                aria-describedby={fieldId("temperature-hint")}
                onChange={(e) => set("temperature", e.target.value)}
              />
              <span
                id={fieldId("temperature-hint")}
                className={problemFor("temperature") ? "hint error" : "hint"}
              >
                {problemFor("temperature") ?? "0 to 2; empty for the provider's default."}
              </span>
            </div>
            <div className="field">
              <label htmlFor={fieldId("max-tokens")}>Max tokens</label>
              <input
                id={fieldId("max-tokens")}
                type="number"
                inputMode="numeric"
                step={1}
                value={form.maxTokens}
                aria-invalid={problemFor("max-tokens") !== undefined}
                aria-describedby={fieldId("max-tokens-hint")}
                onChange={(e) => set("maxTokens", e.target.value)}
              />
              <span
                id={fieldId("max-tokens-hint")}
                className={problemFor("max-tokens") ? "hint error" : "hint"}
              >
                {problemFor("max-tokens") ?? "Per reply; empty or -1 for no limit."}
              </span>
            </div>
          </div>
        </section>

        <ToolsEditor tools={form.tools} problems={problems} onChange={(tools) => set("tools", tools)} />
        <CriteriaEditor
          criteria={form.criteria}
          problems={problems}
          onChange={(criteria) => set("criteria", criteria)}
        />
        <DataFieldsEditor
          fields={form.dataFields}
          problems={problems}
          onChange={(fields) => set("dataFields", fields)}
        />

        <section className="agent-section" aria-labelledby={fieldId("auth-heading")}>
          <h2 id={fieldId("auth-heading")}>Access</h2>
          <div className="agent-check">
            <input
              id={fieldId("enable-auth")}
              type="checkbox"
              checked={form.enableAuth}
              aria-describedby={fieldId("enable-auth-hint")}
              onChange={(e) => set("enableAuth", e.target.checked)}
            />
            <label htmlFor={fieldId("enable-auth")}>Require authentication</label>
          </div>
          <p id={fieldId("enable-auth-hint")} className="hint muted">
            Sessions then need a signed URL or an API key (this console uses a signed URL).
          </p>
          <div className="field">
            <label htmlFor={fieldId("allowlist")}>Allowed hosts</label>
            <textarea
              id={fieldId("allowlist")}
              rows={3}
              spellCheck={false}
              value={form.allowlist}
              aria-describedby={fieldId("allowlist-hint")}
              onChange={(e) => set("allowlist", e.target.value)}
            />
            <span id={fieldId("allowlist-hint")} className="hint">
              One hostname a line. When any is listed, a browser may start a session without a key only from
              those sites. Empty: any site.
            </span>
          </div>
        </section>

        <fieldset className="agent-section agent-overrides">
          <legend>Client overrides</legend>
          <p className="hint muted">What a client may change for its own conversation when it starts one.</p>
          {(
            [
              ["prompt", "Allow the prompt"],
              ["firstMessage", "Allow the first message"],
              ["language", "Allow the language"],
              ["voice", "Allow the voice"],
            ] as const
          ).map(([key, label]) => (
            <div className="agent-check" key={key}>
              <input
                id={fieldId(`override-${key}`)}
                type="checkbox"
                checked={form.overrides[key]}
                onChange={(e) => set("overrides", { ...form.overrides, [key]: e.target.checked })}
              />
              <label htmlFor={fieldId(`override-${key}`)}>{label}</label>
            </div>
          ))}
        </fieldset>

        <div className="agent-save" ref={problemsRef} tabIndex={-1}>
          {problems.length > 0 && (
            <div className="error" role="alert">
              <p>The agent was not saved. Fix these first:</p>
              <ul>
                {problems.map((p) => (
                  <li key={p.field}>{p.message}</li>
                ))}
              </ul>
            </div>
          )}
          <ErrorLine error={serverError} />
          <p role="status" className="agent-saved">
            {saved}
          </p>
          <div className="agent-actions">
            <button type="submit" disabled={busy}>
              {agentId ? (busy ? "Saving…" : "Save") : busy ? "Creating…" : "Create agent"}
            </button>
            {agentId && !confirmDelete && (
              <button
                type="button"
                className="secondary"
                disabled={busy}
                ref={deleteOpenerRef}
                onClick={() => setConfirmDelete(true)}
              >
                Delete agent
              </button>
            )}
          </div>
        </div>
      </form>
      {agentId && confirmDelete && (
        <section className="card agent-delete" aria-labelledby={fieldId("delete-heading")}>
          <h2 id={fieldId("delete-heading")}>Delete this agent?</h2>
          <p>Its conversations stay on record. This cannot be undone.</p>
          <div className="agent-actions">
            <button ref={deleteRef} type="button" className="danger" disabled={busy} onClick={remove}>
              Delete
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setConfirmDelete(false);
                // The confirmation goes away with this button: back to the button that opened it.
                requestAnimationFrame(() => deleteOpenerRef.current?.focus());
              }}
            >
              Cancel
            </button>
          </div>
        </section>
      )}
    </div>
  );
}
