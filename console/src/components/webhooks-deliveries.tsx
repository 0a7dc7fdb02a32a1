/**
 * The log of outgoing webhook deliveries (`/v1/workspace/webhooks/deliveries`): filtered by the
 * URL's query (`webhook_id`, `status`, `conversation_id`, and `cursor` for older pages), newest
 * first; a row opens to show every attempt, and "Redeliver" sends a delivery again, after which
 * the log loads again. While a listed pending delivery's next attempt is near, the log refreshes
 * itself every few seconds; one due later wakes the log up when its attempt draws near.
 */
import { type FormEvent, Fragment, useEffect, useId, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { formatDateTime } from "../format";
import { ErrorLine, Loading } from "./status";
import { useApi } from "./use-api";
import { messageOf, type Webhook } from "./webhooks-endpoints";

/** A delivery as the log lists it. */
interface Delivery {
  delivery_id: string;
  webhook_id: string;
  event_type: string;
  conversation_id: string | null;
  agent_id: string | null;
  status: "pending" | "delivered" | "failed" | "cancelled";
  attempts: number;
  max_attempts: number;
  created_at_unix: number;
  next_attempt_at_unix?: number;
  last_status_code: number | null;
  last_error: string | null;
}

interface DeliveryPage {
  deliveries: Delivery[];
  next_cursor: string | null;
  has_more: boolean;
}

/** One attempt of a delivery. */
interface Attempt {
  attempt: number;
  started_at_unix_ms: number;
  url: string;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_head: string | null;
}

type DeliveryDetail = Omit<Delivery, "attempts"> & { attempts: Attempt[] };

const STATUSES = ["pending", "delivered", "failed", "cancelled"] as const;

/** How often the log loads again while a listed pending delivery's next attempt is near. */
const PENDING_REFRESH_MS = 2000;
/** How near (before it is due) a next attempt makes the log refresh every PENDING_REFRESH_MS. */
const NEAR_ATTEMPT_MS = 60_000;
/** The longest wait before loading again while a delivery is pending (a timer's limit is ~24 days). */
const MAX_WAIT_MS = 3_600_000;

/**
 * How long to wait before loading the log again: PENDING_REFRESH_MS while a pending delivery's next
 * attempt is due within NEAR_ATTEMPT_MS (or is not known), else until the soonest one comes that
 * near; null when nothing is pending.
 */
function refreshDelay(deliveries: readonly Delivery[], nowMs: number): number | null {
  let delay: number | null = null;
  for (const d of deliveries) {
    if (d.status !== "pending") continue;
    const untilNear =
      d.next_attempt_at_unix === undefined ? 0 : d.next_attempt_at_unix * 1000 - nowMs - NEAR_ATTEMPT_MS;
    const wait = Math.min(MAX_WAIT_MS, Math.max(PENDING_REFRESH_MS, untilNear));
    delay = delay === null ? wait : Math.min(delay, wait);
  }
  return delay;
}

/** The rows on one page of the log. */
const PAGE_SIZE = 30;

function statusBadge(status: Delivery["status"]): string {
  if (status === "delivered") return "badge success";
  if (status === "failed") return "badge failure";
  if (status === "pending") return "badge warning";
  return "badge";
}

/** The last answer's status code, or the error, or a dash. */
function lastOutcome(d: { last_status_code: number | null; last_error: string | null }): string {
  if (d.last_status_code !== null && d.last_error) return `${d.last_status_code}: ${d.last_error}`;
  if (d.last_status_code !== null) return String(d.last_status_code);
  return d.last_error ?? "—";
}

export function WebhookDeliveries({ webhooks }: { webhooks: Webhook[] }) {
  const id = useId();
  const [params, setParams] = useSearchParams();
  const webhookId = params.get("webhook_id") ?? "";
  const status = params.get("status") ?? "";
  const conversationId = params.get("conversation_id") ?? "";
  const cursor = params.get("cursor") ?? "";
  const [conversationDraft, setConversationDraft] = useState(conversationId);
  const [newer, setNewer] = useState<string[]>([]);
  const [expanded, setExpanded] = useState<string | null>(null);
  const [detailGeneration, setDetailGeneration] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  useEffect(() => setConversationDraft(conversationId), [conversationId]);

  const log = useApi(
    (signal) =>
      api<DeliveryPage>("GET", "/v1/workspace/webhooks/deliveries", {
        query: {
          webhook_id: webhookId,
          status,
          conversation_id: conversationId,
          cursor,
          page_size: PAGE_SIZE,
        },
        signal,
      }),
    [webhookId, status, conversationId, cursor],
  );

  const { reload } = log;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload is a new function each render; the timer follows the data.
  useEffect(() => {
    const delay = refreshDelay(log.data?.deliveries ?? [], Date.now());
    if (delay === null) return;
    const timer = setTimeout(() => {
      reload();
      setDetailGeneration((g) => g + 1);
    }, delay);
    return () => clearTimeout(timer);
  }, [log.data]);

  /** Changes the filters (the URL's query); a new filter starts from the newest page. */
  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    next.delete("cursor");
    setNewer([]);
    setParams(next);
  }

  function goTo(nextCursor: string) {
    const next = new URLSearchParams(params);
    if (nextCursor) next.set("cursor", nextCursor);
    else next.delete("cursor");
    setParams(next);
  }

  function refresh() {
    setMessage(null);
    reload();
    setDetailGeneration((g) => g + 1);
  }

  async function redeliver(delivery: Delivery) {
    setActionError(null);
    setMessage(null);
    try {
      const answer = await api<{ redelivered: number }>(
        "POST",
        `/v1/workspace/webhooks/deliveries/${encodeURIComponent(delivery.delivery_id)}/redeliver`,
      );
      setMessage(
        answer.redelivered > 0
          ? `Delivery ${delivery.delivery_id} queued again and sent now; the log below follows it.`
          : `Delivery ${delivery.delivery_id} was not queued again: it was cancelled, or an attempt is running now. Refresh the log to see its state.`,
      );
      reload();
      setDetailGeneration((g) => g + 1);
    } catch (e) {
      setActionError(`${messageOf(e)} Refresh the log and try again.`);
    }
  }

  function submitConversation(event: FormEvent) {
    event.preventDefault();
    setFilter("conversation_id", conversationDraft.trim());
  }

  const names = new Map(webhooks.map((w) => [w.webhook_id, w.name]));
  const page = log.data;

  return (
    <section aria-labelledby="webhooks-log-heading" className="webhooks-section">
      <h2 id="webhooks-log-heading">Delivery log</h2>
      <div className="toolbar">
        <div className="field">
          <label htmlFor={`${id}-webhook`}>Webhook</label>
          <select
            id={`${id}-webhook`}
            value={webhookId}
            onChange={(e) => setFilter("webhook_id", e.target.value)}
          >
            <option value="">All webhooks</option>
            {webhooks.map((w) => (
              <option key={w.webhook_id} value={w.webhook_id}>
                {w.name}
              </option>
            ))}
            {webhookId && !names.has(webhookId) && <option value={webhookId}>{webhookId}</option>}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select id={`${id}-status`} value={status} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <form className="webhooks-conversation-filter" onSubmit={submitConversation}>
          <div className="field">
            <label htmlFor={`${id}-conversation`}>Conversation ID</label>
            <input
              id={`${id}-conversation`}
              value={conversationDraft}
              spellCheck={false}
              onChange={(e) => setConversationDraft(e.target.value)}
            />
          </div>
          <button type="submit" className="secondary">
            Filter
          </button>
        </form>
        <button type="button" className="secondary" onClick={refresh}>
          Refresh log
        </button>
      </div>
      <p role="status" className="webhooks-status">
        {message}
      </p>
      <ErrorLine error={actionError} />
      {log.error ? (
        <ErrorLine error={`${log.error} Check the filters, then refresh the log.`} />
      ) : page === undefined ? (
        <Loading what="the delivery log" />
      ) : page.deliveries.length === 0 ? (
        <p className="muted">
          {webhookId || status || conversationId
            ? "No deliveries match these filters. Clear a filter to see more."
            : "No deliveries yet. They are queued when a conversation ends and a post-call webhook is chosen above."}
        </p>
      ) : (
        <div className="table-wrap">
          <table className="webhooks-log">
            <caption className="visually-hidden">Webhook deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Queued</th>
                <th scope="col">Event</th>
                <th scope="col">Conversation</th>
                <th scope="col">Webhook</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last response</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {page.deliveries.map((d) => {
                const open = expanded === d.delivery_id;
                const detailId = `${id}-attempts-${d.delivery_id}`;
                return (
                  <Fragment key={d.delivery_id}>
                    <tr className={open ? "selected" : undefined}>
                      <td className="webhooks-nowrap">{formatDateTime(d.created_at_unix)}</td>
                      <td>{d.event_type}</td>
                      <td>
                        {d.conversation_id ? (
                          <Link to={`/conversations/${encodeURIComponent(d.conversation_id)}`}>
                            {d.conversation_id}
                          </Link>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      <td>
                        {names.get(d.webhook_id) ?? <span className="muted">{d.webhook_id} (deleted)</span>}
                      </td>
                      <td>
                        <span className={statusBadge(d.status)}>{d.status}</span>
                        {d.status === "pending" && d.next_attempt_at_unix !== undefined && (
                          <span className="muted webhooks-next">
                            {" "}
                            next {formatDateTime(d.next_attempt_at_unix)}
                          </span>
                        )}
                      </td>
                      <td>
                        {d.attempts} of {d.max_attempts}
                      </td>
                      <td className="webhooks-outcome">{lastOutcome(d)}</td>
                      <td>
                        <div className="webhooks-actions">
                          <button
                            type="button"
                            className="secondary"
                            aria-expanded={open}
                            aria-controls={open ? detailId : undefined}
                            aria-label={`${open ? "Hide" : "Show"} attempts of delivery ${d.delivery_id}`}
                            onClick={() => setExpanded(open ? null : d.delivery_id)}
                          >
                            {open ? "Hide attempts" : "Attempts"}
                          </button>
                          <button
                            type="button"
                            className="secondary"
                            disabled={d.status === "cancelled"}
                            aria-label={`Redeliver delivery ${d.delivery_id}`}
                            onClick={() => void redeliver(d)}
                          >
                            Redeliver
                          </button>
                        </div>
                      </td>
                    </tr>
                    {open && (
                      <tr id={detailId} className="webhooks-detail-row">
                        <td colSpan={8}>
                          <DeliveryAttempts deliveryId={d.delivery_id} generation={detailGeneration} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {page && (cursor || page.has_more) && (
        <nav className="webhooks-paging" aria-label="Delivery log pages">
          <button
            type="button"
            className="secondary"
            disabled={!cursor}
            onClick={() => {
              const previous = newer[newer.length - 1] ?? "";
              setNewer(newer.slice(0, -1));
              goTo(previous);
            }}
          >
            Newer
          </button>
          <button
            type="button"
            className="secondary"
            disabled={!page.has_more || !page.next_cursor}
            onClick={() => {
              setNewer([...newer, cursor]);
              goTo(page.next_cursor ?? "");
            }}
          >
            Older
          </button>
        </nav>
      )}
    </section>
  );
}

/** Every attempt of one delivery, oldest first. */
function DeliveryAttempts({ deliveryId, generation }: { deliveryId: string; generation: number }) {
  const detail = useApi(
    (signal) =>
      api<DeliveryDetail>("GET", `/v1/workspace/webhooks/deliveries/${encodeURIComponent(deliveryId)}`, {
        signal,
      }),
    [deliveryId, generation],
  );
  if (detail.error) return <ErrorLine error={`${detail.error} Refresh the log to try again.`} />;
  if (detail.data === undefined) return <Loading what="the attempts" />;
  const d = detail.data;
  return (
    <div className="webhooks-detail">
      <p className="muted">
        Delivery <code>{d.delivery_id}</code>
        {d.agent_id ? (
          <>
            {" "}
            · agent <code>{d.agent_id}</code>
          </>
        ) : null}
      </p>
      {d.attempts.length === 0 ? (
        <p className="muted">No attempt yet.</p>
      ) : (
        <table>
          <caption className="visually-hidden">Attempts of delivery {d.delivery_id}</caption>
          <thead>
            <tr>
              <th scope="col">Attempt</th>
              <th scope="col">Started</th>
              <th scope="col">Status code</th>
              <th scope="col">Error</th>
              <th scope="col">Latency</th>
              <th scope="col">Answer (first KiB)</th>
            </tr>
          </thead>
          <tbody>
            {d.attempts.map((a) => (
              <tr key={a.attempt}>
                <td>{a.attempt}</td>
                <td className="webhooks-nowrap">{new Date(a.started_at_unix_ms).toLocaleString()}</td>
                <td>{a.status_code ?? "—"}</td>
                <td>{a.error ?? "—"}</td>
                <td className="webhooks-nowrap">{a.latency_ms} ms</td>
                <td>{a.response_head ? <code className="webhooks-head">{a.response_head}</code> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
