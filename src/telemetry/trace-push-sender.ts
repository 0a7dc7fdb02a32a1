/**
 * Sends spans to an OpenTelemetry collector over OTLP/HTTP (protobuf) with the OpenTelemetry JS
 * exporter. One call is one request (the exporter's own quick retries of 429/502/503/504 included,
 * all within the timeout); the durable retries are the trace push job's, kept in the database.
 */
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { OtlpConfig } from "../config/otlp-config.js";

/** What a send came to: acknowledged, or failed (and whether the collector refused the request as such). */
export type TraceSendResult =
  | { ok: true }
  | {
      ok: false;
      /**
       * The collector answered 4xx (not 408 or 429): the request itself was refused, so the same
       * request will fail again; sent one conversation at a time, the others can still go.
       */
      refused: boolean;
      /** The HTTP status, or undefined when no answer came (a timeout, a refused connection). */
      status: number | undefined;
    };

/** Sends one batch of spans; the interface the trace push job depends on. */
export interface TraceSender {
  send(spans: ReadableSpan[]): Promise<TraceSendResult>;
  /**
   * Gives up the sends in flight (they resolve as failed at once: their rows stay queued, and a
   * request the collector still takes only means the trace arrives twice), then closes.
   */
  shutdown(): Promise<void>;
}

/** How long past the exporter's own timeout a send is given up on if its callback never comes. */
const CALLBACK_GRACE_MS = 2000;
/** How long shutdown waits for the exporter to finish the requests given up on. */
const SHUTDOWN_WAIT_MS = 1000;
const GIVEN_UP: TraceSendResult = { ok: false, refused: false, status: undefined };

/** The collector's error status, when the exporter's error carries one. */
function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "number" && code >= 100 && code <= 599 ? code : undefined;
}

/** A TraceSender over OTLPTraceExporter (OTLP/HTTP, protobuf) to the configured collector. */
export class OtlpTraceSender implements TraceSender {
  private readonly exporter: OTLPTraceExporter;
  private readonly timeoutMs: number;
  /** The sends in flight, each to resolve as given up at shutdown. */
  private readonly pending = new Set<(result: TraceSendResult) => void>();
  private closed = false;

  constructor(config: Pick<OtlpConfig, "tracesUrl" | "headers" | "timeoutMs">) {
    this.timeoutMs = config.timeoutMs;
    this.exporter = new OTLPTraceExporter({
      url: config.tracesUrl,
      headers: { ...config.headers },
      timeoutMillis: config.timeoutMs,
      // The job waits for each request before the next; a send given up at shutdown may still be
      // in flight, and this bounds how many.
      concurrencyLimit: 4,
    });
  }

  send(spans: ReadableSpan[]): Promise<TraceSendResult> {
    if (this.closed) return Promise.resolve(GIVEN_UP);
    return new Promise<TraceSendResult>((settle) => {
      const resolve = (result: TraceSendResult) => {
        clearTimeout(timer);
        this.pending.delete(resolve);
        settle(result);
      };
      this.pending.add(resolve);
      const timer = setTimeout(() => resolve(GIVEN_UP), this.timeoutMs + CALLBACK_GRACE_MS);
      timer.unref();
      this.exporter.export(spans, (result) => {
        // ExportResultCode.SUCCESS is 0.
        if (result.code === 0) {
          resolve({ ok: true });
          return;
        }
        const status = statusOf(result.error);
        const refused =
          status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
        resolve({ ok: false, refused, status });
      });
    });
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    for (const resolve of [...this.pending]) resolve(GIVEN_UP);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
      timer.unref();
    });
    await Promise.race([this.exporter.shutdown().catch(() => undefined), waited]);
    clearTimeout(timer);
  }
}
