/**
 * One chart of the Overview: a <figure> with its caption, the canvas (an image whose label says
 * what it shows) and the same numbers as a table under "Show the numbers". chart.js is loaded on
 * first use; the chart is drawn again with the new colours when the system switches between light
 * and dark, and destroyed when the figure goes away.
 */
import type { ChartConfiguration } from "chart.js";
import { type ReactNode, useEffect, useId, useRef, useSyncExternalStore } from "react";

/** The colours a chart is drawn with, read from the page's CSS variables (so dark mode follows). */
export interface ChartColors {
  series: [string, string, string, string];
  text: string;
  grid: string;
  background: string;
}

const DARK_QUERY = "(prefers-color-scheme: dark)";

function subscribeToScheme(onChange: () => void): () => void {
  const query = window.matchMedia(DARK_QUERY);
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}

/** Whether the system is in dark mode now (re-renders the caller when it changes). */
export function useDarkMode(): boolean {
  return useSyncExternalStore(subscribeToScheme, () => window.matchMedia(DARK_QUERY).matches);
}

/** The chart colours as the CSS variables say now. */
export function readChartColors(): ChartColors {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string) => style.getPropertyValue(name).trim();
  return {
    series: [read("--chart-1"), read("--chart-2"), read("--chart-3"), read("--chart-4")],
    text: read("--fg-muted"),
    grid: read("--border"),
    background: read("--bg-raised"),
  };
}

/** chart.js, loaded once for every chart on the page (the page starts it early, with its data). */
let chartModule: Promise<typeof import("./overview-chart-setup")> | undefined;
export function loadChartJs() {
  chartModule ??= import("./overview-chart-setup");
  return chartModule;
}

export interface OverviewChartProps {
  title: string;
  /** What the chart shows, in words: the canvas' accessible name. */
  summary: string;
  /** The chart's configuration for the given colours; a new function draws the chart again. */
  build: (colors: ChartColors) => ChartConfiguration;
  /** The canvas' height in pixels (its width follows the figure's). */
  height: number;
  /** The numbers as a table (its rows and header; the caption is the title). */
  table: ReactNode;
}

export function OverviewChart({ title, summary, build, height, table }: OverviewChartProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const dark = useDarkMode();
  const headingId = useId();

  useEffect(() => {
    // `dark` is read so that a switch draws the chart again with the colours of the new scheme.
    void dark;
    let cancelled = false;
    let chart: { destroy(): void } | undefined;
    loadChartJs().then(
      ({ Chart }) => {
        const element = canvas.current;
        if (cancelled || !element) return;
        const config = build(readChartColors());
        // Drawn once, without animation: five animated charts keep a slow machine's main thread
        // busy for their whole animation, just when the page should answer.
        config.options = { ...config.options, animation: false };
        chart = new Chart(element, config);
      },
      () => {
        // The table under the chart still has the numbers; nothing else to do.
      },
    );
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [build, dark]);

  return (
    <figure className="overview-figure card" aria-labelledby={headingId}>
      <figcaption>
        <h2 id={headingId}>{title}</h2>
      </figcaption>
      <div className="overview-canvas" style={{ height }}>
        <canvas ref={canvas} role="img" aria-label={summary}>
          {summary}
        </canvas>
      </div>
      <details className="overview-numbers">
        <summary>Show the numbers</summary>
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: it may scroll, and a keyboard scrolls what has focus. */}
        <section className="table-wrap" aria-label={`${title}, the numbers`} tabIndex={0}>
          <table>
            <caption className="visually-hidden">{title}</caption>
            {table}
          </table>
        </section>
      </details>
    </figure>
  );
}
