import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { metricsEnabled, resolveMetricsConfig } from "./metrics-config.js";

describe("metrics settings", () => {
  it("are off by default", () => {
    const config = resolveMetricsConfig({});
    expect(config).toEqual({ token: undefined, port: undefined, host: "127.0.0.1" });
    expect(metricsEnabled(config)).toBe(false);
  });

  it("are on with a token, a port, or both", () => {
    const token = "a".repeat(16);
    expect(metricsEnabled(resolveMetricsConfig({ OPENCONVAI_METRICS_TOKEN: token }))).toBe(true);
    const both = resolveMetricsConfig({
      OPENCONVAI_METRICS_TOKEN: token,
      OPENCONVAI_METRICS_PORT: "9464",
      OPENCONVAI_METRICS_HOST: "0.0.0.0",
    });
    expect(both).toEqual({ token, port: 9464, host: "0.0.0.0" });
    expect(metricsEnabled(resolveMetricsConfig({ OPENCONVAI_METRICS_PORT: "0" }))).toBe(true);
  });

  it("refuse a short token, one with spaces, and a port out of range, without echoing the token", () => {
    for (const bad of ["short", `${"a".repeat(16)} b`]) {
      const error = (() => {
        try {
          resolveMetricsConfig({ OPENCONVAI_METRICS_TOKEN: bad });
        } catch (caught) {
          return caught as Error;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error?.message).toContain("OPENCONVAI_METRICS_TOKEN must be 16 to 256");
      expect(error?.message).not.toContain(bad);
    }
    expect(() => resolveMetricsConfig({ OPENCONVAI_METRICS_PORT: "70000" })).toThrow(
      /OPENCONVAI_METRICS_PORT must be a whole number from 0 to 65535/,
    );
  });
});
