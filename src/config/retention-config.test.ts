import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { resolveRetentionConfig } from "./retention-config.js";

describe("resolveRetentionConfig", () => {
  it("keeps conversations forever by default, and looks every five minutes", () => {
    expect(resolveRetentionConfig({})).toEqual({ retentionDays: null, intervalMs: 300_000 });
    expect(resolveRetentionConfig({ OPENCONVAI_RETENTION_DAYS: "-1" }).retentionDays).toBeNull();
  });

  it("reads a period in days (fractions too) and an interval in seconds", () => {
    expect(
      resolveRetentionConfig({ OPENCONVAI_RETENTION_DAYS: "30", OPENCONVAI_RETENTION_INTERVAL_SECS: "60" }),
    ).toEqual({ retentionDays: 30, intervalMs: 60_000 });
    expect(resolveRetentionConfig({ OPENCONVAI_RETENTION_DAYS: "0.5" }).retentionDays).toBe(0.5);
  });

  it("refuses what is not a period or an interval, saying what is", () => {
    for (const value of ["0", "-2", "soon", "1e9"]) {
      expect(() => resolveRetentionConfig({ OPENCONVAI_RETENTION_DAYS: value })).toThrow(ConfigError);
    }
    expect(() => resolveRetentionConfig({ OPENCONVAI_RETENTION_INTERVAL_SECS: "1.5" })).toThrow(
      /whole number/,
    );
  });
});
