import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "../config/config-error.js";

/** What the listener serves: the text format and its content type. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

/** A listener of its own for `/metrics` (OPENCONVAI_METRICS_PORT), and how to stop it. */
export interface MetricsListener {
  /** Where it listens, as `http://host:port`. */
  url: string;
  close(): Promise<void>;
}

/** The API's error envelope, so a scraper pointed at the wrong path reads the same shape as elsewhere. */
function errorBody(status: string, message: string): string {
  return JSON.stringify({ detail: { status, message } });
}

/**
 * Serves `GET /metrics` (and HEAD) on `host:port` without a key: bind it to an address only the
 * scraper reaches (the default is 127.0.0.1). Anything else is a 404 (405 for another method).
 */
export async function startMetricsListener(
  source: MetricsSource,
  host: string,
  port: number,
): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (path !== "/metrics") {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(
        errorBody("not_found", `No route for ${request.method} ${path}: metrics are at /metrics.`),
      );
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { "content-type": "application/json", allow: "GET, HEAD" });
      response.end(errorBody("method_not_allowed", "Use GET /metrics."));
      return;
    }
    source.render().then(
      (text) => {
        response.writeHead(200, { "content-type": source.contentType });
        response.end(request.method === "HEAD" ? undefined : text);
      },
      () => {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(errorBody("internal_error", "The metrics could not be collected."));
      },
    );
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new ConfigError(
      `OPENCONVAI_METRICS_PORT ${port} on OPENCONVAI_METRICS_HOST ${host} could not be listened on (${code}): choose a free port and an address of this machine.`,
    );
  }
  const bound = server.address() as AddressInfo;
  const shownHost = bound.address.includes(":") ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
