import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { putConversation, putConversations } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const DAY = 86_400;
/** 2026-03-01 00:00 UTC. */
const MAR_1 = 1_772_323_200;
const OVERVIEW = "/v1/convai/analytics/overview";

interface Figures {
  conversations: number;
  successful: number;
  failed: number;
  unknown: number;
  success_rate: number | null;
  average_duration_secs: number | null;
  p90_duration_secs: number | null;
}
interface OverviewBody {
  agent_id: string | null;
  date_from: string;
  date_to: string;
  totals: Figures;
  days: (Figures & { date: string })[];
  evaluation_criteria: { criteria_id: string; success: number; failure: number; unknown: number }[];
  tools: { tool_name: string; conversations: number }[];
}

const EMPTY_DAY = {
  conversations: 0,
  successful: 0,
  failed: 0,
  unknown: 0,
  success_rate: null,
  average_duration_secs: null,
  p90_duration_secs: null,
};

describe.each(BACKENDS)("GET /v1/convai/analytics/overview on %s", (backend) => {
  let server: TestServer;

  const overview = async (query: string): Promise<OverviewBody> => {
    const response = await server.fetch(`${OVERVIEW}?${query}`);
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as OverviewBody;
  };

  beforeAll(async () => {
    server = await startTestServer(backend);
    // Ten finished conversations on 1 March (durations 10…100 s), one on 2 March, one still live.
    const docs = Array.from({ length: 10 }, (_, i) =>
      buildConversation({
        id: `m1_${i}`,
        agentId: i < 8 ? "agent_shop" : "agent_help",
        startTime: MAR_1 + 60 * i,
        duration: 10 * (i + 1),
        callSuccessful: i < 6 ? "success" : i < 8 ? "failure" : "unknown",
        evaluations: i < 3 ? { solved: i === 0 ? "failure" : "success", polite: "success" } : undefined,
        tools: i < 4 ? [{ name: "lookup_order" }, ...(i === 0 ? [{ name: "refund" }] : [])] : [],
      }),
    );
    docs.push(
      buildConversation({
        id: "m2",
        agentId: "agent_shop",
        startTime: MAR_1 + DAY + 5,
        duration: 7.25,
        status: "failed",
      }),
      buildConversation({ id: "live", agentId: "agent_shop", startTime: MAR_1 + 100, status: "in-progress" }),
    );
    await putConversations(server, docs);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers totals, every day of the period, evaluation results and the most used tools", async () => {
    const body = await overview("date_from=2026-02-28&date_to=2026-03-03");
    expect(body.agent_id).toBeNull();
    expect([body.date_from, body.date_to]).toEqual(["2026-02-28", "2026-03-03"]);
    // 11 counted (m2 failed as a call, yet judged a success): durations 10…100 and 7.25; nearest-rank p90 is the 10th of 11 sorted values (90).
    expect(body.totals).toEqual({
      conversations: 11,
      successful: 7,
      failed: 2,
      unknown: 2,
      success_rate: 7 / 9,
      average_duration_secs: Math.round(((550 + 7.25) / 11) * 10) / 10,
      p90_duration_secs: 90,
    });
    expect(body.days).toEqual([
      { date: "2026-02-28", ...EMPTY_DAY },
      {
        date: "2026-03-01",
        conversations: 10,
        successful: 6,
        failed: 2,
        unknown: 2,
        success_rate: 0.75,
        average_duration_secs: 55,
        p90_duration_secs: 90,
      },
      {
        date: "2026-03-02",
        conversations: 1,
        successful: 1,
        failed: 0,
        unknown: 0,
        success_rate: 1,
        average_duration_secs: 7.3,
        p90_duration_secs: 7,
      },
      { date: "2026-03-03", ...EMPTY_DAY },
    ]);
    expect(body.evaluation_criteria).toEqual([
      { criteria_id: "polite", success: 3, failure: 0, unknown: 0 },
      { criteria_id: "solved", success: 2, failure: 1, unknown: 0 },
    ]);
    expect(body.tools).toEqual([
      { tool_name: "lookup_order", conversations: 4 },
      { tool_name: "refund", conversations: 1 },
    ]);
  });

  it("filters by agent", async () => {
    const body = await overview("agent_id=agent_help&date_from=2026-03-01&date_to=2026-03-02");
    expect(body.agent_id).toBe("agent_help");
    expect(body.totals).toEqual({
      conversations: 2,
      successful: 0,
      failed: 0,
      unknown: 2,
      success_rate: null,
      average_duration_secs: 95,
      p90_duration_secs: 100,
    });
    expect(body.days.map((d) => d.conversations)).toEqual([2, 0]);
    expect(body.tools).toEqual([]);
  });

  it("defaults to the 30 days up to today (UTC), or the 30 days up to date_to", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const recent = await overview("");
    expect(recent.date_to).toBe(today);
    expect(recent.days).toHaveLength(30);
    expect(recent.days.at(-1)?.date).toBe(today);
    const ending = await overview("date_to=2026-03-10");
    expect([ending.date_from, ending.date_to]).toEqual(["2026-02-09", "2026-03-10"]);
    expect(ending.totals.conversations).toBe(11);
  });

  it("shows a changed evaluation, a replaced conversation and a deleted one in the next answer", async () => {
    const query = "date_from=2026-03-01&date_to=2026-03-02";
    await overview(query);
    const changed = buildConversation({
      id: "m1_0",
      agentId: "agent_shop",
      startTime: MAR_1,
      duration: 10,
      callSuccessful: "success",
      evaluations: { solved: "success", polite: "unknown" },
      tools: [{ name: "cancel_order" }],
    });
    expect((await putConversation(server, changed)).status).toBe(200);
    let body = await overview(query);
    expect(body.evaluation_criteria).toEqual([
      { criteria_id: "polite", success: 2, failure: 0, unknown: 1 },
      { criteria_id: "solved", success: 3, failure: 0, unknown: 0 },
    ]);
    expect(body.tools).toEqual([
      { tool_name: "lookup_order", conversations: 3 },
      { tool_name: "cancel_order", conversations: 1 },
    ]);

    // Replaced with another start day, then deleted.
    expect(
      (
        await putConversation(server, {
          ...changed,
          metadata: { ...(changed.metadata as object), start_time_unix_secs: MAR_1 + DAY + 50 },
        })
      ).status,
    ).toBe(200);
    body = await overview(query);
    expect(body.days.map((d) => d.conversations)).toEqual([9, 2]);
    const deleted = await server.fetch("/v1/convai/conversations/m1_0", { method: "DELETE" });
    expect(deleted.status).toBe(200);
    body = await overview(query);
    expect(body.days.map((d) => d.conversations)).toEqual([9, 1]);
    expect(body.totals.conversations).toBe(10);
    expect(body.tools).toEqual([{ tool_name: "lookup_order", conversations: 3 }]);
  });

  it.each([
    ["date_from=2026-02-30", "date_from"],
    ["date_from=01-03-2026", "date_from"],
    ["date_to=tomorrow", "date_to"],
    ["date_from=2026-03-02&date_to=2026-03-01", "date_from"],
    ["date_from=2025-01-01&date_to=2026-01-02", "date_from"],
  ])("refuses %s with a 422 on %s", async (query, field) => {
    const response = await server.fetch(`${OVERVIEW}?${query}`);
    expect(response.status).toBe(422);
    const body = (await response.json()) as { detail: { loc: unknown[]; msg: string; type: string }[] };
    expect(body.detail).toHaveLength(1);
    expect(body.detail[0]?.loc).toEqual(["query", field]);
    expect(typeof body.detail[0]?.msg).toBe("string");
    expect(typeof body.detail[0]?.type).toBe("string");
  });

  it("takes a whole leap year (366 days)", async () => {
    const body = await overview("date_from=2028-01-01&date_to=2028-12-31");
    expect(body.days).toHaveLength(366);
  });

  it("needs the API key", async () => {
    const response = await fetch(`${server.url}${OVERVIEW}`);
    expect(response.status).toBe(401);
  });
});
