import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ApiError } from "../api-error.js";
import type { PublicRoutes } from "../public-routes.js";

/** The metrics in Prometheus' text format (src/telemetry/ implements it). */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

/** What the `/metrics` route is built from. */
export interface MetricsRouteOptions {
  exposition: MetricsExposition;
  /** OPENCONVAI_METRICS_TOKEN: the bearer token a scrape must send. */
  token: string;
  /** The route is served without an API key (the token is its credential). */
  publicRoutes: PublicRoutes;
}

/** The path metrics are served at. */
export const METRICS_PATH = "/metrics";

/** A fixed-length digest, so the comparison takes the same time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/**
 * `GET /metrics`: every metric in Prometheus' text format, for `Authorization: Bearer <token>`
 * (OPENCONVAI_METRICS_TOKEN, compared in constant time); 401 without it or with another. Not an
 * API-key route (nor is `HEAD /metrics`, which Fastify serves from it and PublicRoutes lets through
 * with it), and left out of the OpenAPI document (it is not part of upstream's API).
 */
export async function metricsRoutes(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const expected = digest(options.token);
  options.publicRoutes.add("GET", METRICS_PATH);
  app.get(METRICS_PATH, { schema: { hide: true } }, async (request, reply) => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      reply.header("www-authenticate", 'Bearer realm="metrics"');
      throw new ApiError(
        401,
        "invalid_api_key",
        header === undefined
          ? "Missing token: send OPENCONVAI_METRICS_TOKEN as `Authorization: Bearer <token>`."
          : "Invalid token: send the server's OPENCONVAI_METRICS_TOKEN as `Authorization: Bearer <token>`.",
      );
    }
    const text = await options.exposition.render();
    return reply.type(options.exposition.contentType).send(text);
  });
}
