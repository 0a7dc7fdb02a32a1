import pg from "pg";
import type { DatabaseObserver } from "../database-observer.js";

type QueryCallback = (error: Error | null, result: unknown) => void;

/**
 * A `pg.Client` whose queries are timed for `observer`, to hand a pool as its `Client`. The pool
 * calls `query` with a callback; migrations and transactions on a checked-out client call it for a
 * promise: both are timed, from the call to the answer. A submittable (a cursor, a stream) is
 * passed through untimed.
 */
export function timedClientClass(observer: DatabaseObserver): typeof pg.Client {
  class TimedClient extends pg.Client {}
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  Object.defineProperty(TimedClient.prototype, "query", {
    configurable: true,
    writable: true,
    value: function timedQuery(this: pg.Client, ...args: unknown[]): unknown {
      const first = args[0] as { submit?: unknown } | null | undefined;
      if (first !== null && typeof first === "object" && typeof first.submit === "function") {
        return query.apply(this, args);
      }
      const started = performance.now();
      const done = (failed: boolean) => observer.queryDone((performance.now() - started) / 1000, failed);
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === "function") {
        args[last] = (error: Error | null, result: unknown) => {
          done(error !== null && error !== undefined);
          (callback as QueryCallback)(error, result);
        };
        return query.apply(this, args);
      }
      const result = query.apply(this, args) as Promise<unknown> | undefined;
      if (result === undefined || typeof result.then !== "function") return result;
      return result.then(
        (value) => {
          done(false);
          return value;
        },
        (error: unknown) => {
          done(true);
          throw error;
        },
      );
    },
  });
  return TimedClient;
}
