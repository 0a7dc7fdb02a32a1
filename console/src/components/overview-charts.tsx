/**
 * The Overview's five charts, each with its numbers as a table: conversations per day by result,
 * success rate per day, average and p90 duration per day, evaluation results per criterion and
 * the most used tools.
 */
import type { ChartConfiguration, ChartOptions } from "chart.js";
import { useMemo } from "react";
import { formatCount, formatDuration, formatPercent } from "../format";
import { type ChartColors, OverviewChart } from "./overview-chart";
import type { Overview, OverviewDay } from "./overview-types";

/** "23 Nov" for a `YYYY-MM-DD` day (read as UTC, as the server counts). */
export function formatDay(date: string): string {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, {
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  });
}

/** A duration in seconds as the tables give it: "37.5 s"; "—" when unknown. */
function formatSeconds(secs: number | null): string {
  return secs === null ? "—" : `${secs} s`;
}

/** The options every chart shares: axis and legend colours of the scheme, sized by its figure. */
function baseOptions(colors: ChartColors, horizontal = false): ChartOptions<"bar" | "line"> {
  const axis = {
    ticks: { color: colors.text },
    grid: { color: colors.grid },
    border: { color: colors.grid },
  };
  return {
    responsive: true,
    maintainAspectRatio: false,
    indexAxis: horizontal ? "y" : "x",
    interaction: { mode: "index", intersect: false },
    plugins: {
      legend: { labels: { color: colors.text, boxWidth: 14 } },
      tooltip: {
        backgroundColor: colors.background,
        titleColor: colors.text,
        bodyColor: colors.text,
        borderColor: colors.grid,
        borderWidth: 1,
      },
    },
    scales: { x: { ...axis }, y: { ...axis } },
  };
}

/** The day with the most conversations (the first of them), if any day has one. */
function busiestDay(days: OverviewDay[]): OverviewDay | undefined {
  let best: OverviewDay | undefined;
  for (const day of days) if (day.conversations > (best?.conversations ?? 0)) best = day;
  return best;
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export function OverviewCharts({ overview }: { overview: Overview }) {
  const { days, totals, evaluation_criteria: criteria, tools } = overview;
  const labels = useMemo(() => days.map((d) => formatDay(d.date)), [days]);
  const period = `${formatDay(overview.date_from)} to ${formatDay(overview.date_to)}`;

  const conversationsChart = useMemo(
    () =>
      (colors: ChartColors): ChartConfiguration => {
        const options = baseOptions(colors);
        return {
          type: "bar",
          data: {
            labels,
            datasets: [
              { label: "Successful", data: days.map((d) => d.successful), backgroundColor: colors.series[1] },
              { label: "Failed", data: days.map((d) => d.failed), backgroundColor: colors.series[2] },
              { label: "Unknown", data: days.map((d) => d.unknown), backgroundColor: colors.series[3] },
            ],
          },
          options: {
            ...options,
            scales: {
              x: { ...options.scales?.x, stacked: true },
              y: {
                ...options.scales?.y,
                stacked: true,
                beginAtZero: true,
                ticks: { color: colors.text, precision: 0 },
              },
            },
          },
        } as ChartConfiguration;
      },
    [days, labels],
  );

  const rateChart = useMemo(
    () =>
      (colors: ChartColors): ChartConfiguration => {
        const options = baseOptions(colors);
        return {
          type: "line",
          data: {
            labels,
            datasets: [
              {
                label: "Success rate",
                data: days.map((d) =>
                  d.success_rate === null ? null : Math.round(d.success_rate * 1000) / 10,
                ),
                borderColor: colors.series[0],
                backgroundColor: colors.series[0],
                spanGaps: true,
                pointRadius: 3,
              },
            ],
          },
          options: {
            ...options,
            plugins: { ...options.plugins, legend: { display: false } },
            scales: {
              x: options.scales?.x,
              y: {
                ...options.scales?.y,
                min: 0,
                max: 100,
                ticks: { color: colors.text, callback: (v: string | number) => `${v}%` },
              },
            },
          },
        } as ChartConfiguration;
      },
    [days, labels],
  );

  const durationChart = useMemo(
    () =>
      (colors: ChartColors): ChartConfiguration => {
        const options = baseOptions(colors);
        return {
          type: "line",
          data: {
            labels,
            datasets: [
              {
                label: "Average",
                data: days.map((d) => d.average_duration_secs),
                borderColor: colors.series[0],
                backgroundColor: colors.series[0],
                spanGaps: true,
                pointRadius: 3,
              },
              {
                label: "p90",
                data: days.map((d) => d.p90_duration_secs),
                borderColor: colors.series[3],
                backgroundColor: colors.series[3],
                borderDash: [6, 4],
                pointStyle: "rectRot",
                spanGaps: true,
                pointRadius: 4,
              },
            ],
          },
          options: {
            ...options,
            scales: {
              x: options.scales?.x,
              y: {
                ...options.scales?.y,
                beginAtZero: true,
                ticks: { color: colors.text, callback: (v: string | number) => formatDuration(Number(v)) },
              },
            },
          },
        } as ChartConfiguration;
      },
    [days, labels],
  );

  const criteriaChart = useMemo(
    () =>
      (colors: ChartColors): ChartConfiguration => {
        const options = baseOptions(colors, true);
        return {
          type: "bar",
          data: {
            labels: criteria.map((c) => c.criteria_id),
            datasets: [
              { label: "Success", data: criteria.map((c) => c.success), backgroundColor: colors.series[1] },
              { label: "Failure", data: criteria.map((c) => c.failure), backgroundColor: colors.series[2] },
              { label: "Unknown", data: criteria.map((c) => c.unknown), backgroundColor: colors.series[3] },
            ],
          },
          options: {
            ...options,
            scales: {
              x: {
                ...options.scales?.x,
                stacked: true,
                beginAtZero: true,
                ticks: { color: colors.text, precision: 0 },
              },
              y: { ...options.scales?.y, stacked: true },
            },
          },
        } as ChartConfiguration;
      },
    [criteria],
  );

  const toolsChart = useMemo(
    () =>
      (colors: ChartColors): ChartConfiguration => {
        const options = baseOptions(colors, true);
        return {
          type: "bar",
          data: {
            labels: tools.map((t) => t.tool_name),
            datasets: [
              {
                label: "Conversations",
                data: tools.map((t) => t.conversations),
                backgroundColor: colors.series[0],
              },
            ],
          },
          options: {
            ...options,
            plugins: { ...options.plugins, legend: { display: false } },
            scales: {
              x: { ...options.scales?.x, beginAtZero: true, ticks: { color: colors.text, precision: 0 } },
              y: options.scales?.y,
            },
          },
        } as ChartConfiguration;
      },
    [tools],
  );

  const busiest = busiestDay(days);
  const rated = days.filter((d) => d.success_rate !== null);
  const best = rated.reduce<OverviewDay | undefined>(
    (a, d) => (a === undefined || (d.success_rate ?? 0) > (a.success_rate ?? 0) ? d : a),
    undefined,
  );
  const worst = rated.reduce<OverviewDay | undefined>(
    (a, d) => (a === undefined || (d.success_rate ?? 0) < (a.success_rate ?? 0) ? d : a),
    undefined,
  );
  const barHeight = (rows: number) => Math.max(140, rows * 34 + 70);

  return (
    <div className="overview-charts">
      <OverviewChart
        title="Conversations per day"
        summary={
          `Bar chart of finished conversations per day, ${period}, stacked by result: ` +
          `${plural(totals.conversations, "conversation", "conversations")} in all ` +
          `(${formatCount(totals.successful)} successful, ${formatCount(totals.failed)} failed, ` +
          `${formatCount(totals.unknown)} unknown)` +
          (busiest
            ? `; the busiest day was ${formatDay(busiest.date)} with ${formatCount(busiest.conversations)}.`
            : ".")
        }
        build={conversationsChart}
        height={260}
        table={
          <>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Successful</th>
                <th scope="col">Failed</th>
                <th scope="col">Unknown</th>
                <th scope="col">Conversations</th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.date}>
                  <th scope="row">{d.date}</th>
                  <td>{formatCount(d.successful)}</td>
                  <td>{formatCount(d.failed)}</td>
                  <td>{formatCount(d.unknown)}</td>
                  <td>{formatCount(d.conversations)}</td>
                </tr>
              ))}
            </tbody>
          </>
        }
      />
      <OverviewChart
        title="Success rate per day"
        summary={
          `Line chart of the success rate per day, ${period}: ${formatPercent(totals.success_rate)} over the period` +
          (best && worst
            ? `; highest ${formatPercent(best.success_rate)} on ${formatDay(best.date)}, ` +
              `lowest ${formatPercent(worst.success_rate)} on ${formatDay(worst.date)}.`
            : "; no day had a successful or failed conversation.")
        }
        build={rateChart}
        height={220}
        table={
          <>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Success rate</th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.date}>
                  <th scope="row">{d.date}</th>
                  <td>{formatPercent(d.success_rate)}</td>
                </tr>
              ))}
            </tbody>
          </>
        }
      />
      <OverviewChart
        title="Duration per day"
        summary={
          `Line chart of the average and 90th percentile call duration per day, ${period}: ` +
          `${formatDuration(totals.average_duration_secs)} on average and ` +
          `${formatDuration(totals.p90_duration_secs)} at the 90th percentile over the period.`
        }
        build={durationChart}
        height={220}
        table={
          <>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Average</th>
                <th scope="col">p90</th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.date}>
                  <th scope="row">{d.date}</th>
                  <td>{formatSeconds(d.average_duration_secs)}</td>
                  <td>{formatSeconds(d.p90_duration_secs)}</td>
                </tr>
              ))}
            </tbody>
          </>
        }
      />
      <OverviewChart
        title="Evaluation results per criterion"
        summary={
          criteria.length === 0
            ? "Bar chart of evaluation results: no conversation in this period was evaluated."
            : `Horizontal stacked bar chart of evaluation results per criterion: ${criteria
                .map(
                  (c) => `${c.criteria_id} ${c.success} success, ${c.failure} failure, ${c.unknown} unknown`,
                )
                .join("; ")}.`
        }
        build={criteriaChart}
        height={barHeight(criteria.length)}
        table={
          <>
            <thead>
              <tr>
                <th scope="col">Criterion</th>
                <th scope="col">Success</th>
                <th scope="col">Failure</th>
                <th scope="col">Unknown</th>
              </tr>
            </thead>
            <tbody>
              {criteria.map((c) => (
                <tr key={c.criteria_id}>
                  <th scope="row">{c.criteria_id}</th>
                  <td>{formatCount(c.success)}</td>
                  <td>{formatCount(c.failure)}</td>
                  <td>{formatCount(c.unknown)}</td>
                </tr>
              ))}
            </tbody>
          </>
        }
      />
      <OverviewChart
        title="Most used tools"
        summary={
          tools.length === 0
            ? "Bar chart of tool use: no conversation in this period ran a tool."
            : `Horizontal bar chart of the tools run in the most conversations: ${tools
                .map((t) => `${t.tool_name} in ${plural(t.conversations, "conversation", "conversations")}`)
                .join("; ")}.`
        }
        build={toolsChart}
        height={barHeight(tools.length)}
        table={
          <>
            <thead>
              <tr>
                <th scope="col">Tool</th>
                <th scope="col">Conversations</th>
              </tr>
            </thead>
            <tbody>
              {tools.map((t) => (
                <tr key={t.tool_name}>
                  <th scope="row">{t.tool_name}</th>
                  <td>{formatCount(t.conversations)}</td>
                </tr>
              ))}
            </tbody>
          </>
        }
      />
    </div>
  );
}
