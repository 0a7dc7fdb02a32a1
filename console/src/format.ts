/** How the console writes numbers, times and durations: one way everywhere. */

/** "1:05" or "1:02:05" for a duration in seconds; "—" when unknown. */
export function formatDuration(secs: number | null | undefined): string {
  if (secs === null || secs === undefined || !Number.isFinite(secs)) return "—";
  const total = Math.max(0, Math.round(secs));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

/** A unix time (seconds) as a local date and time, e.g. "29 Nov 2026, 14:05". */
export function formatDateTime(unixSecs: number | null | undefined): string {
  if (unixSecs === null || unixSecs === undefined || !Number.isFinite(unixSecs)) return "—";
  return new Date(unixSecs * 1000).toLocaleString(undefined, {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** A share (0..1) as a percentage, "80%"; "—" when unknown. */
export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return "—";
  return `${Math.round(share * 100)}%`;
}

/** A count with the locale's grouping ("1,234"). */
export function formatCount(n: number): string {
  return n.toLocaleString();
}

/** A date (YYYY-MM-DD, UTC) of a Date. */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}
