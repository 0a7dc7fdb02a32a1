import { InvalidInputError, type ValidationIssue } from "../domain/errors.js";

/** The longest period an overview covers, in days (a leap year). */
export const MAX_OVERVIEW_DAYS = 366;
/** The period's length when only its end (or nothing) is given: the last 30 days. */
export const DEFAULT_OVERVIEW_DAYS = 30;

const SECONDS_PER_DAY = 86_400;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A period of UTC calendar days, both ends inclusive, as day numbers (days since 1970-01-01). */
export interface OverviewPeriod {
  fromDay: number;
  toDay: number;
}

/** The UTC day number of a `YYYY-MM-DD` date; undefined when it is not a real calendar date. */
export function parseDay(text: string): number | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March: a date that does not come back the same is not one.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return ms / 1000 / SECONDS_PER_DAY;
}

/** The `YYYY-MM-DD` date of a UTC day number. */
export function formatDay(day: number): string {
  return new Date(day * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10);
}

function invalid(field: "date_from" | "date_to", msg: string, type: string): InvalidInputError {
  const issue: ValidationIssue = { loc: ["query", field], msg, type };
  return new InvalidInputError([issue]);
}

/**
 * The period of an overview request: `date_to` defaults to today (UTC), `date_from` to 29 days
 * before `date_to`. Throws InvalidInputError (a 422 at the HTTP edge) for a date that is not a
 * `YYYY-MM-DD` calendar date, a start after the end, or more than MAX_OVERVIEW_DAYS days.
 */
export function resolveOverviewPeriod(
  dateFrom: string | undefined,
  dateTo: string | undefined,
  nowMs: number,
): OverviewPeriod {
  const toDay = dateTo === undefined ? Math.floor(nowMs / 1000 / SECONDS_PER_DAY) : parseDay(dateTo);
  if (toDay === undefined)
    throw invalid("date_to", "Input should be a valid date in the format YYYY-MM-DD", "date_parsing");
  const fromDay = dateFrom === undefined ? toDay - (DEFAULT_OVERVIEW_DAYS - 1) : parseDay(dateFrom);
  if (fromDay === undefined)
    throw invalid("date_from", "Input should be a valid date in the format YYYY-MM-DD", "date_parsing");
  if (fromDay > toDay) throw invalid("date_from", "date_from must not be after date_to", "value_error");
  if (toDay - fromDay + 1 > MAX_OVERVIEW_DAYS) {
    throw invalid("date_from", `The period may cover at most ${MAX_OVERVIEW_DAYS} days`, "value_error");
  }
  return { fromDay, toDay };
}
