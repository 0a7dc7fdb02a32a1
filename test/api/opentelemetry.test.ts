import path from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversationTraceId } from "../../src/domain/trace/conversation-trace.js";
import { buildDemoConversations } from "../../src/ingest/demo-conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putConversation, putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

const PROTO_ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/otlp-proto");
const NO_AUDIO = {
  has_audio: false,
  has_user_audio: false,
  has_response_audio: false,
  has_auxiliary_audio: false,
};

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  events?: { name: string; attributes?: { key: string; value: Record<string, unknown> }[] }[];
  status?: { code?: number; message?: string };
}

/** Loads ExportTraceServiceRequest from the copied OTLP .proto files. */
async function loadExportRequestType(): Promise<protobuf.Type> {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_ROOT, target);
  await root.load("opentelemetry/proto/collector/trace/v1/trace_service.proto");
  return root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
}

/** OTLP/JSON writes trace and span ids as hex; protobuf's JSON mapping reads bytes as base64. */
function hexIdsToBase64(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(hexIdsToBase64);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      ["traceId", "spanId", "parentSpanId"].includes(key) && typeof value === "string"
        ? Buffer.from(value, "hex").toString("base64")
        : hexIdsToBase64(value);
  }
  return out;
}

function attribute(span: { attributes?: OtlpSpan["attributes"] }, key: string): unknown {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  if ("intValue" in value) return Number(value.intValue);
  return Object.values(value)[0];
}

function nanos(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1000)) * 1_000_000n;
}

describe.each(BACKENDS)("GET /v1/convai/conversations/{id}?format=opentelemetry on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;
  let exportRequest: protobuf.Type;
  const demos = buildDemoConversations(1_760_000_000);
  const withTools = demos.find((d) =>
    (d.transcript as Record<string, unknown>[]).some(
      (t) => Array.isArray(t.tool_calls) && t.tool_calls.length > 0,
    ),
  ) as Record<string, unknown>;

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    exportRequest = await loadExportRequestType();
    await putConversations(server, demos);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers the full conversation, unchanged, plus otlp_traces", async () => {
    const id = String(withTools.conversation_id);
    const conversation = await sdk.client.conversationalAi.conversations.get(id, { format: "opentelemetry" });
    const body = sdk.lastBody() as Record<string, unknown>;
    expectWireModel("GetConversationResponseModel", body);
    const { otlp_traces: traces, ...rest } = body;
    expect(rest).toStrictEqual({ ...withTools, ...NO_AUDIO });
    expect(conversation.otlpTraces).toEqual(traces);
    expect(Object.keys(traces as object)).toEqual(["resourceSpans"]);
  });

  it("decodes with the OTLP protobuf definitions, and round-trips through the binary encoding", async () => {
    for (const doc of demos) {
      const id = String(doc.conversation_id);
      await sdk.client.conversationalAi.conversations.get(id, { format: "opentelemetry" });
      const traces = (sdk.lastBody() as Record<string, unknown>).otlp_traces;
      const asProtoJson = hexIdsToBase64(traces) as Record<string, unknown>;
      const message = exportRequest.fromObject(asProtoJson);
      expect(exportRequest.verify(message)).toBeNull();
      const decoded = exportRequest.decode(exportRequest.encode(message).finish());
      const back = exportRequest.toObject(decoded, { longs: String, bytes: String, enums: Number });
      const spans = (back.resourceSpans[0].scopeSpans[0].spans ?? []) as Record<string, unknown>[];
      const sent = (traces as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans[0]
        ?.scopeSpans[0]?.spans as OtlpSpan[];
      expect(spans.length).toBeGreaterThan((doc.transcript as unknown[]).length);
      expect(spans).toHaveLength(sent.length);
      // Ids, names, times and attribute counts survive the binary round trip unchanged.
      spans.forEach((span, i) => {
        const original = sent[i] as OtlpSpan;
        const hex = (v: unknown) => (v ? Buffer.from(String(v), "base64").toString("hex") : "");
        expect(hex(span.traceId)).toBe(conversationTraceId(id));
        expect(hex(span.spanId)).toBe(original.spanId);
        expect(hex(span.parentSpanId)).toBe(original.parentSpanId ?? "");
        expect(span.name).toBe(original.name);
        expect(span.startTimeUnixNano).toBe(original.startTimeUnixNano);
        expect(span.endTimeUnixNano).toBe(original.endTimeUnixNano);
        expect((span.attributes as unknown[]).length).toBe(original.attributes?.length);
      });
    }
  });

  it("has one trace per conversation, a root span for the call and one child per transcript turn", async () => {
    const id = String(withTools.conversation_id);
    await sdk.client.conversationalAi.conversations.get(id, { format: "opentelemetry" });
    const traces = (sdk.lastBody() as Record<string, unknown>).otlp_traces as {
      resourceSpans: {
        resource: { attributes: OtlpSpan["attributes"] };
        scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[];
      }[];
    };
    expect(traces.resourceSpans).toHaveLength(1);
    const resourceSpans = traces.resourceSpans[0];
    expect(attribute(resourceSpans?.resource ?? {}, "elevenlabs.agent_id")).toBe(withTools.agent_id);
    const spans = resourceSpans?.scopeSpans.flatMap((s) => s.spans) ?? [];
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([conversationTraceId(id)]));

    const metadata = withTools.metadata as { start_time_unix_secs: number; call_duration_secs: number };
    const start = metadata.start_time_unix_secs;
    const end = start + metadata.call_duration_secs;
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots).toHaveLength(1);
    const root = roots[0] as OtlpSpan;
    expect(attribute(root, "elevenlabs.conversation_id")).toBe(id);
    expect(attribute(root, "elevenlabs.agent_id")).toBe(withTools.agent_id);
    expect(attribute(root, "gen_ai.conversation.id")).toBe(id);
    expect(attribute(root, "gen_ai.operation.name")).toBe("invoke_agent");
    expect(BigInt(root.startTimeUnixNano)).toBe(nanos(start));
    expect(BigInt(root.endTimeUnixNano)).toBe(nanos(end));

    const transcript = withTools.transcript as Record<string, unknown>[];
    const turns = spans.filter((s) => s.parentSpanId === root.spanId);
    expect(turns).toHaveLength(transcript.length);
    turns.sort(
      (a, b) =>
        Number(attribute(a, "elevenlabs.transcript.index")) -
        Number(attribute(b, "elevenlabs.transcript.index")),
    );
    transcript.forEach((entry, i) => {
      const span = turns[i] as OtlpSpan;
      expect(attribute(span, "elevenlabs.transcript.index")).toBe(i);
      expect(attribute(span, "elevenlabs.transcript.role")).toBe(entry.role);
      if (typeof entry.message === "string") {
        expect(attribute(span, "elevenlabs.transcript.message")).toBe(entry.message);
      }
      const at = start + Number(entry.time_in_call_secs);
      const next = transcript[i + 1];
      const until = next ? start + Number(next.time_in_call_secs) : end;
      expect(BigInt(span.startTimeUnixNano)).toBe(nanos(at));
      expect(BigInt(span.endTimeUnixNano)).toBe(nanos(until));

      const tools = spans.filter((s) => s.parentSpanId === span.spanId);
      const calls = (entry.tool_calls ?? []) as Record<string, unknown>[];
      expect(tools.map((t) => attribute(t, "gen_ai.tool.name"))).toEqual(calls.map((c) => c.tool_name));
      for (const [j, call] of calls.entries()) {
        const tool = tools[j] as OtlpSpan;
        expect(tool.name).toBe(`execute_tool ${String(call.tool_name)}`);
        expect(attribute(tool, "gen_ai.tool.call.id")).toBe(call.request_id);
        const result = transcript
          .flatMap((t) => (t.tool_results ?? []) as Record<string, unknown>[])
          .find((r) => r.request_id === call.request_id);
        expect(result).toBeDefined();
        expect(BigInt(tool.startTimeUnixNano)).toBe(nanos(at));
        expect(BigInt(tool.endTimeUnixNano)).toBe(nanos(at + Number(result?.tool_latency_secs)));
        expect(tool.status?.code).toBe(result?.is_error ? 2 : 1);
      }
      for (const result of (entry.tool_results ?? []) as Record<string, unknown>[]) {
        expect(
          span.events?.some(
            (e) =>
              e.name === "elevenlabs.tool_result" &&
              attribute(e, "gen_ai.tool.call.id") === result.request_id,
          ),
        ).toBe(true);
      }
      const metrics = (
        entry.conversation_turn_metrics as { metrics?: Record<string, { elapsed_time: number }> }
      )?.metrics;
      for (const [name, record] of Object.entries(metrics ?? {})) {
        expect(attribute(span, `elevenlabs.metrics.${name}.elapsed_time_secs`)).toBe(record.elapsed_time);
      }
    });
  });

  it("gives the same trace id every time, and different ones to different conversations", async () => {
    const [a, b] = demos.map((d) => String(d.conversation_id));
    const idOf = async (id: string) => {
      await sdk.client.conversationalAi.conversations.get(id, { format: "opentelemetry" });
      const traces = (
        sdk.lastBody() as { otlp_traces: { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] } }
      ).otlp_traces;
      return traces.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.traceId;
    };
    expect(await idOf(a as string)).toBe(await idOf(a as string));
    expect(await idOf(a as string)).not.toBe(await idOf(b as string));
  });

  it("replaces an otlp_traces the stored document carries, and handles a conversation without turns", async () => {
    const bare = {
      ...(demos[0] as Record<string, unknown>),
      conversation_id: "conv_otel_bare",
      transcript: [],
      otlp_traces: { stale: true },
    };
    expect((await putConversation(server, bare)).status).toBe(201);
    await sdk.client.conversationalAi.conversations.get("conv_otel_bare", { format: "opentelemetry" });
    const body = sdk.lastBody() as Record<string, unknown>;
    const traces = body.otlp_traces as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
    expect(traces.resourceSpans[0]?.scopeSpans[0]?.spans).toHaveLength(1);
    const plain = await server.fetch("/v1/convai/conversations/conv_otel_bare");
    expect(((await plain.json()) as Record<string, unknown>).otlp_traces).toEqual({ stale: true });
  });

  it("answers an unknown id with 404 conversation_not_found", async () => {
    const error = await catchSdkError(() =>
      sdk.client.conversationalAi.conversations.get("conv_nope", { format: "opentelemetry" }),
    );
    expect(error.statusCode).toBe(404);
    expect(error.body).toEqual({
      detail: { status: "conversation_not_found", message: expect.stringContaining("conv_nope") },
    });
  });
});
