import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { resolveWebhooksOutConfig } from "./webhooks-out-config.js";

describe("outgoing webhook settings", () => {
  it("defaults to upstream-like retries over a day, private addresses refused, relay off", () => {
    const config = resolveWebhooksOutConfig({});
    expect(config.retryScheduleMs).toEqual([
      0, 30_000, 120_000, 480_000, 1_800_000, 7_200_000, 28_800_000, 86_400_000,
    ]);
    expect(config).toMatchObject({
      allowPrivate: false,
      relay: false,
      jitter: 0.1,
      timeoutMs: 15_000,
      concurrencyPerEndpoint: 4,
      pollMs: 1000,
    });
  });

  it("reads a schedule with units, booleans in their usual spellings, and a fractional timeout", () => {
    const config = resolveWebhooksOutConfig({
      OPENCONVAI_WEBHOOK_RETRY_SCHEDULE: "0, 250ms,2s,1m,1h,1d",
      OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "yes",
      OPENCONVAI_WEBHOOK_RELAY: "1",
      OPENCONVAI_WEBHOOK_TIMEOUT_SECS: "0.5",
    });
    expect(config.retryScheduleMs).toEqual([0, 250, 2000, 60_000, 3_600_000, 86_400_000]);
    expect(config.allowPrivate).toBe(true);
    expect(config.relay).toBe(true);
    expect(config.timeoutMs).toBe(500);
  });

  it.each([
    ["OPENCONVAI_WEBHOOK_RETRY_SCHEDULE", "0,soon"],
    ["OPENCONVAI_WEBHOOK_RETRY_SCHEDULE", "0,8d"],
    ["OPENCONVAI_WEBHOOK_RETRY_SCHEDULE", "10s,1m"],
    ["OPENCONVAI_WEBHOOK_ALLOW_PRIVATE", "maybe"],
    ["OPENCONVAI_WEBHOOK_RETRY_JITTER", "2"],
    ["OPENCONVAI_WEBHOOK_CONCURRENCY", "0"],
    ["OPENCONVAI_WEBHOOK_POLL_MS", "abc"],
  ])("refuses %s=%s with a message naming the setting", (name, value) => {
    expect(() => resolveWebhooksOutConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => resolveWebhooksOutConfig({ [name]: value })).toThrow(name);
  });
});
