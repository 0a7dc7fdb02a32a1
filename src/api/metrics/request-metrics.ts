import type { FastifyInstance, onResponseHookHandler, RouteOptions } from "fastify";

/** One route's recorder of answered requests. */
export interface RouteRecorder {
  record(method: string, status: number, seconds: number): void;
}

/** Where answered requests are counted (src/telemetry/ implements it); the route is its pattern, never the URL. */
export interface RequestMetrics {
  /** The recorder of one route pattern (asked once per route, when it is registered). */
  forRoute(route: string): RouteRecorder;
}

/** The route label of requests that matched no route. */
const UNMATCHED = "unmatched";

/**
 * Records every answered request: each route gets an `onResponse` hook of its own, closed over its
 * recorder (so the route label costs nothing per request), and requests that matched no route are
 * recorded by a root hook as `unmatched`. Register before any route.
 */
export function useRequestMetrics(app: FastifyInstance, metrics: RequestMetrics): void {
  app.addHook("onRoute", (route: RouteOptions) => {
    const recorder = metrics.forRoute(route.url);
    const hook: onResponseHookHandler = (request, reply, done) => {
      recorder.record(request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    const existing = route.onResponse;
    route.onResponse =
      existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
  });
  const unmatched = metrics.forRoute(UNMATCHED);
  app.addHook("onResponse", (request, reply, done) => {
    if (request.is404) unmatched.record(request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
