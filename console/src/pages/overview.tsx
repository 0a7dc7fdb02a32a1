/**
 * Overview, the first page after sign-in: how the finished conversations of a period went, for
 * one agent or all: headline figures, then charts (each with its numbers as a table). The period
 * and the agent are the URL's query (`?agent_id=&date_from=&date_to=`), so a view can be shared.
 * Figures come from `GET /v1/convai/analytics/overview`; chart.js loads after the first paint.
 */
import { useEffect } from "react";
import { useSearchParams } from "react-router";
import { api } from "../api/client";
import { OverviewCards } from "../components/overview-cards";
import { loadChartJs } from "../components/overview-chart";
import { OverviewCharts } from "../components/overview-charts";
import { type AgentChoice, daysBefore, OverviewControls } from "../components/overview-controls";
import type { Overview } from "../components/overview-types";
import { usePageTitle } from "../components/page-title";
import { ErrorLine, Loading } from "../components/status";
import { useApi } from "../components/use-api";
import { isoDate } from "../format";
import "./overview.css";

/** The period shown when the URL names none: the last 30 days ending today. */
const DEFAULT_DAYS = 30;
/** The longest period the server answers for. */
const MAX_DAYS = 366;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** An agent as the agents list gives it (the part used here). */
interface AgentSummary {
  agent_id: string;
  name?: string | null;
}

/** True when `date` is a real day written `YYYY-MM-DD`. */
function isDay(date: string): boolean {
  return DATE.test(date) && Number.isFinite(Date.parse(`${date}T00:00:00Z`));
}

/** What is wrong with a period, in words saying what to do; null when it is fine. */
function periodProblem(dateFrom: string, dateTo: string): string | null {
  if (!isDay(dateFrom) || !isDay(dateTo)) return "Pick both a start and an end day.";
  if (dateFrom > dateTo) return "The start day is after the end day: pick a start on or before the end.";
  const days = (Date.parse(dateTo) - Date.parse(dateFrom)) / 86_400_000 + 1;
  if (days > MAX_DAYS) return `Pick a period of at most ${MAX_DAYS} days.`;
  return null;
}

export function OverviewPage() {
  usePageTitle("Overview");
  // The charts' library loads while the numbers do, not after them.
  useEffect(() => {
    void loadChartJs();
  }, []);
  const [params, setParams] = useSearchParams();
  const today = isoDate(new Date());
  const agentId = params.get("agent_id") ?? "";
  const dateTo = params.get("date_to") ?? today;
  // An end that is not a day (`?date_to=abc`) gives no default start: the period problem says so.
  const dateFrom = params.get("date_from") ?? (isDay(dateTo) ? daysBefore(dateTo, DEFAULT_DAYS - 1) : "");
  const problem = periodProblem(dateFrom, dateTo);

  const agents = useApi(
    (signal) =>
      api<{ agents: AgentSummary[] }>("GET", "/v1/convai/agents", { query: { page_size: 100 }, signal }),
    [],
  );
  const choices: AgentChoice[] = (agents.data?.agents ?? []).map((a) => ({
    agentId: a.agent_id,
    name: a.name || a.agent_id,
  }));

  const overview = useApi(
    (signal) =>
      problem
        ? Promise.resolve(undefined)
        : api<Overview>("GET", "/v1/convai/analytics/overview", {
            query: { agent_id: agentId, date_from: dateFrom, date_to: dateTo },
            signal,
          }),
    [agentId, dateFrom, dateTo, problem],
  );

  /** Changes the query, keeping what is not named; "" removes a parameter. */
  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    setParams(next);
  };

  const data = problem ? undefined : overview.data;
  const agentName = choices.find((c) => c.agentId === agentId)?.name ?? agentId;

  return (
    <div className="overview">
      <h1>Overview</h1>
      <OverviewControls
        dateFrom={dateFrom}
        dateTo={dateTo}
        today={today}
        agentId={agentId}
        agents={choices}
        agentsError={agents.error}
        onPeriod={(from, to) => update({ date_from: from, date_to: to })}
        onAgent={(id) => update({ agent_id: id })}
      />
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : null}
      <ErrorLine
        error={
          overview.error ? `${overview.error} Change the period or the agent, or reload the page.` : null
        }
      />
      {!problem && overview.loading && !data ? <Loading what="the overview" /> : null}
      {data ? (
        // data-ready marks the page interactive with its numbers (what bench/console-load.ts waits for).
        <div aria-busy={overview.loading} data-ready={!overview.loading}>
          <p className="muted overview-scope" role="status">
            {overview.loading
              ? "Updating…"
              : `Finished conversations of ${agentId ? agentName : "all agents"}, ${data.date_from} to ${data.date_to} (UTC days).`}
          </p>
          <section aria-labelledby="overview-totals">
            <h2 id="overview-totals" className="visually-hidden">
              Totals
            </h2>
            <OverviewCards totals={data.totals} />
          </section>
          {data.totals.conversations === 0 ? (
            <div className="notice overview-empty">
              <p>
                <strong>No finished conversations in this period.</strong>
              </p>
              <p>
                Widen the period (try "Last 90 days"){agentId ? ' or choose "All agents"' : ""}. To see the
                console with sample data, load the demo conversations: <code>npx openconvai seed --demo</code>
              </p>
            </div>
          ) : (
            <OverviewCharts overview={data} />
          )}
        </div>
      ) : null}
    </div>
  );
}
