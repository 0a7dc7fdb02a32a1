/**
 * The routes the fuzz suite covers (every route of docs/compatibility.md and docs/ingest.md, as
 * registered under src/api/), each with a generator of mutated requests: hostile path ids and
 * raw path tricks, query strings with wrong types and edge numbers, mutated JSON bodies, wrong
 * content types, audio and multipart uploads, and signed webhook deliveries of mutated bodies.
 */
import { signWebhookBody } from "../../src/ingest/webhook-signature.js";
import { buildConversation, buildRichConversation } from "../fixtures/conversations.js";
import {
  bogusCursor,
  hostileNumber,
  hostileQueryValue,
  hostileString,
  mutateJson,
  type Rng,
  toJsonText,
} from "./mutations.js";

/** One request of the fuzz, fully built (raw path, headers, bytes), so it can be printed and replayed. */
export interface FuzzRequest {
  method: string;
  /** Path and query exactly as sent (already percent-encoded, or deliberately not). */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** The route template, e.g. `PUT /ingest/v1/conversations/{id}`. */
  route: string;
  /** What was mutated, for the report. */
  mutation: string;
}

/** What the generators may aim at. Nothing here ever names an untouched conversation. */
export interface FuzzTargets {
  /** Conversation ids the fuzz may read, change and delete. */
  conversationIds: readonly string[];
  /** Agent ids whose topics and analysis settings the fuzz may replace. */
  agentIds: readonly string[];
  /** Tags created before the fuzz (the fuzz may change and delete them). */
  tagIds: readonly string[];
  /** Files uploaded before the fuzz, with their conversation. */
  files: readonly { conversationId: string; fileId: string }[];
  webhookSecret: string;
  apiKey: string;
}

/** Percent-encodes every byte but the unreserved ones (a lone surrogate becomes U+FFFD, as UTF-8 must). */
export function encodePathSegment(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Path segments a client can send but a URL parser would normalise or refuse: dot segments, broken escapes, NUL. */
const RAW_SEGMENTS = [
  ".",
  "..",
  "%2E",
  "%2e%2E",
  "%2E%2E%2F%2E%2E",
  "%00",
  "nul%00id",
  "nul%EF%BF%BDid",
  "%ZZ",
  "%",
  "%F0%9F",
  "%C0%AE%C0%AE",
  "a%2Fb",
  "%2F",
  "x".repeat(513),
  "x".repeat(4097),
];

/** A path segment for an id: usually one of the pool, else a hostile id, else a raw trick. */
function pathId(rng: Rng, pool: readonly string[]): { segment: string; note: string } {
  const roll = rng.next();
  if (roll < 0.55 && pool.length > 0) {
    const id = rng.pick(pool);
    return { segment: encodePathSegment(id), note: "" };
  }
  if (roll < 0.8) {
    const id = hostileString(rng);
    return { segment: encodePathSegment(id), note: `id ${JSON.stringify(id.slice(0, 24))}(${id.length}) ` };
  }
  const raw = rng.pick(RAW_SEGMENTS);
  return { segment: raw, note: `raw segment ${raw.slice(0, 24)} ` };
}

/** An id for a JSON body: one of the pool or a hostile string (never an untouched conversation's). */
function bodyId(rng: Rng, pool: readonly string[]): string {
  return rng.chance(0.6) && pool.length > 0 ? rng.pick(pool) : hostileString(rng);
}

type QuerySpec = Record<string, (rng: Rng) => string | string[]>;

/** Builds a query string from a spec: a subset of the parameters, valid or hostile values, repeats, unknown keys, broken escapes. */
function buildQuery(rng: Rng, spec: QuerySpec, required: readonly string[] = []): string {
  const parts: string[] = [];
  const add = (key: string, value: string) =>
    parts.push(`${encodePathSegment(key)}=${encodePathSegment(value)}`);
  const entries = Object.entries(spec);
  // About three parameters a request, so each mutation stands out (and the URL stays within Node's header limit).
  const share = Math.min(1, 3 / entries.length);
  for (const [key, valid] of entries) {
    const isRequired = required.includes(key);
    if (isRequired ? rng.chance(0.08) : !rng.chance(share)) continue;
    const value = rng.chance(0.5) ? valid(rng) : hostileQueryValue(rng);
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) add(key, v);
    if (rng.chance(0.05)) for (let i = 0; i < 51; i++) add(key, `v${i}`);
  }
  if (rng.chance(0.1)) add(rng.pick(["unknown", "__proto__", "constructor[prototype]", "page_size[]"]), "1");
  if (rng.chance(0.05)) parts.push(rng.pick(["a=%ZZ", "%=1", "b=%F0%9F", "&&&", "c", "page_size=%00"]));
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

const ids = (pool: () => readonly string[]) => (rng: Rng) =>
  rng.chance(0.7) ? rng.pick(pool()) : hostileString(rng);
const oneOf =
  (...values: string[]) =>
  (rng: Rng) =>
    rng.pick(values);
const intIn = (min: number, max: number) => (rng: Rng) => String(rng.between(min, max));
const many = (make: (rng: Rng) => string) => (rng: Rng) =>
  Array.from({ length: rng.between(1, 3) }, () => make(rng));
const expression = (rng: Rng) =>
  `${rng.pick(["solved", "order_id", "plan", hostileString(rng)])}:${rng.pick(["eq", "neq", "gt", "gte", "lt", "lte", "in", "xx", ""])}:${rng.pick(["1", "a|b", "", "1e400", "Infinity", hostileString(rng)])}`;

/** The list endpoint's query parameters (docs/compatibility.md, List), shared by text search. */
function listQuerySpec(t: FuzzTargets): QuerySpec {
  const agent = ids(() => [...t.agentIds, "agent_rich", "agent_keep"]);
  const id = ids(() => t.conversationIds);
  return {
    cursor: bogusCursor,
    page_size: intIn(1, 100),
    sort_direction: oneOf("asc", "desc"),
    summary_mode: oneOf("exclude", "include"),
    agent_id: agent,
    user_id: oneOf("user_🦄", "user_1", "injected_user"),
    branch_id: oneOf("branch_main"),
    version_id: oneOf("ver_7"),
    parent_conversation_id: id,
    conversation_initiation_source: oneOf("sdk", "unknown"),
    conversation_product_type: oneOf("agent_platform"),
    workflow_node_entered_id: oneOf("node_1"),
    call_successful: oneOf("success", "failure", "unknown", "error"),
    call_start_before_unix: intIn(0, 2_000_000_000),
    call_start_after_unix: intIn(0, 2_000_000_000),
    call_duration_min_secs: intIn(0, 1000),
    call_duration_max_secs: intIn(0, 1000),
    rating_min: intIn(1, 5),
    rating_max: intIn(1, 5),
    has_feedback_comment: oneOf("true", "false"),
    text_only: oneOf("true", "false"),
    include_invalid_tool_calls: oneOf("true", "false"),
    search: (rng) =>
      rng.pick(["hello", "ab".repeat(250), `${"w".repeat(30)} `.repeat(16), "%", "_", hostileString(rng)]),
    main_languages: many(oneOf("en", "ja", "es")),
    exclude_statuses: many(oneOf("initiated", "in-progress", "processing", "done", "failed")),
    tool_names: many(oneOf("lookup_order", "transfer_to_agent")),
    tool_names_successful: many(oneOf("lookup_order")),
    tool_names_errored: many(oneOf("lookup_order")),
    termination_reasons: many(oneOf("end_call", "client disconnected")),
    visited_agent_ids: many(agent),
    visited_agent_branch_ids: many(oneOf("branch_main")),
    tag_ids: many(ids(() => [...t.tagIds, "tag_vip"])),
    topic_ids: many(oneOf("billing", "refunds")),
    guardrail_types: many(oneOf("content")),
    custom_guardrail_names: many(oneOf("no_pii")),
    data_collection_ids: many(oneOf("order_id", "plan")),
    evaluation_criteria_ids: many(oneOf("solved")),
    evaluation_params: many(expression),
    data_collection_params: many(expression),
    dynamic_variable_params: many(expression),
    triggered_procedure_ids: many(oneOf("p1")),
  };
}

/** A valid conversation document, plain or rich, for a given id. */
function validDocument(rng: Rng, id: string, agentIds: readonly string[]): Record<string, unknown> {
  if (rng.chance(0.3)) return buildRichConversation(id);
  return buildConversation({
    id,
    agentId: rng.pick([...agentIds, "agent_fuzz"]),
    startTime: 1_750_000_000 + rng.int(1_000_000),
    rating: rng.between(1, 5),
    comment: "fine",
    messages: ["Where is my order?", "It ships today.", "ab".repeat(rng.int(40))],
    tools: [{ name: "lookup_order" }, { name: "transfer_to_agent", error: true }],
    evaluations: { solved: "success" },
    dataCollection: { order_id: "A-1", plan: "pro" },
    dynamicVariables: { tier: "gold", seats: 3 },
    tagIds: ["tag_vip"],
    topicIds: ["billing"],
    terminationReason: "end_call",
    parentConversationId: rng.pick(agentIds),
  });
}

/** JSON bodies usually go as application/json; sometimes with another type, a broken charset or none. */
function jsonHeaders(rng: Rng): { headers: Record<string, string>; note: string } {
  if (rng.chance(0.85)) return { headers: { "content-type": "application/json" }, note: "" };
  const type = rng.pick([
    "",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "multipart/form-data",
    "application/jsonx",
    "APPLICATION/JSON",
    "application/*",
    "*/*",
    "x".repeat(300),
  ]);
  return type === ""
    ? { headers: {}, note: "no content-type " }
    : { headers: { "content-type": type }, note: `content-type ${type.slice(0, 40)} ` };
}

/** A mutated JSON request. */
function jsonRequest(
  rng: Rng,
  method: string,
  path: string,
  route: string,
  valid: unknown,
  note = "",
): FuzzRequest {
  const body = mutateJson(rng, valid);
  const { headers, note: typeNote } = jsonHeaders(rng);
  return {
    method,
    path,
    route,
    headers,
    body: Buffer.from(body.text, "utf8"),
    mutation: `${note}${typeNote}${body.mutation}`,
  };
}

/** A SIP log message with every key upstream requires. */
function validSipMessage(rng: Rng): Record<string, unknown> {
  return {
    call_id: `call_${rng.int(1000)}@pc33.example.com`,
    phone_numbers: ["+14155550100"],
    local_address: "10.0.0.1:5060",
    remote_address: "203.0.113.7:5060",
    transport: "udp",
    raw_message: "INVITE sip:agent@example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.example.com\r\n\r\n",
    error_message: "",
    direction: rng.pick(["in", "out"]),
    created_at_unix_micro: 1_739_537_297_000_000 + rng.int(1_000_000),
  };
}

/** A multipart upload of one file, or a broken one. */
function multipartRequest(rng: Rng, path: string): FuzzRequest {
  const boundary = `fuzz${rng.int(1_000_000)}`;
  const filename = rng.pick([
    "note.txt",
    "scan.pdf",
    "x.png",
    "noext",
    "../../x.txt",
    'a".txt',
    "é😀.md",
    `${"x".repeat(600)}.txt`,
  ]);
  const type = rng.pick([
    "text/plain",
    "application/pdf",
    "image/png",
    "application/octet-stream",
    "",
    "text/html",
    "image/svg+xml",
  ]);
  const name = rng.chance(0.85) ? "file" : rng.pick(["files", "", "__proto__"]);
  const content = rng.pick([
    Buffer.alloc(0),
    Buffer.from("hello"),
    Buffer.from([0, 255, 0, 1]),
    Buffer.alloc(3000, 7),
  ]);
  const head = (partName: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${partName}"; filename="${filename}"\r\n${type === "" ? "" : `Content-Type: ${type}\r\n`}\r\n`;
  const parts: Buffer[] = [Buffer.from(head(name)), content, Buffer.from("\r\n")];
  let note = `part ${JSON.stringify(name)} file ${JSON.stringify(filename.slice(0, 24))} type ${type} ${content.length} bytes`;
  if (rng.chance(0.1)) {
    parts.push(Buffer.from(head("file")), content, Buffer.from("\r\n"));
    note += ", two files";
  }
  if (rng.chance(0.05)) {
    for (let i = 0; i < 12; i++)
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv\r\n`));
    note += ", 12 fields";
  }
  if (!rng.chance(0.1)) parts.push(Buffer.from(`--${boundary}--\r\n`));
  else note += ", no closing boundary";
  let contentType = `multipart/form-data; boundary=${boundary}`;
  if (rng.chance(0.08)) {
    contentType = rng.pick([
      "multipart/form-data",
      "multipart/form-data; boundary=other",
      "text/plain",
      "application/json",
    ]);
    note += `, content-type ${contentType}`;
  }
  return {
    method: "POST",
    path,
    route: "POST /v1/convai/conversations/{id}/files",
    headers: { "content-type": contentType },
    body: Buffer.concat(parts),
    mutation: note,
  };
}

/** A webhook delivery: a mutated envelope, usually signed with the right secret over the exact bytes. */
function webhookRequest(rng: Rng, t: FuzzTargets): FuzzRequest {
  const id = bodyId(rng, t.conversationIds);
  const agentId = rng.pick([...t.agentIds, "agent_fuzz"]);
  const now = Math.floor(Date.now() / 1000);
  const kind = rng.pick(["post_call_transcription", "post_call_audio", "call_initiation_failure", "unknown"]);
  let envelope: unknown;
  if (kind === "post_call_transcription") {
    envelope = { type: kind, event_timestamp: now, data: validDocument(rng, id, t.agentIds) };
  } else if (kind === "post_call_audio") {
    const audio = Buffer.alloc(rng.pick([1, 300, 3000]), rng.int(256)).toString("base64");
    envelope = {
      type: kind,
      event_timestamp: now,
      data: { agent_id: agentId, conversation_id: id, full_audio: audio },
    };
  } else if (kind === "call_initiation_failure") {
    envelope = {
      type: kind,
      event_timestamp: rng.chance(0.8) ? now : hostileNumber(rng),
      data: {
        agent_id: agentId,
        conversation_id: id,
        failure_reason: "busy",
        metadata: { type: "twilio", body: {} },
      },
    };
  } else {
    envelope = {
      type: rng.pick(["nul\u0000type", "x".repeat(600), ""]),
      event_timestamp: now,
      data: { conversation_id: id },
    };
  }
  const mutated = rng.chance(0.8)
    ? mutateJson(rng, envelope)
    : { text: toJsonText(envelope), mutation: "none" };
  let body = Buffer.from(mutated.text, "utf8");
  let note = `${kind} ${JSON.stringify(id.slice(0, 24))}: ${mutated.mutation}`;
  if (rng.chance(0.05)) {
    // Raw bytes no UTF-8 decoder keeps: a NUL and a broken sequence inside the JSON.
    body = Buffer.concat([
      body.subarray(0, Math.floor(body.length / 2)),
      Buffer.from([0, 0xc3, 0x28, 0xff]),
      body.subarray(Math.floor(body.length / 2)),
    ]);
    note += ", raw NUL and invalid UTF-8";
  }
  const headers: Record<string, string> = {
    "content-type": rng.chance(0.9) ? "application/json" : "text/plain",
  };
  const sign = rng.next();
  if (sign < 0.85) headers["elevenlabs-signature"] = signWebhookBody(body, t.webhookSecret, now);
  else if (sign < 0.9) note += ", unsigned";
  else if (sign < 0.95) {
    headers["elevenlabs-signature"] = rng.pick([
      "v0=abc",
      "t=abc,v0=1",
      `t=${now}`,
      "t=99999999999999,v0=00",
      ",,,",
      "x".repeat(2000),
    ]);
    note += ", malformed signature";
  } else {
    headers["elevenlabs-signature"] = signWebhookBody(body, t.webhookSecret, now - 100_000);
    note += ", stale signature";
  }
  return {
    method: "POST",
    path: "/ingest/v1/webhooks/elevenlabs",
    route: "POST /ingest/v1/webhooks/elevenlabs",
    headers,
    body,
    mutation: note,
  };
}

type Generator = (rng: Rng, t: FuzzTargets) => FuzzRequest;

const CONV = "/v1/convai/conversations";

/** `route` with its path id: `{id}` from the conversation pool. */
function withConversation(rng: Rng, t: FuzzTargets): { id: string; note: string } {
  const { segment, note } = pathId(rng, t.conversationIds);
  return { id: segment, note };
}

/** Every route, with its share of the requests (weights). */
export const ROUTES: readonly { route: string; weight: number; make: Generator }[] = [
  {
    route: "GET /healthz",
    weight: 1,
    make: () => ({ method: "GET", path: "/healthz", route: "GET /healthz", headers: {}, mutation: "none" }),
  },
  {
    route: "GET /v1/convai/conversation/get-signed-url | token",
    weight: 1,
    make: (rng) => {
      const which = rng.pick(["get-signed-url", "token"]);
      return {
        method: "GET",
        path: `/v1/convai/conversation/${which}${buildQuery(rng, { agent_id: oneOf("agent_1") })}`,
        route: `GET /v1/convai/conversation/${which}`,
        headers: {},
        mutation: "query",
      };
    },
  },
  {
    route: `GET ${CONV}`,
    weight: 8,
    make: (rng, t) => ({
      method: "GET",
      path: `${CONV}${buildQuery(rng, listQuerySpec(t))}`,
      route: `GET ${CONV}`,
      headers: {},
      mutation: "query",
    }),
  },
  {
    route: `GET ${CONV}/resolve`,
    weight: 3,
    make: (rng, t) => {
      const reference = (r: Rng) =>
        r.pick([
          "https://acme.slack.com/archives/C123/p1739537297000100",
          "https://acme.slack.com/archives/C123/p1739537297000100?thread_ts=1739537297.000100",
          "https://acme.zendesk.com/agent/tickets/12345",
          "https://acme.zendesk.com/agent/tickets/9007199254740993",
          "https://acme.zendesk.com/agent/tickets/9007199254740992",
          "https://acme.zendesk.com/api/v2/tickets/1e400.json",
          `https://acme.zendesk.com/hc/en/requests/${"9".repeat(400)}`,
          `https://${"a".repeat(300)}.slack.com/archives/C/p1`,
          hostileString(r),
        ]);
      const spec: QuerySpec = { agent_id: ids(() => t.agentIds), reference };
      return {
        method: "GET",
        path: `${CONV}/resolve${buildQuery(rng, spec, ["agent_id", "reference"])}`,
        route: `GET ${CONV}/resolve`,
        headers: {},
        mutation: "query",
      };
    },
  },
  {
    route: `GET ${CONV}/{id}`,
    weight: 6,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      const query = buildQuery(rng, { format: oneOf("json", "opentelemetry", "otlp") });
      return {
        method: "GET",
        path: `${CONV}/${id}${query}`,
        route: `GET ${CONV}/{id}`,
        headers: {},
        mutation: `${note}query`,
      };
    },
  },
  {
    route: `DELETE ${CONV}/{id}`,
    weight: 2,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      return {
        method: "DELETE",
        path: `${CONV}/${id}`,
        route: `DELETE ${CONV}/{id}`,
        headers: {},
        mutation: note || "pool id",
      };
    },
  },
  {
    route: `GET ${CONV}/{id}/summary`,
    weight: 3,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      return {
        method: "GET",
        path: `${CONV}/${id}/summary${buildQuery(rng, { max_messages: intIn(0, 10_000) })}`,
        route: `GET ${CONV}/{id}/summary`,
        headers: {},
        mutation: `${note}query`,
      };
    },
  },
  {
    route: `GET ${CONV}/{id}/sip-messages`,
    weight: 3,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      const query = buildQuery(rng, { page_size: intIn(1, 1000), cursor: bogusCursor });
      return {
        method: "GET",
        path: `${CONV}/${id}/sip-messages${query}`,
        route: `GET ${CONV}/{id}/sip-messages`,
        headers: {},
        mutation: `${note}query`,
      };
    },
  },
  {
    route: `POST ${CONV}/{id}/analysis/run | evaluations/run`,
    weight: 2,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      if (rng.chance(0.4)) {
        return jsonRequest(
          rng,
          "POST",
          `${CONV}/${id}/analysis/run`,
          `POST ${CONV}/{id}/analysis/run`,
          {},
          note,
        );
      }
      return jsonRequest(
        rng,
        "POST",
        `${CONV}/${id}/analysis/evaluations/run`,
        `POST ${CONV}/{id}/analysis/evaluations/run`,
        { evaluation_id: "solved", scope: "conversation" },
        note,
      );
    },
  },
  {
    route: `GET ${CONV}/{id}/audio`,
    weight: 4,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      const headers: Record<string, string> = {};
      if (rng.chance(0.6)) {
        headers.range = rng.pick([
          "bytes=0-0",
          "bytes=-1",
          "bytes=0-",
          "bytes=5-1",
          "bytes=-0",
          "bytes=0-1,2-3",
          "items=0-1",
          "bytes=abc",
          "bytes=1e3-",
          "bytes=99999999999999999999-",
          "bytes=-99999999999999999999",
          "bytes=0-99999999999999999999",
          `bytes=${"1".repeat(400)}-`,
        ]);
      }
      return {
        method: "GET",
        path: `${CONV}/${id}/audio`,
        route: `GET ${CONV}/{id}/audio`,
        headers,
        mutation: `${note}range ${headers.range ?? "none"}`,
      };
    },
  },
  {
    route: `POST ${CONV}/{id}/feedback`,
    weight: 4,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      return jsonRequest(
        rng,
        "POST",
        `${CONV}/${id}/feedback`,
        `POST ${CONV}/{id}/feedback`,
        { feedback: "like", rating: 4, comment: "helpful" },
        note,
      );
    },
  },
  {
    route: `POST ${CONV}/{id}/files`,
    weight: 4,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      const request = multipartRequest(rng, `${CONV}/${id}/files`);
      return { ...request, mutation: `${note}${request.mutation}` };
    },
  },
  {
    route: `DELETE ${CONV}/{id}/files/{file_id}`,
    weight: 2,
    make: (rng, t) => {
      const file = t.files.length > 0 && rng.chance(0.5) ? rng.pick(t.files) : undefined;
      const conv = file ? { id: encodePathSegment(file.conversationId), note: "" } : withConversation(rng, t);
      const fileId =
        file && rng.chance(0.8) ? { segment: encodePathSegment(file.fileId), note: "" } : pathId(rng, []);
      return {
        method: "DELETE",
        path: `${CONV}/${conv.id}/files/${fileId.segment}`,
        route: `DELETE ${CONV}/{id}/files/{file_id}`,
        headers: {},
        mutation: `${conv.note}${fileId.note}` || "pool ids",
      };
    },
  },
  {
    route: `GET ${CONV}/messages/text-search`,
    weight: 6,
    make: (rng, t) => {
      const spec: QuerySpec = {
        ...listQuerySpec(t),
        text_query: (r) =>
          r.pick([
            "order",
            "ships today",
            "ab".repeat(250),
            `${"w".repeat(30)} `.repeat(16).trim(),
            "e",
            "%",
            '"',
            "*",
            "a OR b",
            "NEAR(a b)",
            "😀",
          ]),
        page_size: intIn(1, 50),
        sort_by: oneOf("search_score", "created_at"),
      };
      return {
        method: "GET",
        path: `${CONV}/messages/text-search${buildQuery(rng, spec, ["text_query"])}`,
        route: `GET ${CONV}/messages/text-search`,
        headers: {},
        mutation: "query",
      };
    },
  },
  {
    route: `GET ${CONV}/messages/smart-search`,
    weight: 4,
    make: (rng, t) => {
      const spec: QuerySpec = {
        text_query: (r) => r.pick(["order", "x".repeat(500), "ab".repeat(250), "é😀", hostileString(r)]),
        agent_id: ids(() => t.agentIds),
        branch_id: oneOf("branch_main"),
        page_size: intIn(1, 50),
        cursor: bogusCursor,
      };
      return {
        method: "GET",
        path: `${CONV}/messages/smart-search${buildQuery(rng, spec, ["text_query"])}`,
        route: `GET ${CONV}/messages/smart-search`,
        headers: {},
        mutation: "query",
      };
    },
  },
  {
    route: `POST ${CONV}/{id}/tags`,
    weight: 3,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      return jsonRequest(
        rng,
        "POST",
        `${CONV}/${id}/tags`,
        `POST ${CONV}/{id}/tags`,
        { tag_ids: [...t.tagIds.slice(0, 2)] },
        note,
      );
    },
  },
  {
    route: `DELETE ${CONV}/{id}/tags/{tag_id}`,
    weight: 2,
    make: (rng, t) => {
      const conv = withConversation(rng, t);
      const tag = pathId(rng, t.tagIds);
      return {
        method: "DELETE",
        path: `${CONV}/${conv.id}/tags/${tag.segment}`,
        route: `DELETE ${CONV}/{id}/tags/{tag_id}`,
        headers: {},
        mutation: `${conv.note}${tag.note}` || "pool ids",
      };
    },
  },
  {
    route: "GET /v1/convai/tags",
    weight: 2,
    make: (rng) => ({
      method: "GET",
      path: `/v1/convai/tags${buildQuery(rng, { page_size: intIn(1, 100), cursor: bogusCursor })}`,
      route: "GET /v1/convai/tags",
      headers: {},
      mutation: "query",
    }),
  },
  {
    route: "POST /v1/convai/tags",
    weight: 2,
    make: (rng) =>
      jsonRequest(rng, "POST", "/v1/convai/tags", "POST /v1/convai/tags", {
        title: "VIP",
        description: "Important customers",
      }),
  },
  {
    route: "GET | DELETE | PATCH /v1/convai/tags/{tag_id}",
    weight: 4,
    make: (rng, t) => {
      const tag = pathId(rng, t.tagIds);
      const method = rng.pick(["GET", "GET", "PATCH", "PATCH", "DELETE"]);
      const route = `${method} /v1/convai/tags/{tag_id}`;
      if (method === "PATCH") {
        return jsonRequest(
          rng,
          "PATCH",
          `/v1/convai/tags/${tag.segment}`,
          route,
          { title: "Renamed", description: null },
          tag.note,
        );
      }
      return {
        method,
        path: `/v1/convai/tags/${tag.segment}`,
        route,
        headers: {},
        mutation: tag.note || "pool id",
      };
    },
  },
  {
    route: "GET /v1/convai/agents/{agent_id}/topics",
    weight: 3,
    make: (rng, t) => {
      const agent = pathId(rng, t.agentIds);
      const spec: QuerySpec = {
        page_size: intIn(1, 100),
        sort_by: oneOf("conversations", "sentiment", "success_rate", "frustration"),
        sort_direction: oneOf("asc", "desc"),
        from_unix_secs: intIn(0, 2_000_000_000),
        to_unix_secs: intIn(0, 2_000_000_000),
        include_evaluation_criteria: oneOf("true", "false"),
        cursor: bogusCursor,
      };
      return {
        method: "GET",
        path: `/v1/convai/agents/${agent.segment}/topics${buildQuery(rng, spec)}`,
        route: "GET /v1/convai/agents/{agent_id}/topics",
        headers: {},
        mutation: `${agent.note}query`,
      };
    },
  },
  {
    route: "PUT /ingest/v1/conversations/{id}",
    weight: 8,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      const docId = rng.chance(0.9) ? (t.conversationIds[0] ?? "x") : hostileString(rng);
      return jsonRequest(
        rng,
        "PUT",
        `/ingest/v1/conversations/${id}`,
        "PUT /ingest/v1/conversations/{id}",
        validDocument(rng, docId, t.agentIds),
        note,
      );
    },
  },
  {
    route: "PUT /ingest/v1/conversations/{id}/audio",
    weight: 4,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      const size = rng.pick([0, 1, 100, 1883, 3438]);
      const body = Buffer.alloc(size, rng.int(256));
      const type = rng.pick([
        "audio/mpeg",
        "audio/wav; codecs=1",
        "",
        "text/html",
        "application/json",
        `audio/${"x".repeat(300)}`,
        'audio/mpeg; a="b"',
      ]);
      return {
        method: "PUT",
        path: `/ingest/v1/conversations/${id}/audio`,
        route: "PUT /ingest/v1/conversations/{id}/audio",
        headers: type === "" ? {} : { "content-type": type },
        body,
        mutation: `${note}${size} bytes as ${type.slice(0, 40) || "(no type)"}`,
      };
    },
  },
  {
    route: "PUT /ingest/v1/conversations/{id}/sip-messages",
    weight: 3,
    make: (rng, t) => {
      const { id, note } = withConversation(rng, t);
      const messages = Array.from({ length: rng.pick([0, 1, 3]) }, () => validSipMessage(rng));
      return jsonRequest(
        rng,
        "PUT",
        `/ingest/v1/conversations/${id}/sip-messages`,
        "PUT /ingest/v1/conversations/{id}/sip-messages",
        messages,
        note,
      );
    },
  },
  {
    route: "PUT /ingest/v1/agents/{agent_id}/topics",
    weight: 3,
    make: (rng, t) => {
      const agent = pathId(rng, t.agentIds);
      const topics = [
        { topic_id: "billing", label: "Billing", description: "Invoices" },
        { topic_id: "refunds", label: "Refunds", description: "Money back", parent_topic_id: "billing" },
        { topic_id: "shipping", label: "Shipping", description: "Orders", x_2d: 0.4, y_2d: -0.1 },
      ];
      return jsonRequest(
        rng,
        "PUT",
        `/ingest/v1/agents/${agent.segment}/topics`,
        "PUT /ingest/v1/agents/{agent_id}/topics",
        topics,
        agent.note,
      );
    },
  },
  {
    route: "PUT | GET /ingest/v1/agents/{agent_id}/analysis-settings",
    weight: 3,
    make: (rng, t) => {
      const agent = pathId(rng, t.agentIds);
      const path = `/ingest/v1/agents/${agent.segment}/analysis-settings`;
      if (rng.chance(0.3))
        return {
          method: "GET",
          path,
          route: "GET /ingest/v1/agents/{agent_id}/analysis-settings",
          headers: {},
          mutation: agent.note || "pool id",
        };
      const settings = {
        evaluation_criteria: [
          { id: "solved", name: "Solved", conversation_goal_prompt: "The problem was solved." },
        ],
        data_collection: {
          order_id: { type: "string", description: "The order number" },
          plan: { type: "string", description: "The plan", enum: ["basic", "pro"] },
          seats: { type: "integer", description: "Seats" },
        },
      };
      return jsonRequest(
        rng,
        "PUT",
        path,
        "PUT /ingest/v1/agents/{agent_id}/analysis-settings",
        settings,
        agent.note,
      );
    },
  },
  { route: "POST /ingest/v1/webhooks/elevenlabs", weight: 10, make: webhookRequest },
  {
    route: "unknown routes and methods",
    weight: 1,
    make: (rng, t) => {
      const id = encodePathSegment(rng.pick(t.conversationIds));
      const [method, path] = rng.pick<[string, string]>([
        ["PATCH", `${CONV}/${id}`],
        ["GET", `/ingest/v1/conversations/${id}`],
        ["POST", `${CONV}/${id}`],
        ["GET", `${CONV}/${id}/../../../healthz`],
        ["GET", "//"],
        ["GET", "/%"],
        ["GET", `/v1/convai/${"x".repeat(5000)}`],
        ["OPTIONS", CONV],
        ["HEAD", `${CONV}/${id}/audio`],
        ["GET", `${CONV}?${"a=1&".repeat(500)}`],
      ]);
      return {
        method,
        path,
        route: "unknown routes and methods",
        headers: {},
        mutation: `${method} ${path.slice(0, 60)}`,
      };
    },
  },
];

/** How many copies of a write a burst sends (as many as the fuzz has requests in flight). */
const BURST = 4;

/** Builds the whole plan of a run from its seed: same seed, same requests, in the same order. */
export function planRequests(rng: Rng, targets: FuzzTargets, count: number): FuzzRequest[] {
  const total = ROUTES.reduce((sum, r) => sum + r.weight, 0);
  const plan: FuzzRequest[] = [];
  while (plan.length < count) {
    const roll = rng.int(total);
    let sum = 0;
    const route = ROUTES.find((r) => {
      sum += r.weight;
      return roll < sum;
    });
    if (!route) throw new Error("no routes");
    const request = route.make(rng, targets);
    // A few requests go without the key, or with a wrong one (the webhook and /healthz need none).
    const auth = rng.next();
    if (auth < 0.94) request.headers["xi-api-key"] = targets.apiKey;
    else if (auth < 0.97) {
      request.headers["xi-api-key"] = "oc_wrong_key";
      request.mutation += ", wrong key";
    } else request.mutation += ", no key";
    plan.push(request);
    // Now and then a write is sent BURST times in a row, so the workers send the copies at once:
    // concurrent replacements of the same thing must end with one winner, never a 5xx.
    if (request.method !== "GET" && rng.chance(0.03)) {
      for (let copy = 1; copy < BURST && plan.length < count; copy++) {
        plan.push({ ...request, mutation: `${request.mutation}, concurrent copy ${copy + 1} of ${BURST}` });
      }
    }
  }
  return plan;
}
