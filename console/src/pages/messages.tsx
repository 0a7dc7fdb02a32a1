/**
 * Message search: words in any transcript message, through
 * `GET /v1/convai/conversations/messages/text-search`. The query is the URL's `q` (the agent filter
 * and order are `agent_id` and `sort_by`), so a search is shared by its address. Each result shows
 * the message with its matches marked, who said it, when in the call, and its conversation.
 */
import { type FormEvent, useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { usePageTitle } from "../components/page-title";
import { ErrorLine } from "../components/status";
import { useApi } from "../components/use-api";
import { formatDateTime, formatDuration } from "../format";
import "./messages.css";

/** One result of the search (MessagesSearchResult). */
interface MessageResult {
  conversation_id: string;
  agent_id: string;
  agent_name: string | null;
  transcript_index: number;
  chunk_text: string;
  chunk_highlights: { value: string; is_hit: boolean }[] | null;
  score: number;
  conversation_start_time_unix_secs: number;
}

/** A page of results (MessagesSearchResponse). */
interface MessageResultsPage {
  results: MessageResult[];
  has_more: boolean;
  next_cursor: string | null;
}

/** What a result's message is, read from its conversation (the search result does not carry it). */
interface MessageFacts {
  role: string;
  timeInCallSecs: number | null;
}

interface ConversationDoc {
  transcript?: { role?: string; time_in_call_secs?: number }[];
}

interface AgentsPage {
  agents: { agent_id: string; name: string }[];
}

const SEARCH_PATH = "/v1/convai/conversations/messages/text-search";
const PAGE_SIZE = 20;

/** The message's text with the matched words marked. */
function Highlighted({ result }: { result: MessageResult }) {
  const segments = result.chunk_highlights;
  if (!segments || segments.length === 0) return <>{result.chunk_text}</>;
  return (
    <>
      {segments.map((s, i) =>
        // biome-ignore lint/suspicious/noArrayIndexKey: segments are fixed for a result and never reorder.
        s.is_hit ? <mark key={i}>{s.value}</mark> : <span key={i}>{s.value}</span>,
      )}
    </>
  );
}

export function MessagesPage() {
  usePageTitle("Message search");
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const agentId = params.get("agent_id") ?? "";
  const sortBy = params.get("sort_by") ?? "";
  const queryId = useId();
  const agentSelectId = useId();
  const sortId = useId();
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);

  const [results, setResults] = useState<MessageResult[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [searched, setSearched] = useState(false);
  const [facts, setFacts] = useState<ReadonlyMap<string, MessageFacts>>(new Map());
  const inFlight = useRef<AbortController | null>(null);
  const known = useRef(new Set<string>());
  // Agents seen in results so far, kept when a new search (say, for one agent) replaces them.
  const seenAgents = useRef(new Map<string, string>());

  const agents = useApi(
    (signal) => api<AgentsPage>("GET", "/v1/convai/agents", { query: { page_size: 100 }, signal }),
    [],
  );

  const fetchPage = useCallback(
    (after: string | null) => {
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      setLoading(true);
      setError(null);
      api<MessageResultsPage>("GET", SEARCH_PATH, {
        query: {
          text_query: q,
          agent_id: agentId,
          sort_by: sortBy,
          page_size: PAGE_SIZE,
          cursor: after,
        },
        signal: controller.signal,
      }).then(
        (page) => {
          if (controller.signal.aborted) return;
          inFlight.current = null;
          setResults((before) => (after ? [...before, ...page.results] : page.results));
          setCursor(page.has_more ? page.next_cursor : null);
          setLoading(false);
          setSearched(true);
        },
        (e: unknown) => {
          if (controller.signal.aborted) return;
          inFlight.current = null;
          setError(e instanceof Error ? e.message : String(e));
          setLoading(false);
        },
      );
    },
    [q, agentId, sortBy],
  );

  useEffect(() => {
    setResults([]);
    setCursor(null);
    setSearched(false);
    setError(null);
    if (q.trim() === "") return;
    fetchPage(null);
    return () => inFlight.current?.abort();
  }, [q, fetchPage]);

  // Who said each message and when: read once per conversation on the page, after the results show.
  // A conversation counts as known only once read (a failed read is tried again with the next
  // results); new results or leaving the page abort the reads under way.
  useEffect(() => {
    const controller = new AbortController();
    const wanted = [...new Set(results.map((r) => r.conversation_id))].filter((id) => !known.current.has(id));
    for (const id of wanted) {
      api<ConversationDoc>("GET", `/v1/convai/conversations/${encodeURIComponent(id)}`, {
        signal: controller.signal,
      }).then(
        (doc) => {
          known.current.add(id);
          setFacts((before) => {
            const next = new Map(before);
            (doc.transcript ?? []).forEach((entry, index) => {
              next.set(`${id}#${index}`, {
                role: entry.role ?? "—",
                timeInCallSecs: typeof entry.time_in_call_secs === "number" ? entry.time_in_call_secs : null,
              });
            });
            return next;
          });
        },
        () => {
          // The message still shows; only its speaker and time stay unknown.
        },
      );
    }
    return () => controller.abort();
  }, [results]);

  // The configured agents, the agents of the results (imported conversations may name others),
  // and the one filtered on.
  const agentOptions = useMemo(() => {
    for (const r of results) seenAgents.current.set(r.agent_id, r.agent_name ?? r.agent_id);
    const names = new Map(seenAgents.current);
    for (const a of agents.data?.agents ?? []) names.set(a.agent_id, a.name || a.agent_id);
    if (agentId && !names.has(agentId)) names.set(agentId, agentId);
    return [...names].sort((a, b) => a[1].localeCompare(b[1]));
  }, [results, agents.data, agentId]);

  const setParam = (name: string, value: string) => {
    setParams(
      (before) => {
        const next = new URLSearchParams(before);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: name !== "q" },
    );
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setParam("q", draft.trim());
  };

  return (
    <div className="messages-page">
      <h1>Message search</h1>
      <search aria-label="Search messages">
        <form className="toolbar" onSubmit={submit}>
          <div className="field messages-query">
            <label htmlFor={queryId}>Words in messages</label>
            <input id={queryId} type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={agentSelectId}>Agent</label>
            <select id={agentSelectId} value={agentId} onChange={(e) => setParam("agent_id", e.target.value)}>
              <option value="">All agents</option>
              {agentOptions.map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={sortId}>Order</label>
            <select id={sortId} value={sortBy} onChange={(e) => setParam("sort_by", e.target.value)}>
              <option value="">Best match first</option>
              <option value="created_at">Newest first</option>
            </select>
          </div>
          <button type="submit">Search</button>
        </form>
      </search>
      <p className="muted">
        <Link to="/conversations">Back to conversations</Link>
      </p>

      <p role="status" className="muted">
        {loading && results.length === 0
          ? "Searching…"
          : searched
            ? results.length === 0
              ? `No message contains “${q}”. Try fewer or other words, or another agent.`
              : `${results.length} message${results.length === 1 ? "" : "s"} shown${cursor ? ", more to load" : ""}.`
            : q === ""
              ? "Type words to find the messages that contain them."
              : ""}
      </p>
      {error ? (
        <>
          <ErrorLine
            error={`The search failed: ${/[.!?]$/.test(error) ? error : `${error}.`} Change the words and search again.`}
          />
          <button type="button" onClick={() => fetchPage(results.length > 0 ? cursor : null)}>
            Try again
          </button>
        </>
      ) : null}

      {results.length > 0 ? (
        <ol className="messages-results">
          {results.map((r) => {
            const fact = facts.get(`${r.conversation_id}#${r.transcript_index}`);
            return (
              <li
                key={`${r.conversation_id}#${r.transcript_index}#${r.chunk_text.slice(0, 24)}`}
                className="card"
              >
                <p className="messages-text">
                  <Highlighted result={r} />
                </p>
                <p className="messages-meta muted">
                  <span className="badge messages-role">{fact?.role ?? "…"}</span>{" "}
                  <span>at {fact ? formatDuration(fact.timeInCallSecs) : "…"} in the call</span>
                  {" · "}
                  <Link to={`/conversations/${encodeURIComponent(r.conversation_id)}`}>
                    {r.agent_name ?? r.agent_id}, {formatDateTime(r.conversation_start_time_unix_secs)}
                  </Link>
                </p>
              </li>
            );
          })}
        </ol>
      ) : null}
      {cursor ? (
        <button type="button" className="secondary" onClick={() => fetchPage(cursor)} disabled={loading}>
          {loading ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </div>
  );
}
