import type { AttemptOutcome } from "../store/outgoing-webhook-store.js";

/** The longest a `Retry-After` can push the next attempt out (24 h). */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** What an attempt came to, as far as the policy is concerned. */
export interface AttemptResult {
  /** The answer's status code; null when there was none (network error, timeout). */
  statusCode: number | null;
  /** What went wrong; null when the receiver answered. */
  error: string | null;
  /** The receiver's `Retry-After`, in milliseconds from the answer. */
  retryAfterMs?: number;
  /** The attempt can never succeed as it is (a refused address, a conversation gone): no retry. */
  final?: boolean;
}

/** How an attempt is judged: `delivered` (2xx), `retry` (may succeed later), `final` (never will). */
export type AttemptVerdict = "delivered" | "retry" | "final";

/** The parts of the configuration the policy reads. */
export interface RetrySchedule {
  /** When each attempt is due: index n is the delay after the n-th attempt failed (index 0: the first). */
  retryScheduleMs: readonly number[];
  /** Each delay is moved by up to this share of it, either way. */
  jitter: number;
}

/**
 * Judges an attempt: 2xx delivered; network errors, timeouts, 408, 429 and 5xx retried; other
 * 4xx and 3xx (redirects are never followed) final.
 */
export function judgeAttempt(result: AttemptResult): AttemptVerdict {
  if (result.final) return "final";
  const status = result.statusCode;
  if (status === null) return "retry";
  if (status >= 200 && status < 300) return "delivered";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "final";
}

/**
 * A `Retry-After` header in milliseconds from `nowMs`: delay-seconds or an HTTP-date, capped at
 * 24 h; undefined when absent or unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const at = Date.parse(text);
    // Only the HTTP-date forms (they name a weekday or a month): Date.parse reads much else.
    if (Number.isNaN(at) || !/[a-z]{3}/i.test(text)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

/** The delay before the next attempt: the schedule's, moved by up to ±jitter of itself. */
export function jitteredDelay(delayMs: number, jitter: number, random: () => number): number {
  return Math.max(0, Math.round(delayMs * (1 + jitter * (2 * random() - 1))));
}

/**
 * What an attempt leaves its delivery as. `attemptsMade` counts this attempt. A retry is due
 * `retryScheduleMs[attemptsMade]` (jittered) from now, or later when the receiver's `Retry-After`
 * asks for it; with no attempts left (`maxAttempts` reached or the schedule exhausted) it fails.
 */
export function nextOutcome(
  result: AttemptResult,
  attemptsMade: number,
  maxAttempts: number,
  schedule: RetrySchedule,
  nowMs: number,
  random: () => number = Math.random,
): AttemptOutcome {
  const verdict = judgeAttempt(result);
  if (verdict === "delivered") return { status: "delivered" };
  // The step in the current run: a replay allows a whole schedule's attempts after those it had
  // made (`maxAttempts` = made + the schedule's length), and starts the schedule over.
  const runStart = Math.max(0, maxAttempts - schedule.retryScheduleMs.length);
  const delayMs = schedule.retryScheduleMs[attemptsMade > runStart ? attemptsMade - runStart : attemptsMade];
  if (verdict === "final" || attemptsMade >= maxAttempts || delayMs === undefined)
    return { status: "failed" };
  const waitMs = Math.max(jitteredDelay(delayMs, schedule.jitter, random), result.retryAfterMs ?? 0);
  return { status: "pending", nextAttemptAtMs: nowMs + waitMs };
}
