/**
 * Conversations: the list with every filter of `GET /v1/convai/conversations`. The filters are
 * the URL's query, named as the API names them, so a view is shared (and survives a reload) by its
 * address. Pages load by cursor as the end of the table scrolls into view, or with "Load more".
 * Keyboard: "/" goes to the search box; in the table ArrowUp/ArrowDown move between rows and
 * Enter opens one.
 */
import {
  type FocusEvent,
  type KeyboardEvent,
  type MouseEvent,
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
} from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { api } from "../api/client";
import {
  CALL_SUCCESSFUL_OPTIONS,
  CheckboxFilter,
  countMoreFilters,
  FILTER_NAMES,
  FilterControl,
  MORE_FILTER_GROUPS,
  type SetFilter,
  STATUSES,
} from "../components/conversations-filters";
import { useConversationPages } from "../components/conversations-pages";
import { CONVERSATION_COLUMNS, ConversationRow } from "../components/conversations-row";
import { usePageTitle } from "../components/page-title";
import { ErrorLine } from "../components/status";
import { useApi } from "../components/use-api";
import { formatCount } from "../format";
import "./conversations.css";

interface AgentsPage {
  agents: { agent_id: string; name: string }[];
}

interface TagsPage {
  conversation_tags: { tag_id: string; title: string }[];
}

/** True when the key press is meant for a text field (so "/" types a slash there). */
function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}

/** The `notice` another page passed in the navigation's state (e.g. "Conversation … was deleted."). */
function noticeOf(state: unknown): string | null {
  const notice = (state as { notice?: unknown } | null)?.notice;
  return typeof notice === "string" && notice !== "" ? notice : null;
}

/** Ends a message with a full stop if it has no closing punctuation. */
function asSentence(text: string): string {
  return /[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}

export function ConversationsPage() {
  usePageTitle("Conversations");
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const searchId = useId();
  const searchBox = useRef<HTMLInputElement>(null);
  const tbody = useRef<HTMLTableSectionElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const [activeRow, setActiveRow] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);
  const location = useLocation();

  // A notice from the page that sent us here (a deleted conversation) is announced once, and focus
  // goes to the heading (the control pressed is gone with its page). Set after the first render so
  // the status line is in place before its text arrives.
  const [notice, setNotice] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: read the navigation's notice on arrival only.
  useEffect(() => {
    const arrived = noticeOf(location.state);
    if (!arrived) return;
    setNotice(arrived);
    heading.current?.focus();
  }, []);

  // Only the parameters the list understands go to the API (a stray one in the URL would be sent as is).
  const query = useMemo(() => {
    const q = new URLSearchParams();
    for (const [name, value] of params)
      if (FILTER_NAMES.includes(name) && value !== "") q.append(name, value);
    return q.toString();
  }, [params]);
  const filtered = query.length > 0;

  const list = useConversationPages(query);
  const agents = useApi(
    (signal) => api<AgentsPage>("GET", "/v1/convai/agents", { query: { page_size: 100 }, signal }),
    [],
  );
  const tags = useApi(
    (signal) => api<TagsPage>("GET", "/v1/convai/tags", { query: { page_size: 100 }, signal }),
    [],
  );

  // Agents for the select: the configured ones, plus every agent seen in the list (imported
  // conversations often name agents this server does not hold), plus the one filtered on.
  const [seenAgents, setSeenAgents] = useState<ReadonlyMap<string, string>>(new Map());
  useEffect(() => {
    setSeenAgents((before) => {
      let next: Map<string, string> | null = null;
      for (const item of list.items) {
        if (before.has(item.agent_id)) continue;
        next ??= new Map(before);
        next.set(item.agent_id, item.agent_name ?? item.agent_id);
      }
      return next ?? before;
    });
  }, [list.items]);
  const agentOptions = useMemo(() => {
    const names = new Map<string, string>(seenAgents);
    for (const a of agents.data?.agents ?? []) names.set(a.agent_id, a.name || a.agent_id);
    const current = params.get("agent_id");
    if (current && !names.has(current)) names.set(current, current);
    return [...names].sort((a, b) => a[1].localeCompare(b[1]));
  }, [seenAgents, agents.data, params]);

  const tagNames = useMemo(
    () => new Map((tags.data?.conversation_tags ?? []).map((t) => [t.tag_id, t.title] as const)),
    [tags.data],
  );
  const tagChoices = useMemo(() => {
    const choices = (tags.data?.conversation_tags ?? []).map((t) => ({ value: t.tag_id, label: t.title }));
    for (const id of params.getAll("tag_ids")) {
      if (!choices.some((c) => c.value === id)) choices.push({ value: id, label: id });
    }
    return choices;
  }, [tags.data, params]);

  const setFilter: SetFilter = useCallback(
    (name, values) => {
      setParams(
        (before) => {
          const next = new URLSearchParams(before);
          next.delete(name);
          for (const v of values) if (v !== "") next.append(name, v);
          return next;
        },
        { replace: true },
      );
    },
    [setParams],
  );
  const clearFilters = () => setParams(new URLSearchParams(), { replace: true });

  // The search box applies what is typed after a short pause, or at once on Enter.
  const urlSearch = params.get("search") ?? "";
  const [search, setSearch] = useState(urlSearch);
  // What the box itself last wrote to the URL. Such a write never replaces the draft: the user may
  // have typed on since (or ended with a space, which the URL's trimmed value drops). Any other
  // change of the URL (back, a link, clearing the filters) does.
  const written = useRef<string | null>(null);
  const applySearch = useCallback(
    (text: string) => {
      written.current = text.trim();
      setFilter("search", [text.trim()]);
    },
    [setFilter],
  );
  useEffect(() => {
    if (urlSearch === written.current) return;
    written.current = null;
    setSearch(urlSearch);
  }, [urlSearch]);
  useEffect(() => {
    if (search.trim() === urlSearch) return;
    const timer = setTimeout(() => applySearch(search), 400);
    return () => clearTimeout(timer);
  }, [search, urlSearch, applySearch]);

  // "/" anywhere but in a field goes to the search box.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      e.preventDefault();
      searchBox.current?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  // A new query starts the keyboard's row at the top.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on a new query only.
  useEffect(() => setActiveRow(0), [query]);

  // The end of the table in view loads the next page. The observer is made again after each page,
  // so a sentinel still in view (a short page on a tall screen) asks for the next one too. After a
  // failed page it waits: "Try again" asks again (else a failing page would be asked for endlessly).
  const { hasMore, loading, loadMore, items, error } = list;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `items.length` re-arms the observer after a page.
  useEffect(() => {
    const target = sentinel.current;
    // Without IntersectionObserver (an old browser), the "Load more" button pages alone.
    if (!target || !hasMore || loading || error || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) loadMore();
      },
      { rootMargin: "200px" },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [hasMore, loading, error, loadMore, items.length]);

  const rowAt = (index: number) =>
    tbody.current?.querySelector<HTMLTableRowElement>(`tr[data-index="${index}"]`);
  const open = (row: HTMLElement | null | undefined) => {
    const href = row?.dataset.href;
    if (href) navigate(href);
  };
  const onTableKey = (e: KeyboardEvent<HTMLTableSectionElement>) => {
    const row = (e.target as HTMLElement).closest<HTMLTableRowElement>("tr[data-index]");
    if (!row) return;
    const index = Number(row.dataset.index);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = Math.min(items.length - 1, Math.max(0, index + (e.key === "ArrowDown" ? 1 : -1)));
      setActiveRow(next);
      rowAt(next)?.focus();
      if (e.key === "ArrowDown" && next >= items.length - 1) loadMore();
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      const next = e.key === "Home" ? 0 : items.length - 1;
      setActiveRow(next);
      rowAt(next)?.focus();
    } else if (e.key === "Enter" && e.target === row) {
      e.preventDefault();
      open(row);
    }
  };
  const onTableFocus = (e: FocusEvent<HTMLTableSectionElement>) => {
    const index = Number((e.target as HTMLElement).closest<HTMLElement>("tr[data-index]")?.dataset.index);
    if (Number.isInteger(index)) setActiveRow(index);
  };
  const onTableClick = (e: MouseEvent<HTMLTableSectionElement>) => {
    const target = e.target as HTMLElement;
    // A link opens itself (and keeps ctrl-click for a new tab); a click elsewhere on the row opens it too.
    if (target.closest("a")) return;
    if (window.getSelection()?.toString()) return;
    open(target.closest<HTMLTableRowElement>("tr[data-href]"));
  };

  const moreCount = countMoreFilters(params);
  const messagesHref = `/messages${urlSearch ? `?q=${encodeURIComponent(urlSearch)}` : ""}`;
  const empty = !list.loading && !list.error && list.items.length === 0;

  return (
    <div className="conversations-page">
      <h1 ref={heading} tabIndex={-1}>
        Conversations
      </h1>
      <p role="status" className={notice ? "notice" : undefined}>
        {notice}
      </p>
      <search className="conversations-filters" aria-label="Filter conversations">
        <div className="toolbar">
          <div className="field conversations-search">
            <label htmlFor={searchId}>Search</label>
            <input
              id={searchId}
              ref={searchBox}
              type="search"
              value={search}
              placeholder="Words in the transcript or summary"
              aria-keyshortcuts="/"
              onChange={(e) => setSearch(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") {
                  e.preventDefault();
                  applySearch(search);
                }
              }}
            />
          </div>
          <AgentSelect value={params.get("agent_id") ?? ""} options={agentOptions} setFilter={setFilter} />
          <FilterControl
            spec={{
              name: "call_successful",
              label: "Success",
              kind: "choice",
              options: CALL_SUCCESSFUL_OPTIONS,
            }}
            params={params}
            setFilter={setFilter}
          />
          <FilterControl
            spec={{ name: "call_start_after_unix", label: "Started from", kind: "date-after" }}
            params={params}
            setFilter={setFilter}
          />
          <FilterControl
            spec={{ name: "call_start_before_unix", label: "Started until", kind: "date-before" }}
            params={params}
            setFilter={setFilter}
          />
          <CheckboxFilter
            name="tag_ids"
            legend="Tags"
            choices={tagChoices}
            params={params}
            setFilter={setFilter}
          />
        </div>
        <details className="conversations-more" open={moreCount > 0 ? true : undefined}>
          <summary>More filters{moreCount > 0 ? ` (${moreCount} set)` : ""}</summary>
          {MORE_FILTER_GROUPS.map((group) => (
            <fieldset key={group.legend} className="conversations-group">
              <legend>{group.legend}</legend>
              <div className="conversations-more-grid">
                {group.filters.map((spec) => (
                  <FilterControl key={spec.name} spec={spec} params={params} setFilter={setFilter} />
                ))}
                {group.legend === "Call" ? (
                  <CheckboxFilter
                    name="exclude_statuses"
                    legend="Leave out statuses"
                    choices={STATUSES.map((s) => ({ value: s, label: s }))}
                    params={params}
                    setFilter={setFilter}
                  />
                ) : null}
              </div>
            </fieldset>
          ))}
        </details>
        <div className="conversations-actions">
          <Link to={messagesHref}>Search in messages</Link>
          {filtered ? (
            <button type="button" className="secondary" onClick={clearFilters}>
              Clear filters
            </button>
          ) : null}
        </div>
      </search>

      <p className="hint muted conversations-keys">
        Keys: <kbd>/</kbd> search, <kbd>↑</kbd> <kbd>↓</kbd> move between conversations, <kbd>Enter</kbd> open
        one.
      </p>

      <p role="status" className="muted conversations-count">
        {list.loading && list.items.length === 0
          ? "Loading conversations…"
          : list.items.length > 0
            ? `${formatCount(list.items.length)} conversation${list.items.length === 1 ? "" : "s"} shown${list.hasMore ? ", more to load" : ""}.`
            : ""}
      </p>

      {list.error ? (
        <div className="conversations-error">
          <ErrorLine
            error={`Could not load the conversations: ${asSentence(list.error)} Check the filters (or clear them) and try again.`}
          />
          <div className="conversations-actions">
            <button type="button" onClick={list.items.length > 0 ? list.loadMore : list.reload}>
              Try again
            </button>
            {filtered ? (
              <button type="button" className="secondary" onClick={clearFilters}>
                Clear filters
              </button>
            ) : null}
          </div>
        </div>
      ) : null}

      {empty ? (
        <div className="card conversations-empty">
          {filtered ? (
            <>
              <p>No conversations match these filters.</p>
              <button type="button" className="secondary" onClick={clearFilters}>
                Clear filters
              </button>
            </>
          ) : (
            <p>
              No conversations yet. Ingest some (see docs/ingest.md) or talk to an agent, and they appear
              here.
            </p>
          )}
        </div>
      ) : null}

      {list.items.length > 0 ? (
        <div className="table-wrap">
          <table className="conversations-table">
            <caption className="visually-hidden">
              Conversations, newest first unless ordered otherwise
            </caption>
            <thead>
              <tr>
                {CONVERSATION_COLUMNS.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody ref={tbody} onKeyDown={onTableKey} onFocus={onTableFocus} onClick={onTableClick}>
              {list.items.map((item, i) => (
                <ConversationRow
                  key={item.conversation_id}
                  item={item}
                  index={i}
                  focusable={i === Math.min(activeRow, list.items.length - 1)}
                  tagNames={tagNames}
                />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <div ref={sentinel} className="conversations-sentinel" />
      {list.hasMore ? (
        <button
          type="button"
          className="secondary conversations-more-button"
          onClick={list.loadMore}
          disabled={list.loading}
        >
          {list.loading ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </div>
  );
}

/** The agent filter: a select of the known agents. */
function AgentSelect({
  value,
  options,
  setFilter,
}: {
  value: string;
  options: readonly (readonly [string, string])[];
  setFilter: SetFilter;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>Agent</label>
      <select id={id} value={value} onChange={(e) => setFilter("agent_id", [e.target.value])}>
        <option value="">All agents</option>
        {options.map(([agentId, name]) => (
          <option key={agentId} value={agentId}>
            {name === agentId ? agentId : `${name}`}
          </option>
        ))}
      </select>
    </div>
  );
}
