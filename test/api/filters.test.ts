import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, BASE_START_TIME as T } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

type ListRequest = ElevenLabs.conversationalAi.ConversationsListRequest;

/**
 * Seven conversations, each with a different mix of the facts the filters look at. The table in
 * each comment is what the expected ids below are read from.
 *
 * | id  | agent   | start | secs | status      | outcome | user   | lang | source    | text | rating | comment |
 * | f01 | agent_a | T+100 |   30 | done        | success | user_1 | en   | widget    | no   | 5      | yes     |
 * | f02 | agent_a | T+200 |  120 | done        | failure | user_2*| ja   | twilio    | yes  | 2      | blank   |
 * | f03 | agent_b | T+300 |   45 | done        | unknown | user_1 | zh   | sip_trunk | no   | 3      | no      |
 * | f04 | agent_b | T+400 |  600 | failed      | failure | -      | en   | widget    | no   | -      | yes     |
 * | f05 | agent_a | T+500 |    0 | in-progress | (none)  | -      | -    | react_sdk | yes  | -      | no      |
 * | f06 | agent_c | T+600 |   60 | processing  | success | -      | en   | widget    | no   | 1      | yes     |
 * | f07 | agent_a | T+700 |   90 | done        | success | user_3 | ja   | widget    | no   | 4      | no      |
 * (* user_2 is only in conversation_initiation_client_data.user_id)
 */
const FIXTURES = [
  buildConversation({
    id: "f01",
    agentId: "agent_a",
    startTime: T + 100,
    duration: 30,
    callSuccessful: "success",
    userId: "user_1",
    branchId: "br_main",
    versionId: "v1",
    mainLanguage: "en",
    initiationSource: "widget",
    rating: 5,
    comment: "Great help!",
    terminationReason: "end_call tool was called.",
    messages: ["I want to cancel my subscription", "Sure, your cancellation is done."],
    tools: [{ name: "lookup_order" }],
    evaluations: { resolved: "success", polite: "success" },
    dataCollection: { order_id: "A-1", amount: 10, email: "a@example.com" },
    dynamicVariables: { plan: "pro", age: 30, vip: true },
    tagIds: ["tag_vip"],
    topicIds: ["topic_billing"],
    visitedAgents: [{ agent_id: "agent_a" }, { agent_id: "agent_helper", branch_id: "branch_helper" }],
  }),
  buildConversation({
    id: "f02",
    agentId: "agent_a",
    startTime: T + 200,
    duration: 120,
    callSuccessful: "failure",
    clientUserId: "user_2",
    branchId: "br_exp",
    versionId: "v2",
    mainLanguage: "ja",
    initiationSource: "twilio",
    textOnly: true,
    rating: 2,
    comment: "   ",
    terminationReason: "Client disconnected",
    messages: ["注文をキャンセルしたいです", "かしこまりました。"],
    tools: [{ name: "lookup_order", error: true }, { name: "refund" }],
    evaluations: { resolved: "failure" },
    dataCollection: { order_id: "B-2", amount: 250.5 },
    dynamicVariables: { plan: "free", age: 17 },
    tagIds: ["tag_new"],
    topicIds: ["topic_orders", "topic_billing"],
    parentConversationId: "f01",
  }),
  buildConversation({
    id: "f03",
    agentId: "agent_b",
    startTime: T + 300,
    duration: 45,
    callSuccessful: "unknown",
    userId: "user_1",
    mainLanguage: "zh",
    initiationSource: "sip_trunk",
    rating: 3,
    messages: ["我想申请退款", "好的，退款已处理。"],
    tools: [
      { name: "refund", error: true },
      { name: "escalate", called: false },
    ],
    evaluations: { resolved: "unknown" },
    dataCollection: { order_id: "C:3", email: null },
    dynamicVariables: { plan: "pro" },
    tagIds: ["tag_vip", "tag_new"],
    visitedAgents: [{ agent_id: "agent_b" }, { agent_id: "agent_a" }],
    guardrails: [{ guardrail_type: "custom", guardrail_name: "no_medical_advice" }],
    conversationProduct: "agents",
  }),
  buildConversation({
    id: "f04",
    agentId: "agent_b",
    startTime: T + 400,
    duration: 600,
    status: "failed",
    callSuccessful: "failure",
    branchId: "br_main",
    mainLanguage: "en",
    initiationSource: "widget",
    comment: "Terrible line quality",
    terminationReason: "error",
    messages: ["The line is bad, 50% of words lost", "Sorry about that"],
    guardrails: [{ guardrail_type: "prompt_injection" }],
    workflowNodeId: "node_refund",
    parentConversationId: "f01",
  }),
  buildConversation({
    id: "f05",
    agentId: "agent_a",
    startTime: T + 500,
    duration: 0,
    status: "in-progress",
    callSuccessful: null,
    initiationSource: "react_sdk",
    textOnly: true,
    messages: ["my handle is hello_world"],
    conversationProduct: "speech_engine",
  }),
  buildConversation({
    id: "f06",
    agentId: "agent_c",
    startTime: T + 600,
    duration: 60,
    status: "processing",
    callSuccessful: "success",
    versionId: "v1",
    mainLanguage: "en",
    initiationSource: "widget",
    rating: 1,
    comment: "Rude",
    messages: ["Der Kunde möchte eine Rückerstattung", "helloXworld"],
    tools: [{ name: "lookup_order", called: false }],
    evaluations: { polite: "failure" },
    dataCollection: { amount: "99" },
    dynamicVariables: { age: "45" },
    topicIds: ["topic_orders"],
  }),
  buildConversation({
    id: "f07",
    agentId: "agent_a",
    startTime: T + 700,
    duration: 90,
    callSuccessful: "success",
    userId: "user_3",
    mainLanguage: "ja",
    initiationSource: "widget",
    rating: 4,
    terminationReason: "end_call tool was called.",
    messages: ["HELLO Support Team", "Hello! How can I help?"],
    evaluations: { resolved: "success", polite: "failure" },
    dynamicVariables: { plan: "enterprise", vip: false },
  }),
];

const ALL = FIXTURES.map((d) => String(d.conversation_id));

/** One filter check: the request and exactly the ids it must return. */
interface FilterCase {
  name: string;
  request: ListRequest;
  expected: string[];
}

const CASES: Record<string, FilterCase[]> = {
  agent_id: [
    { name: "agent_a", request: { agentId: "agent_a" }, expected: ["f01", "f02", "f05", "f07"] },
    { name: "agent_b", request: { agentId: "agent_b" }, expected: ["f03", "f04"] },
    { name: "unknown agent", request: { agentId: "agent_zzz" }, expected: [] },
  ],
  call_successful: [
    { name: "success", request: { callSuccessful: "success" }, expected: ["f01", "f06", "f07"] },
    { name: "failure", request: { callSuccessful: "failure" }, expected: ["f02", "f04"] },
    // No analysis counts as unknown (the list item says "unknown" too).
    { name: "unknown", request: { callSuccessful: "unknown" }, expected: ["f03", "f05"] },
    // compat: "error" is filter-only; it matches conversations whose status is failed.
    { name: "error", request: { callSuccessful: "error" }, expected: ["f04"] },
  ],
  call_start_after_unix: [
    {
      name: "after T+250",
      request: { callStartAfterUnix: T + 250 },
      expected: ["f03", "f04", "f05", "f06", "f07"],
    },
  ],
  call_start_before_unix: [
    {
      name: "before T+450",
      request: { callStartBeforeUnix: T + 450 },
      expected: ["f01", "f02", "f03", "f04"],
    },
    {
      name: "between T+150 and T+450",
      request: { callStartAfterUnix: T + 150, callStartBeforeUnix: T + 450 },
      expected: ["f02", "f03", "f04"],
    },
  ],
  call_duration_min_secs: [
    {
      name: "at least 60 s (inclusive)",
      request: { callDurationMinSecs: 60 },
      expected: ["f02", "f04", "f06", "f07"],
    },
  ],
  call_duration_max_secs: [
    {
      name: "at most 60 s (inclusive)",
      request: { callDurationMaxSecs: 60 },
      expected: ["f01", "f03", "f05", "f06"],
    },
    {
      name: "from 45 to 90 s",
      request: { callDurationMinSecs: 45, callDurationMaxSecs: 90 },
      expected: ["f03", "f06", "f07"],
    },
  ],
  user_id: [
    { name: "top-level user_id", request: { userId: "user_1" }, expected: ["f01", "f03"] },
    { name: "user_id from the initiation client data", request: { userId: "user_2" }, expected: ["f02"] },
  ],
  rating_min: [{ name: "at least 3", request: { ratingMin: 3 }, expected: ["f01", "f03", "f07"] }],
  rating_max: [
    { name: "at most 2", request: { ratingMax: 2 }, expected: ["f02", "f06"] },
    { name: "from 2 to 4", request: { ratingMin: 2, ratingMax: 4 }, expected: ["f02", "f03", "f07"] },
  ],
  has_feedback_comment: [
    { name: "true", request: { hasFeedbackComment: true }, expected: ["f01", "f04", "f06"] },
    // A blank comment is no comment.
    { name: "false", request: { hasFeedbackComment: false }, expected: ["f02", "f03", "f05", "f07"] },
  ],
  main_languages: [
    { name: "one language", request: { mainLanguages: "en" }, expected: ["f01", "f04", "f06"] },
    { name: "any of several", request: { mainLanguages: ["ja", "zh"] }, expected: ["f02", "f03", "f07"] },
  ],
  branch_id: [{ name: "br_main", request: { branchId: "br_main" }, expected: ["f01", "f04"] }],
  version_id: [{ name: "v1", request: { versionId: "v1" }, expected: ["f01", "f06"] }],
  exclude_statuses: [
    {
      name: "in-progress and processing",
      request: { excludeStatuses: ["in-progress", "processing"] },
      expected: ["f01", "f02", "f03", "f04", "f07"],
    },
    {
      name: "failed",
      request: { excludeStatuses: "failed" },
      expected: ["f01", "f02", "f03", "f05", "f06", "f07"],
    },
  ],
  tool_names: [
    // A call that never ran does not count as use...
    { name: "a tool that ran", request: { toolNames: "lookup_order" }, expected: ["f01", "f02"] },
    { name: "a tool that never ran", request: { toolNames: "escalate" }, expected: [] },
    { name: "any of several", request: { toolNames: ["refund", "escalate"] }, expected: ["f02", "f03"] },
  ],
  include_invalid_tool_calls: [
    // ...unless include_invalid_tool_calls says so.
    {
      name: "with calls that never ran",
      request: { toolNames: "lookup_order", includeInvalidToolCalls: true },
      expected: ["f01", "f02", "f06"],
    },
    {
      name: "only a call that never ran",
      request: { toolNames: "escalate", includeInvalidToolCalls: true },
      expected: ["f03"],
    },
  ],
  tool_names_successful: [
    { name: "refund", request: { toolNamesSuccessful: "refund" }, expected: ["f02"] },
    { name: "lookup_order", request: { toolNamesSuccessful: "lookup_order" }, expected: ["f01"] },
  ],
  tool_names_errored: [
    { name: "refund", request: { toolNamesErrored: "refund" }, expected: ["f03"] },
    {
      name: "any of several",
      request: { toolNamesErrored: ["lookup_order", "refund"] },
      expected: ["f02", "f03"],
    },
  ],
  termination_reasons: [
    { name: "one reason", request: { terminationReasons: "Client disconnected" }, expected: ["f02"] },
    {
      name: "any of several",
      request: { terminationReasons: ["end_call tool was called.", "error"] },
      expected: ["f01", "f04", "f07"],
    },
  ],
  conversation_initiation_source: [
    {
      name: "widget",
      request: { conversationInitiationSource: "widget" },
      expected: ["f01", "f04", "f06", "f07"],
    },
    { name: "twilio", request: { conversationInitiationSource: "twilio" }, expected: ["f02"] },
  ],
  text_only: [
    { name: "true", request: { textOnly: true }, expected: ["f02", "f05"] },
    { name: "false", request: { textOnly: false }, expected: ["f01", "f03", "f04", "f06", "f07"] },
  ],
  evaluation_params: [
    { name: "resolved:success", request: { evaluationParams: "resolved:success" }, expected: ["f01", "f07"] },
    { name: "resolved:unknown", request: { evaluationParams: "resolved:unknown" }, expected: ["f03"] },
    { name: "polite:failure", request: { evaluationParams: "polite:failure" }, expected: ["f06", "f07"] },
    // Several conditions must all hold.
    {
      name: "all of several",
      request: { evaluationParams: ["resolved:success", "polite:failure"] },
      expected: ["f07"],
    },
  ],
  data_collection_params: [
    { name: "eq", request: { dataCollectionParams: "order_id:eq:A-1" }, expected: ["f01"] },
    {
      name: "eq with a value containing ':'",
      request: { dataCollectionParams: "order_id:eq:C:3" },
      expected: ["f03"],
    },
    { name: "eq on a number", request: { dataCollectionParams: "amount:eq:10" }, expected: ["f01"] },
    // neq matches conversations where the field was collected with another value.
    { name: "neq", request: { dataCollectionParams: "order_id:neq:A-1" }, expected: ["f02", "f03"] },
    { name: "gt", request: { dataCollectionParams: "amount:gt:50" }, expected: ["f02", "f06"] },
    { name: "gte", request: { dataCollectionParams: "amount:gte:10" }, expected: ["f01", "f02", "f06"] },
    { name: "lt", request: { dataCollectionParams: "amount:lt:99" }, expected: ["f01"] },
    { name: "lte", request: { dataCollectionParams: "amount:lte:99" }, expected: ["f01", "f06"] },
    { name: "in", request: { dataCollectionParams: "order_id:in:A-1|B-2" }, expected: ["f01", "f02"] },
    // A null value is "not collected".
    {
      name: "eq with an empty value: not collected",
      request: { dataCollectionParams: "email:eq:" },
      expected: ["f02", "f03", "f04", "f05", "f06", "f07"],
    },
    {
      name: "neq with an empty value: collected",
      request: { dataCollectionParams: "email:neq:" },
      expected: ["f01"],
    },
    {
      name: "all of several",
      request: { dataCollectionParams: ["amount:gte:10", "order_id:eq:B-2"] },
      expected: ["f02"],
    },
  ],
  dynamic_variable_params: [
    { name: "eq", request: { dynamicVariableParams: "plan:eq:pro" }, expected: ["f01", "f03"] },
    { name: "eq on a boolean", request: { dynamicVariableParams: "vip:eq:true" }, expected: ["f01"] },
    { name: "neq", request: { dynamicVariableParams: "plan:neq:pro" }, expected: ["f02", "f07"] },
    { name: "in", request: { dynamicVariableParams: "plan:in:free|enterprise" }, expected: ["f02", "f07"] },
    // Numbers and numeric strings compare as numbers.
    { name: "gt", request: { dynamicVariableParams: "age:gt:30" }, expected: ["f06"] },
    { name: "gte", request: { dynamicVariableParams: "age:gte:18" }, expected: ["f01", "f06"] },
    { name: "lt", request: { dynamicVariableParams: "age:lt:18" }, expected: ["f02"] },
    { name: "lte", request: { dynamicVariableParams: "age:lte:30" }, expected: ["f01", "f02"] },
    {
      name: "eq with an empty value: not set",
      request: { dynamicVariableParams: "plan:eq:" },
      expected: ["f04", "f05", "f06"],
    },
    {
      name: "neq with an empty value: set",
      request: { dynamicVariableParams: "age:neq:" },
      expected: ["f01", "f02", "f06"],
    },
  ],
  tag_ids: [
    { name: "one tag", request: { tagIds: "tag_vip" }, expected: ["f01", "f03"] },
    { name: "any of several", request: { tagIds: ["tag_vip", "tag_new"] }, expected: ["f01", "f02", "f03"] },
  ],
  topic_ids: [
    { name: "topic_billing", request: { topicIds: "topic_billing" }, expected: ["f01", "f02"] },
    { name: "topic_orders", request: { topicIds: "topic_orders" }, expected: ["f02", "f06"] },
  ],
  visited_agent_ids: [
    { name: "an agent only visited", request: { visitedAgentIds: "agent_helper" }, expected: ["f01"] },
    // The conversation's own agent counts as visited.
    {
      name: "an agent visited or owning",
      request: { visitedAgentIds: "agent_a" },
      expected: ["f01", "f02", "f03", "f05", "f07"],
    },
    {
      name: "any of several",
      request: { visitedAgentIds: ["agent_helper", "agent_c"] },
      expected: ["f01", "f06"],
    },
  ],
  visited_agent_branch_ids: [
    { name: "a visited branch", request: { visitedAgentBranchIds: "branch_helper" }, expected: ["f01"] },
    {
      name: "the conversation's own branch",
      request: { visitedAgentBranchIds: "br_main" },
      expected: ["f01", "f04"],
    },
  ],
  parent_conversation_id: [
    { name: "f01", request: { parentConversationId: "f01" }, expected: ["f02", "f04"] },
  ],
  guardrail_types: [
    { name: "custom", request: { guardrailTypes: "custom" }, expected: ["f03"] },
    {
      name: "any of several",
      request: { guardrailTypes: ["custom", "prompt_injection"] },
      expected: ["f03", "f04"],
    },
  ],
  custom_guardrail_names: [
    { name: "no_medical_advice", request: { customGuardrailNames: "no_medical_advice" }, expected: ["f03"] },
  ],
  workflow_node_entered_id: [
    { name: "node_refund", request: { workflowNodeEnteredId: "node_refund" }, expected: ["f04"] },
  ],
  conversation_product_type: [
    { name: "agents", request: { conversationProductType: "agents" }, expected: ["f03"] },
    { name: "speech_engine", request: { conversationProductType: "speech_engine" }, expected: ["f05"] },
  ],
  search: [
    { name: "a word", request: { search: "subscription" }, expected: ["f01"] },
    { name: "a substring inside a word", request: { search: "cellat" }, expected: ["f01"] },
    { name: "a word and its longer forms", request: { search: "cancel" }, expected: ["f01"] },
    { name: "case-insensitively", request: { search: "hello" }, expected: ["f05", "f06", "f07"] },
    { name: "every word must occur", request: { search: "cancel subscription" }, expected: ["f01"] },
    { name: "one word missing matches nothing", request: { search: "cancel quokka" }, expected: [] },
    { name: "Japanese", request: { search: "キャンセル" }, expected: ["f02"] },
    { name: "two Japanese characters", request: { search: "注文" }, expected: ["f02"] },
    { name: "Chinese", request: { search: "申请退款" }, expected: ["f03"] },
    { name: "two Chinese characters", request: { search: "退款" }, expected: ["f03"] },
    { name: "non-ASCII Latin", request: { search: "ückerstat" }, expected: ["f06"] },
    // LIKE wildcards are plain characters in a search.
    { name: "an underscore is not a wildcard", request: { search: "o_w" }, expected: ["f05"] },
    { name: "a lone underscore", request: { search: "_" }, expected: ["f05"] },
    { name: "a percent sign", request: { search: "50%" }, expected: ["f04"] },
    { name: "a lone percent sign", request: { search: "%" }, expected: ["f04"] },
    { name: "a double quote", request: { search: '"' }, expected: [] },
    { name: "surrounding spaces are ignored", request: { search: "  subscription  " }, expected: ["f01"] },
    { name: "an empty search matches everything", request: { search: "" }, expected: ALL },
  ],
  combined: [
    {
      name: "every filter must hold",
      request: { agentId: "agent_a", callSuccessful: "success", hasFeedbackComment: false },
      expected: ["f07"],
    },
    {
      name: "facets and columns together",
      request: { tagIds: "tag_vip", mainLanguages: "zh", toolNamesErrored: "refund" },
      expected: ["f03"],
    },
  ],
};

describe.each(BACKENDS)("GET /v1/convai/conversations filters on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    await putConversations(server, FIXTURES);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function listIds(request: ListRequest): Promise<string[]> {
    const page = await sdk.client.conversationalAi.conversations.list({ pageSize: 100, ...request });
    expectWireModel("GetConversationsPageResponseModel", sdk.lastBody());
    expect(page.hasMore).toBe(false);
    return page.conversations.map((c) => c.conversationId);
  }

  it("lists every fixture without filters", async () => {
    expect(await listIds({})).toEqual([...ALL].reverse());
  });

  for (const [filter, cases] of Object.entries(CASES)) {
    describe(filter, () => {
      it.each(cases)("$name", async ({ request, expected }) => {
        const ids = await listIds(request);
        expect([...ids].sort()).toEqual([...expected].sort());
        // Filters never change the order: newest first.
        expect(ids).toEqual(ALL.filter((id) => expected.includes(id)).reverse());
      });
    });
  }

  it("reads repeated query keys as a list, as the SDK sends them", async () => {
    const response = await server.fetch(
      "/v1/convai/conversations?main_languages=ja&main_languages=zh&tool_names_errored=refund&tool_names_errored=lookup_order",
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { conversations: { conversation_id: string }[] };
    expectWireModel("GetConversationsPageResponseModel", body);
    expect(body.conversations.map((c) => c.conversation_id)).toEqual(["f03", "f02"]);
  });

  it("refuses triggered_procedure_ids with a 422 naming the filter", async () => {
    const response = await server.fetch("/v1/convai/conversations?triggered_procedure_ids=proc_1");
    expect(response.status).toBe(422);
    const body = (await response.json()) as { detail: { loc: unknown[]; msg: string; type: string }[] };
    expectWireModel("HttpValidationError", body);
    expect(body.detail).toEqual([
      {
        loc: ["query", "triggered_procedure_ids"],
        msg: expect.stringContaining("triggered_procedure_ids"),
        type: expect.any(String),
      },
    ]);
  });
});
