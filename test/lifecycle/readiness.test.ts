/**
 * `/readyz`, on every backend: 200 with every check `ok` (no API key needed); 503 in the API's
 * error envelope, naming the failed check, when the blob store can't be written (its directory
 * replaced by a file), when the database is gone (closed under the running server), when a check
 * hangs past its time limit, and from the start of a drain on (SIGTERM), while new requests are
 * refused 503 with `Connection: close` and `/healthz` still answers.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import Fastify from "fastify";
import pg from "pg";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { readinessRoutes } from "../../src/api/health/readiness-routes.js";
import { PublicRoutes } from "../../src/api/public-routes.js";
import { openPostgresDatabase } from "../../src/store/postgres/postgres-database.js";
import { BACKENDS, createTestStorage } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

type Json = Record<string, unknown>;

const ALL_OK = { migrations: "ok", database: "ok", blob_store: "ok", accepting_work: "ok" };

/** GETs a path without a key; the status, the body and the headers. */
async function getPublic(server: TestServer, pathName: string) {
  const response = await fetch(`${server.url}${pathName}`);
  return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
}

describe.each(BACKENDS)("/readyz on %s", (backend) => {
  let server: TestServer | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("answers 200 with every check ok, without an API key", async () => {
    server = await startTestServer(backend);
    const ready = await getPublic(server, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ok", checks: ALL_OK });
    expect(ready.headers.get("cache-control")).toBe("no-store");
  });

  it("answers 503 naming the blob store when its directory can't be written, and 200 once it can", async () => {
    server = await startTestServer(backend);
    const blobDir = path.join(server.storage.dataDir, "blobs");
    // A file where the blob directory should be: nothing can be stored (root ignores permissions).
    renameSync(blobDir, `${blobDir}.moved`);
    writeFileSync(blobDir, "not a directory");
    try {
      const notReady = await getPublic(server, "/readyz");
      expect(notReady.status).toBe(503);
      expect(notReady.body).toEqual({
        detail: {
          status: "not_ready",
          message: "Not ready: the blob store check failed.",
          checks: { ...ALL_OK, blob_store: "failed" },
        },
      });
    } finally {
      rmSync(blobDir);
      renameSync(`${blobDir}.moved`, blobDir);
    }
    expect((await getPublic(server, "/readyz")).status).toBe(200);
  });

  it("answers 503 naming the database once the database is closed under the server", async () => {
    server = await startTestServer(backend);
    expect((await getPublic(server, "/readyz")).status).toBe(200);
    await server.server.services.db.close();
    const notReady = await getPublic(server, "/readyz");
    expect(notReady.status).toBe(503);
    expect(notReady.body).toEqual({
      detail: {
        status: "not_ready",
        message: "Not ready: the database check failed.",
        checks: { ...ALL_OK, database: "failed" },
      },
    });
    // The process is still alive.
    expect((await getPublic(server, "/healthz")).status).toBe(200);
  });

  it("answers 503 shutting_down from the start of a drain, and new requests are refused with Connection: close", async () => {
    server = await startTestServer(backend);
    expect((await server.fetch("/v1/convai/conversations")).status).toBe(200);
    expect(await server.server.drain({ graceMs: 0 })).toBe(0);

    const draining = await getPublic(server, "/readyz");
    expect(draining.status).toBe(503);
    expect(draining.body).toEqual({
      detail: {
        status: "shutting_down",
        message: expect.stringMatching(/shutting down/),
        checks: { ...ALL_OK, accepting_work: "failed" },
      },
    });
    expect((await getPublic(server, "/healthz")).body).toEqual({ status: "ok" });

    const refused = await server.fetch("/v1/convai/conversations");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("connection")).toBe("close");
    expect(((await refused.json()) as Json).detail).toEqual({
      status: "shutting_down",
      message: expect.stringMatching(/shutting down.*another node/),
    });
  });
});

describe("a readiness check that hangs", () => {
  it("counts as timed_out after its time limit", async () => {
    const storage = createTestStorage("sqlite");
    const db = await storage.open();
    const app = Fastify({ loggerInstance: pino({ level: "silent" }) });
    await app.register(async (scope) =>
      readinessRoutes(scope, {
        db,
        blobs: { checkReachable: () => new Promise<void>(() => {}) },
        stopping: () => false,
        publicRoutes: new PublicRoutes(),
        checkTimeoutMs: 50,
      }),
    );
    try {
      const started = Date.now();
      const response = await app.inject({ method: "GET", url: "/readyz" });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        detail: {
          status: "not_ready",
          message: "Not ready: the blob store check did not answer within 50 ms.",
          checks: { ...ALL_OK, blob_store: "timed_out" },
        },
      });
    } finally {
      await app.close();
      await db.close();
      await storage.cleanup();
    }
  });
});

describe.runIf(BACKENDS.includes("postgres"))(
  "the PostgreSQL ping with every pooled connection in use",
  () => {
    it("answers at once while a query finished in the last 5 s, and waits for a connection after", async () => {
      const storage = createTestStorage("postgres");
      const db = await openPostgresDatabase(storage.databaseUrl ?? "", { maxConnections: 1 });
      // Another session locks the settings table, so the pool's one connection hangs on a read of it.
      const other = new pg.Client({ connectionString: storage.databaseUrl });
      await other.connect();
      try {
        expect(await db.tracePushes.isEnabled()).toBe(false);
        await other.query("BEGIN");
        await other.query("LOCK TABLE trace_push_settings IN ACCESS EXCLUSIVE MODE");
        const busy = db.tracePushes.isEnabled();
        await new Promise((resolve) => setTimeout(resolve, 200));
        // A query finished moments ago: the database answers.
        const startedAt = Date.now();
        await db.ping();
        expect(Date.now() - startedAt).toBeLessThan(500);
        // Nothing has finished for over 5 s: the ping waits for the connection.
        await new Promise((resolve) => setTimeout(resolve, 5_200));
        const ping = db.ping();
        const first = await Promise.race([
          ping.then(() => "answered"),
          new Promise((resolve) => setTimeout(() => resolve("waiting"), 1_000)),
        ]);
        expect(first).toBe("waiting");
        await other.query("ROLLBACK");
        expect(await busy).toBe(false);
        await ping;
      } finally {
        await other.end();
        await db.close();
        await storage.cleanup();
      }
    }, 20_000);
  },
);
