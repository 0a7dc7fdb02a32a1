import type { FastifyInstance } from "fastify";
import type { BlobStore } from "../../blobs/blob-store.js";
import type { Database } from "../../store/store.js";
import type { PublicRoutes } from "../public-routes.js";

/** Where a load balancer or Kubernetes' readiness probe asks whether to send this node work. */
export const READINESS_PATH = "/readyz";

/** How long one readiness check may take before it counts as failed. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

/** What one check found: `ok`, `failed` (it answered with an error) or `timed_out`. */
export type CheckResult = "ok" | "failed" | "timed_out";

/** The checks `/readyz` reports, by name as they appear in its body. */
export interface ReadinessChecks {
  /** Serving at all means the schema migrations ran: the app is built after `openServices` resolved. */
  migrations: CheckResult;
  /** The database answered `SELECT 1`. */
  database: CheckResult;
  /** The blob store can be reached and written to. */
  blob_store: CheckResult;
  /** `failed` once the node began to stop (SIGTERM): it takes no new work. */
  accepting_work: CheckResult;
}

/** What the readiness route is built from. */
export interface ReadinessDeps {
  db: Pick<Database, "ping">;
  blobs: Pick<BlobStore, "checkReachable">;
  /** Whether the node began to stop (it drains its live sessions and refuses new work). */
  stopping: () => boolean;
  /** The app's routes served without an API key: `/readyz` is one. */
  publicRoutes: PublicRoutes;
  /** Each check's time limit (default READINESS_CHECK_TIMEOUT_MS). */
  checkTimeoutMs?: number;
}

/** Runs a check within `timeoutMs`; a failure is logged by the caller, never sent (it can name hosts). */
async function runCheck(
  check: () => Promise<void>,
  timeoutMs: number,
): Promise<{ result: CheckResult; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timed_out">((resolve) => {
    timer = setTimeout(() => resolve("timed_out"), timeoutMs);
  });
  const ran = check().then(
    () => ({ result: "ok" as const }),
    (error: unknown) => ({ result: "failed" as const, error }),
  );
  try {
    const first = await Promise.race([ran, timedOut]);
    return first === "timed_out" ? { result: "timed_out" } : first;
  } finally {
    clearTimeout(timer);
  }
}

/** The first failed check, said in a sentence for the 503's message. */
function describeFailure(checks: ReadinessChecks, timeoutMs: number): string {
  const how = (result: CheckResult) =>
    result === "timed_out" ? `did not answer within ${timeoutMs} ms` : "failed";
  if (checks.accepting_work !== "ok")
    return "The server is shutting down: it takes no new work. Send requests to another node.";
  if (checks.database !== "ok") return `Not ready: the database check ${how(checks.database)}.`;
  if (checks.blob_store !== "ok") return `Not ready: the blob store check ${how(checks.blob_store)}.`;
  return "Not ready: the schema migrations have not run.";
}

/**
 * `GET /readyz` (no API key): 200 `{"status":"ok","checks":{…}}` when the database answers, the blob
 * store can be written and the node is not stopping; otherwise 503 in the API's error envelope,
 * `{"detail":{"status":"not_ready" (or "shutting_down"),"message":…,"checks":{…}}}`, each check `ok`, `failed` or
 * `timed_out`. The causes are logged (warn), never sent. `/healthz` says only that the process is up.
 */
export async function readinessRoutes(app: FastifyInstance, deps: ReadinessDeps): Promise<void> {
  const timeoutMs = deps.checkTimeoutMs ?? READINESS_CHECK_TIMEOUT_MS;
  deps.publicRoutes.add("GET", READINESS_PATH);
  app.get(READINESS_PATH, async (request, reply) => {
    const [database, blobStore] = await Promise.all([
      runCheck(() => deps.db.ping(), timeoutMs),
      runCheck(() => deps.blobs.checkReachable(), timeoutMs),
    ]);
    const checks: ReadinessChecks = {
      migrations: "ok",
      database: database.result,
      blob_store: blobStore.result,
      accepting_work: deps.stopping() ? "failed" : "ok",
    };
    reply.header("cache-control", "no-store");
    if (Object.values(checks).every((result) => result === "ok")) return { status: "ok", checks };
    for (const [name, outcome] of [
      ["database", database],
      ["blob_store", blobStore],
    ] as const) {
      if (outcome.result !== "ok")
        request.log.warn(
          { check: name, result: outcome.result, err: outcome.error },
          "readiness check failed",
        );
    }
    return reply.code(503).send({
      detail: {
        status: checks.accepting_work === "ok" ? "not_ready" : "shutting_down",
        message: describeFailure(checks, timeoutMs),
        checks,
      },
    });
  });
}
