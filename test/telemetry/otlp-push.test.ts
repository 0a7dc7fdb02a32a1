import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import protobuf from "protobufjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { conversationTraceId } from "../../src/domain/trace/conversation-trace.js";
import { buildDemoConversations } from "../../src/ingest/demo-conversations.js";
import { startServer } from "../../src/main.js";
import { BACKENDS, createTestStorage } from "../support/backends.js";
import { putConversation } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const PROTO_ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/otlp-proto");

/** A span as compared here: ids in hex, times as decimal strings. */
interface SpanView {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}

/** One request the collector received. */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  status: number;
  spans: SpanView[];
}

/** A local OTLP/HTTP collector: decodes each protobuf body and answers `status` (503 with a long Retry-After). */
interface Collector {
  url: string;
  requests: Received[];
  status: number;
  spansOf(traceId: string): SpanView[];
  close(): Promise<void>;
}

async function loadExportRequestType(): Promise<protobuf.Type> {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_ROOT, target);
  await root.load("opentelemetry/proto/collector/trace/v1/trace_service.proto");
  return root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
}

function hex(value: unknown): string {
  return value ? Buffer.from(String(value), "base64").toString("hex") : "";
}

async function startCollector(exportRequest: protobuf.Type): Promise<Collector> {
  const collector: Collector = {
    url: "",
    requests: [],
    status: 200,
    spansOf: (traceId) =>
      collector.requests
        .filter((r) => r.status === 200)
        .flatMap((r) => r.spans)
        .filter((s) => s.traceId === traceId),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const decoded = exportRequest.toObject(exportRequest.decode(Buffer.concat(chunks)), {
        longs: String,
        bytes: String,
      }) as { resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] };
      const spans = (decoded.resourceSpans ?? []).flatMap((r) =>
        (r.scopeSpans ?? []).flatMap((s) =>
          (s.spans ?? []).map((span) => ({
            traceId: hex(span.traceId),
            spanId: hex(span.spanId),
            parentSpanId: hex(span.parentSpanId),
            name: String(span.name),
            startTimeUnixNano: String(span.startTimeUnixNano),
            endTimeUnixNano: String(span.endTimeUnixNano),
          })),
        ),
      );
      const status = collector.status;
      collector.requests.push({ path: request.url ?? "", headers: request.headers, status, spans });
      // A Retry-After past the exporter's timeout: the exporter gives the batch back at once, so
      // the retry seen here is the queue's, not the exporter's in-call one.
      if (status === 503) response.writeHead(503, { "retry-after": "60" }).end();
      else response.writeHead(status, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  collector.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return collector;
}

/** Polls until `check` holds (10 s at most). */
async function waitFor(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The spans `format=opentelemetry` serves for a conversation, in the same view. */
async function servedSpans(server: TestServer, conversationId: string): Promise<SpanView[]> {
  const response = await server.fetch(
    `/v1/convai/conversations/${encodeURIComponent(conversationId)}?format=opentelemetry`,
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as {
    otlp_traces: { resourceSpans: { scopeSpans: { spans: Record<string, string>[] }[] }[] };
  };
  return body.otlp_traces.resourceSpans.flatMap((r) =>
    r.scopeSpans.flatMap((s) =>
      s.spans.map((span) => ({
        traceId: String(span.traceId),
        spanId: String(span.spanId),
        parentSpanId: span.parentSpanId ?? "",
        name: String(span.name),
        startTimeUnixNano: String(span.startTimeUnixNano),
        endTimeUnixNano: String(span.endTimeUnixNano),
      })),
    ),
  );
}

function bySpanId(spans: SpanView[]): SpanView[] {
  return [...spans].sort((a, b) => a.spanId.localeCompare(b.spanId));
}

const PUSH_ENV = {
  OPENCONVAI_OTLP_INTERVAL_MS: "25",
  OPENCONVAI_OTLP_RETRY_MS: "50",
  OPENCONVAI_OTLP_TIMEOUT_SECS: "2",
  OPENCONVAI_OTLP_HEADERS: "x-tenant=acme, authorization=Bearer%20s3cret",
};

describe.each(BACKENDS)("pushing finished conversations' traces over OTLP/HTTP on %s", (backend) => {
  let exportRequest: protobuf.Type;
  let collector: Collector;
  let server: TestServer;
  const demos = buildDemoConversations(1_760_000_000);
  let next = 0;
  /** A fresh demo document under a new id. */
  const freshDoc = (changes: Record<string, unknown> = {}): Record<string, unknown> => {
    const base = demos[next % demos.length] as Record<string, unknown>;
    next += 1;
    return { ...base, conversation_id: `conv_push_${backend}_${next}`, ...changes };
  };

  beforeAll(async () => {
    exportRequest = await loadExportRequestType();
    collector = await startCollector(exportRequest);
    server = await startTestServer(backend, { ...PUSH_ENV, OPENCONVAI_OTLP_ENDPOINT: `${collector.url}/` });
  });
  afterAll(async () => {
    await server?.stop();
    await collector?.close();
  });
  afterEach(() => {
    collector.status = 200;
  });

  it("pushes a finished conversation's trace, as format=opentelemetry serves it, with the configured headers", async () => {
    const doc = freshDoc();
    const id = String(doc.conversation_id);
    expect((await putConversation(server, doc)).status).toBe(201);
    const traceId = conversationTraceId(id);
    const served = await servedSpans(server, id);
    await waitFor("the pushed trace", () => collector.spansOf(traceId).length >= served.length);

    const pushed = collector.spansOf(traceId);
    expect(pushed.length).toBeGreaterThan((doc.transcript as unknown[]).length);
    expect(bySpanId(pushed)).toEqual(bySpanId(served));
    expect(new Set(pushed.map((s) => s.traceId))).toEqual(new Set([traceId]));

    const request = collector.requests.find((r) => r.spans.some((s) => s.traceId === traceId));
    expect(request?.path).toBe("/v1/traces");
    expect(request?.headers["content-type"]).toBe("application/x-protobuf");
    expect(request?.headers["x-tenant"]).toBe("acme");
    expect(request?.headers.authorization).toBe("Bearer s3cret");
    await waitFor(
      "an empty queue",
      async () => (await server.server.services.db.tracePushes.countQueued()) === 0,
    );
  });

  it("pushes a conversation in progress only once it finishes", async () => {
    const doc = freshDoc({ status: "in-progress" });
    const id = String(doc.conversation_id);
    const traceId = conversationTraceId(id);
    expect((await putConversation(server, doc)).status).toBe(201);
    const db = server.server.services.db;
    expect(await db.tracePushes.countQueued()).toBe(0);
    // Several rounds pass: nothing is sent for it.
    const seen = collector.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(collector.spansOf(traceId)).toEqual([]);
    expect(collector.requests.length).toBe(seen);

    expect((await putConversation(server, { ...doc, status: "done" })).status).toBe(200);
    await waitFor("the pushed trace", () => collector.spansOf(traceId).length > 0);
    expect(bySpanId(collector.spansOf(traceId))).toEqual(bySpanId(await servedSpans(server, id)));
    // Written again while finished: not queued a second time (a queued row would stay, the
    // collector refusing it).
    await waitFor("an empty queue", async () => (await db.tracePushes.countQueued()) === 0);
    collector.status = 503;
    const requests = collector.requests.length;
    expect((await putConversation(server, { ...doc, status: "done" })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await db.tracePushes.countQueued()).toBe(0);
    expect(collector.requests.length).toBe(requests);
  });

  it("keeps a trace the collector refused (503) queued, with its attempt counted, and pushes it when it answers 200", async () => {
    collector.status = 503;
    const doc = freshDoc();
    const id = String(doc.conversation_id);
    const traceId = conversationTraceId(id);
    expect((await putConversation(server, doc)).status).toBe(201);
    const db = server.server.services.db;
    await waitFor("a failed attempt on the record", async () => {
      const rows = await db.tracePushes.claimDue(Number.MAX_SAFE_INTEGER, 100);
      return (rows.find((r) => r.conversationId === id)?.attempts ?? 0) >= 2;
    });
    const refused = collector.requests.filter(
      (r) => r.status === 503 && r.spans.some((s) => s.traceId === traceId),
    );
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(collector.spansOf(traceId)).toEqual([]);

    collector.status = 200;
    await waitFor("the pushed trace", () => collector.spansOf(traceId).length > 0);
    expect(bySpanId(collector.spansOf(traceId))).toEqual(bySpanId(await servedSpans(server, id)));
    await waitFor("an empty queue", async () => (await db.tracePushes.countQueued()) === 0);
  });

  it("drops a queued conversation that was deleted before it could be pushed", async () => {
    collector.status = 503;
    const doc = freshDoc();
    const id = String(doc.conversation_id);
    const traceId = conversationTraceId(id);
    expect((await putConversation(server, doc)).status).toBe(201);
    const db = server.server.services.db;
    await waitFor("a failed attempt", async () =>
      (await db.tracePushes.claimDue(Number.MAX_SAFE_INTEGER, 100)).some(
        (r) => r.conversationId === id && r.attempts > 0,
      ),
    );
    const deleted = await server.fetch(`/v1/convai/conversations/${id}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    collector.status = 200;
    await waitFor("an empty queue", async () => (await db.tracePushes.countQueued()) === 0);
    expect(collector.spansOf(traceId)).toEqual([]);
  });
});

describe.each(BACKENDS)("turning trace pushing on and off on %s", (backend) => {
  it("a server started without OPENCONVAI_OTLP_ENDPOINT turns queueing off and empties the queue", async () => {
    const storage = createTestStorage(backend);
    const start = (env: Record<string, string>) =>
      startServer(
        resolveConfig(
          { host: "127.0.0.1", port: "0", data: storage.dataDir, databaseUrl: storage.databaseUrl },
          { ...env, OPENCONVAI_BOOTSTRAP_KEY: "oc_test_push_toggle" },
        ),
        pino({ level: "silent" }),
      );
    const put = (url: string, id: string) =>
      fetch(`${url}/ingest/v1/conversations/${id}`, {
        method: "PUT",
        headers: { "content-type": "application/json", "xi-api-key": "oc_test_push_toggle" },
        body: JSON.stringify({ ...buildDemoConversations(1_760_000_000)[0], conversation_id: id }),
      });
    try {
      // A collector that is never reached: the conversations stay queued.
      const withPush = await start({
        OPENCONVAI_OTLP_ENDPOINT: "http://127.0.0.1:9/",
        OPENCONVAI_OTLP_INTERVAL_MS: "3600000",
      });
      try {
        expect(await withPush.services.db.tracePushes.isEnabled()).toBe(true);
        expect((await put(withPush.url, "conv_toggle_1")).status).toBe(201);
        await waitFor(
          "a queued row",
          async () => (await withPush.services.db.tracePushes.countQueued()) === 1,
        );
      } finally {
        await withPush.stop();
      }

      const without = await start({});
      try {
        const store = without.services.db.tracePushes;
        expect(await store.isEnabled()).toBe(false);
        expect(await store.countQueued()).toBe(0);
        expect((await put(without.url, "conv_toggle_2")).status).toBe(201);
        expect(await store.countQueued()).toBe(0);
      } finally {
        await without.stop();
      }
    } finally {
      await storage.cleanup();
    }
  });
});
