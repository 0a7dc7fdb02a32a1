/**
 * The agents (`GET /v1/convai/agents`, newest first): name, id and creation time, with a link to
 * talk to each and one to edit it; a search by name (in the URL, so a view can be shared) and a
 * "Load more" for the next page.
 */
import "./agents.css";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { Link, useLocation, useSearchParams } from "react-router";
import { api } from "../api/client";
import { usePageTitle } from "../components/page-title";
import { ErrorLine, Loading } from "../components/status";
import { useApi } from "../components/use-api";
import { formatDateTime } from "../format";

/** One agent of the list (the SDK's AgentSummaryResponseModel, as far as the page reads it). */
interface AgentSummary {
  agent_id: string;
  name: string;
  tags: string[];
  created_at_unix_secs: number;
}

interface AgentsPage {
  agents: AgentSummary[];
  next_cursor: string | null;
  has_more: boolean;
}

/** How many agents a page of the list asks for. */
const PAGE_SIZE = 30;

export function AgentsPage() {
  usePageTitle("Agents");
  const searchId = useId();
  const location = useLocation();
  const deleted = (location.state as { deleted?: string } | null)?.deleted;
  const [params, setParams] = useSearchParams();
  const search = params.get("search") ?? "";
  const [draft, setDraft] = useState(search);
  const [more, setMore] = useState<AgentSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  const first = useApi(
    (signal) =>
      api<AgentsPage>("GET", "/v1/convai/agents", { query: { page_size: PAGE_SIZE, search }, signal }),
    [search],
  );

  useEffect(() => {
    setDraft(search);
  }, [search]);

  // A "Load more" still running belongs to the search it was made for: a new search aborts it.
  const moreRequest = useRef<AbortController | null>(null);
  useEffect(() => {
    moreRequest.current?.abort();
    setMore([]);
    setCursor(first.data?.next_cursor ?? null);
  }, [first.data]);
  useEffect(() => () => moreRequest.current?.abort(), []);

  function submit(event: FormEvent) {
    event.preventDefault();
    const next = new URLSearchParams(params);
    if (draft.trim()) next.set("search", draft.trim());
    else next.delete("search");
    setParams(next);
  }

  async function loadMore() {
    if (!cursor) return;
    moreRequest.current?.abort();
    const request = new AbortController();
    moreRequest.current = request;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api<AgentsPage>("GET", "/v1/convai/agents", {
        query: { page_size: PAGE_SIZE, search, cursor },
        signal: request.signal,
      });
      if (request.signal.aborted) return;
      setMore((m) => [...m, ...page.agents]);
      setCursor(page.next_cursor);
    } catch (e) {
      if (request.signal.aborted) return;
      setMoreError(`The next agents did not load: ${e instanceof Error ? e.message : String(e)}. Try again.`);
    } finally {
      if (moreRequest.current === request) setLoadingMore(false);
    }
  }

  const agents = [...(first.data?.agents ?? []), ...more];

  return (
    <div className="agents">
      <div className="agents-heading">
        <h1>Agents</h1>
        <Link className="agents-new" to="/agents/new">
          New agent
        </Link>
      </div>
      {deleted && (
        <p className="notice" role="status">
          Deleted {deleted}.
        </p>
      )}
      <form className="toolbar" aria-label="Search agents" onSubmit={submit}>
        <div className="field">
          <label htmlFor={searchId}>Search by name</label>
          <input id={searchId} type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />
        </div>
        <button type="submit" className="secondary">
          Search
        </button>
      </form>
      {first.loading && !first.data && <Loading what="agents" />}
      <ErrorLine error={first.error} />
      {first.data && agents.length === 0 && (
        <div className="card agents-empty">
          {search ? (
            <p>No agent's name contains “{search}”. Search for another name, or clear the search.</p>
          ) : (
            <>
              <p>
                No agents yet. An agent is a prompt, a first message and its settings; talk to it here, or
                connect any ElevenLabs client to this server.
              </p>
              <p>
                <Link to="/agents/new">Create the first agent</Link>
              </p>
            </>
          )}
        </div>
      )}
      {agents.length > 0 && (
        <div className="table-wrap">
          <table className="agents-table">
            <caption className="visually-hidden">Agents, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">ID</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {agents.map((agent) => {
                const name = agent.name || "Untitled agent";
                const path = `/agents/${encodeURIComponent(agent.agent_id)}`;
                return (
                  <tr key={agent.agent_id}>
                    <td className="agents-name">
                      <Link to={path}>{name}</Link>
                    </td>
                    <td>
                      <code className="agents-id">{agent.agent_id}</code>
                    </td>
                    <td className="agents-created">{formatDateTime(agent.created_at_unix_secs)}</td>
                    <td className="agents-actions">
                      <Link to={`${path}/talk`} aria-label={`Talk to ${name}`}>
                        Talk
                      </Link>
                      <Link to={path} aria-label={`Edit ${name}`}>
                        Edit
                      </Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ErrorLine error={moreError} />
      {cursor && (
        <p>
          <button type="button" className="secondary" disabled={loadingMore} onClick={loadMore}>
            {loadingMore ? "Loading…" : "Load more"}
          </button>
        </p>
      )}
    </div>
  );
}
