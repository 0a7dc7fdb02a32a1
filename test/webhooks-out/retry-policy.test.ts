/**
 * The retry policy of outgoing webhooks: which answers are delivered, retried or final, when the
 * next attempt is due (the schedule, its jitter, the receiver's Retry-After), and when there are
 * no attempts left.
 */
import { describe, expect, it } from "vitest";
import {
  judgeAttempt,
  MAX_RETRY_AFTER_MS,
  nextOutcome,
  parseRetryAfter,
} from "../../src/webhooks-out/retry-policy.js";

const NOW = 1_760_000_000_000;
const schedule = { retryScheduleMs: [0, 30_000, 120_000, 480_000], jitter: 0.1 };
const answer = (statusCode: number, retryAfterMs?: number) => ({
  statusCode,
  error: null,
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});
const networkError = { statusCode: null, error: "the connection failed: socket hang up (ECONNRESET)" };
const middle = () => 0.5;

describe("judging an attempt", () => {
  it("counts every 2xx as delivered", () => {
    for (const status of [200, 201, 202, 204, 299]) expect(judgeAttempt(answer(status))).toBe("delivered");
  });

  it("retries network errors, timeouts, 408, 429 and 5xx", () => {
    expect(judgeAttempt(networkError)).toBe("retry");
    expect(judgeAttempt({ statusCode: null, error: "timed out after 15000 ms" })).toBe("retry");
    for (const status of [408, 429, 500, 502, 503, 504, 599])
      expect(judgeAttempt(answer(status))).toBe("retry");
  });

  it("gives up on other 4xx, on redirects and on what can never be sent", () => {
    for (const status of [400, 401, 403, 404, 410, 413, 422, 301, 302, 307, 308, 100])
      expect(judgeAttempt(answer(status))).toBe("final");
    expect(judgeAttempt({ statusCode: null, error: "refused", final: true })).toBe("final");
  });
});

describe("Retry-After", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", NOW)).toBe(0);
  });

  it("reads an HTTP-date as the time from now (a past date is now)", () => {
    const at = new Date(NOW + 90_000).toUTCString();
    expect(parseRetryAfter(at, NOW)).toBe(90_000);
    expect(parseRetryAfter(new Date(NOW - 90_000).toUTCString(), NOW)).toBe(0);
  });

  it("is capped at 24 hours", () => {
    expect(parseRetryAfter("999999999", NOW)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter(new Date(NOW + 3 * 86_400_000).toUTCString(), NOW)).toBe(MAX_RETRY_AFTER_MS);
  });

  it("is ignored when absent or unreadable", () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter("soon", NOW)).toBeUndefined();
    expect(parseRetryAfter("-5", NOW)).toBeUndefined();
    expect(parseRetryAfter("1.5", NOW)).toBeUndefined();
  });
});

describe("the next attempt", () => {
  it("is delivered on a 2xx, whatever attempt it was", () => {
    expect(nextOutcome(answer(200), 8, 8, schedule, NOW, middle)).toEqual({ status: "delivered" });
  });

  it("is due after the schedule's delay for the attempts made", () => {
    expect(nextOutcome(answer(503), 1, 8, schedule, NOW, middle)).toEqual({
      status: "pending",
      nextAttemptAtMs: NOW + 30_000,
    });
    expect(nextOutcome(networkError, 3, 8, schedule, NOW, middle)).toEqual({
      status: "pending",
      nextAttemptAtMs: NOW + 480_000,
    });
  });

  it("starts the schedule over for a replayed delivery (it may make a whole schedule's attempts more)", () => {
    // Four attempts made and failed for good, then replayed: at most 4 + 4 attempts.
    expect(nextOutcome(answer(503), 5, 8, schedule, NOW, middle)).toEqual({
      status: "pending",
      nextAttemptAtMs: NOW + 30_000,
    });
    expect(nextOutcome(answer(503), 7, 8, schedule, NOW, middle)).toEqual({
      status: "pending",
      nextAttemptAtMs: NOW + 480_000,
    });
    expect(nextOutcome(answer(503), 8, 8, schedule, NOW, middle)).toEqual({ status: "failed" });
  });

  it("moves the delay by up to ±jitter of itself, from the random source", () => {
    const at = (random: number) => {
      const outcome = nextOutcome(answer(500), 2, 8, schedule, NOW, () => random);
      return outcome.status === "pending" ? outcome.nextAttemptAtMs - NOW : undefined;
    };
    expect(at(0)).toBe(108_000);
    expect(at(0.25)).toBe(114_000);
    expect(at(0.999999)).toBe(132_000);
    const seen = Array.from({ length: 200 }, () => nextOutcome(answer(500), 2, 8, schedule, NOW));
    for (const outcome of seen) {
      expect(outcome.status).toBe("pending");
      if (outcome.status === "pending") {
        expect(outcome.nextAttemptAtMs - NOW).toBeGreaterThanOrEqual(108_000);
        expect(outcome.nextAttemptAtMs - NOW).toBeLessThanOrEqual(132_000);
      }
    }
  });

  it("waits at least as long as a 429's Retry-After asks", () => {
    expect(nextOutcome(answer(429, 3_600_000), 1, 8, schedule, NOW, middle)).toEqual({
      status: "pending",
      nextAttemptAtMs: NOW + 3_600_000,
    });
    // A Retry-After shorter than the schedule does not bring the attempt forward.
    expect(nextOutcome(answer(429, 1000), 1, 8, schedule, NOW, middle)).toEqual({
      status: "pending",
      nextAttemptAtMs: NOW + 30_000,
    });
  });

  it("fails on a final answer, with attempts left or not", () => {
    expect(nextOutcome(answer(400), 1, 8, schedule, NOW, middle)).toEqual({ status: "failed" });
    expect(nextOutcome(answer(302), 1, 8, schedule, NOW, middle)).toEqual({ status: "failed" });
  });

  it("fails when the delivery's attempts are used up (one only, with retries off)", () => {
    expect(nextOutcome(answer(503), 1, 1, schedule, NOW, middle)).toEqual({ status: "failed" });
    expect(nextOutcome(answer(503), 3, 3, schedule, NOW, middle)).toEqual({ status: "failed" });
  });

  it("fails when the schedule is exhausted, even with attempts allowed", () => {
    expect(nextOutcome(answer(503), 4, 10, schedule, NOW, middle)).toEqual({ status: "failed" });
  });
});
