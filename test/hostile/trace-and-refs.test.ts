import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversationTrace } from "../../src/domain/trace/conversation-trace.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { putConversation, putConversations } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/** Two Zendesk tickets that are one Number (2^53 + 1 rounds to 2^53): finding 18. */
const TICKET_A = "9007199254740992";
const TICKET_B = "9007199254740993";

function withTicket(id: string, ticket: string) {
  const doc = buildConversation({ id, agentId: "agent_big_tickets" });
  (doc.metadata as Record<string, unknown>).async_metadata = {
    delivery_status: "success",
    delivery_timestamp: 1_750_000_100,
    external_system: "zendesk",
    external_id: ticket,
    external_link: `https://acme.zendesk.com/agent/tickets/${ticket}`,
  };
  return doc;
}

/** A conversation whose transcript times are far past anything OTLP can carry: finding 12. */
function withHugeTimes(id: string, timeInCall: number) {
  const doc = buildConversation({ id, messages: ["Hello.", "Hi.", "Bye."] });
  const transcript = doc.transcript as Record<string, unknown>[];
  for (const turn of transcript) turn.time_in_call_secs = timeInCall;
  (doc.metadata as Record<string, unknown>).call_duration_secs = timeInCall;
  return doc;
}

/** The start and end times (unix nanoseconds, as OTLP/JSON writes them) of every span of a trace. */
function spanTimes(trace: Record<string, unknown>): bigint[] {
  const resourceSpans = trace.resourceSpans as { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
  return resourceSpans.flatMap((r) =>
    r.scopeSpans.flatMap((s) =>
      s.spans.flatMap((span) => [
        BigInt(String(span.startTimeUnixNano)),
        BigInt(String(span.endTimeUnixNano)),
      ]),
    ),
  );
}

const MAX_UINT64 = 2n ** 64n - 1n;

describe("the OpenTelemetry rendering of out-of-range times (finding 12)", () => {
  it.each([1e305, 1e308, Number.MAX_VALUE, -1e305, 1e12])(
    "renders time_in_call_secs %d with every span time within OTLP's unsigned 64-bit nanoseconds",
    (value) => {
      const trace = buildConversationTrace(withHugeTimes("conv_huge", value));
      const times = spanTimes(trace);
      expect(times.length).toBeGreaterThan(0);
      for (const time of times) {
        expect(time >= 0n).toBe(true);
        expect(time <= MAX_UINT64).toBe(true);
      }
    },
  );
});

describe.each(BACKENDS)("hostile traces and references on %s", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
    await putConversations(server, [
      withTicket("conv_ticket_a", TICKET_A),
      withTicket("conv_ticket_b", TICKET_B),
    ]);
  });
  afterAll(async () => server?.stop());

  it("serves format=opentelemetry for a stored time_in_call_secs of 1e305 (finding 12)", async () => {
    expect((await putConversation(server, withHugeTimes("conv_huge_time", 1e305))).status).toBe(201);
    const response = await server.fetch("/v1/convai/conversations/conv_huge_time?format=opentelemetry");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { otlp_traces: Record<string, unknown>; transcript: unknown[] };
    expect(body.transcript).toHaveLength(3);
    for (const time of spanTimes(body.otlp_traces)) expect(time <= MAX_UINT64).toBe(true);
  });

  it.each([
    [TICKET_A, "conv_ticket_a"],
    [TICKET_B, "conv_ticket_b"],
    [`000${TICKET_B}`, "conv_ticket_b"],
  ])(
    "resolves Zendesk ticket %s past 2^53 to its own conversation (finding 18)",
    async (ticket, expected) => {
      const query = new URLSearchParams({
        agent_id: "agent_big_tickets",
        reference: `https://acme.zendesk.com/agent/tickets/${ticket}`,
      });
      const response = await server.fetch(`/v1/convai/conversations/resolve?${query}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { conversation_id: string }).conversation_id).toBe(expected);
    },
  );
});
