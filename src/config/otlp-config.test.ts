import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { parseOtlpHeaders, resolveOtlpConfig } from "./otlp-config.js";

describe("trace push settings", () => {
  it("are off without OPENCONVAI_OTLP_ENDPOINT", () => {
    expect(resolveOtlpConfig({})).toBeUndefined();
    expect(resolveOtlpConfig({ OPENCONVAI_OTLP_ENDPOINT: " " })).toBeUndefined();
  });

  it("append /v1/traces to a base URL unless it already ends with it", () => {
    const url = (endpoint: string) => resolveOtlpConfig({ OPENCONVAI_OTLP_ENDPOINT: endpoint })?.tracesUrl;
    expect(url("http://collector:4318")).toBe("http://collector:4318/v1/traces");
    expect(url("http://collector:4318/")).toBe("http://collector:4318/v1/traces");
    expect(url("https://otel.example.com/tenant/a/")).toBe("https://otel.example.com/tenant/a/v1/traces");
    expect(url("https://otel.example.com/v1/traces")).toBe("https://otel.example.com/v1/traces");
    expect(url("https://otel.example.com/v1/traces/")).toBe("https://otel.example.com/v1/traces");
  });

  it("have defaults and read the job's timings", () => {
    expect(resolveOtlpConfig({ OPENCONVAI_OTLP_ENDPOINT: "http://c:4318" })).toMatchObject({
      headers: {},
      timeoutMs: 10_000,
      batchSize: 50,
      intervalMs: 5000,
      firstRetryMs: 30_000,
      maxRetryMs: 3_600_000,
    });
    expect(
      resolveOtlpConfig({
        OPENCONVAI_OTLP_ENDPOINT: "http://c:4318",
        OPENCONVAI_OTLP_TIMEOUT_SECS: "3",
        OPENCONVAI_OTLP_BATCH_SIZE: "5",
        OPENCONVAI_OTLP_INTERVAL_MS: "100",
        OPENCONVAI_OTLP_RETRY_MS: "200",
        OPENCONVAI_OTLP_MAX_RETRY_MS: "1000",
      }),
    ).toMatchObject({ timeoutMs: 3000, batchSize: 5, intervalMs: 100, firstRetryMs: 200, maxRetryMs: 1000 });
  });

  it("refuse a URL with credentials or another scheme, without echoing it", () => {
    expect(() => resolveOtlpConfig({ OPENCONVAI_OTLP_ENDPOINT: "http://user:pw@c:4318" })).toThrow(
      /must not include a user name or password/,
    );
    expect(() => resolveOtlpConfig({ OPENCONVAI_OTLP_ENDPOINT: "grpc://c:4317" })).toThrow(ConfigError);
    expect(() => resolveOtlpConfig({ OPENCONVAI_OTLP_ENDPOINT: "not a url?token=hunter2" })).toThrow(
      ConfigError,
    );
    expect(() => resolveOtlpConfig({ OPENCONVAI_OTLP_ENDPOINT: "not a url?token=hunter2" })).not.toThrow(
      /hunter2/,
    );
  });

  it("refuse headers without an endpoint", () => {
    expect(() => resolveOtlpConfig({ OPENCONVAI_OTLP_HEADERS: "a=b" })).toThrow(/OPENCONVAI_OTLP_ENDPOINT/);
  });
});

describe("OPENCONVAI_OTLP_HEADERS", () => {
  it("reads k=v,k2=v2 with blanks and percent-encoded values, names in lower case", () => {
    expect(parseOtlpHeaders("Authorization=Basic%20dTpw, x-scope-orgid = tenant-1,,k3=a=b")).toEqual({
      authorization: "Basic dTpw",
      "x-scope-orgid": "tenant-1",
      k3: "a=b",
    });
    expect(parseOtlpHeaders(undefined)).toEqual({});
  });

  it("names a bad entry by its position, never its value", () => {
    expect(() => parseOtlpHeaders("a=1,secretvalue")).toThrow(/entry 2/);
    expect(() => parseOtlpHeaders("a=1,secretvalue")).not.toThrow(/secretvalue/);
    expect(() => parseOtlpHeaders("bad name=x")).toThrow(/entry 1/);
    expect(() => parseOtlpHeaders("a=%E0%A4%A")).toThrow(/percent-encoding/);
    expect(() => parseOtlpHeaders("a=x%0Ay")).toThrow(/line break/);
  });
});
