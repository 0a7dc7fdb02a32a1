/**
 * The descriptions of the outgoing webhook delivery log and its replay (src/api/webhooks-out/
 * delivery-routes.ts), an extension of ours: upstream has no delivery log. The query strings and
 * the replay body are described from the route schemas.
 */
import { errorResponses, jsonResponse, type OperationDoc } from "./response-docs.js";

const DELIVERIES = "/v1/workspace/webhooks/deliveries";
const DELIVERY = `${DELIVERIES}/:delivery_id`;
const NO_DELIVERY = {
  404: "No such delivery (`webhook_delivery_not_found`): list the deliveries to find its id.",
};

/** The fields a delivery has in the list and in the detail. */
const DELIVERY_FIELDS = {
  delivery_id: {
    type: "string",
    description: "Sent as the `OpenConvAI-Delivery-Id` header; the same on every attempt and replay.",
  },
  webhook_id: { type: "string" },
  event_type: {
    type: "string",
    enum: [
      "post_call_transcription",
      "post_call_transcription_otel",
      "post_call_audio",
      "call_initiation_failure",
    ],
  },
  conversation_id: { type: ["string", "null"] },
  agent_id: { type: ["string", "null"] },
  status: {
    type: "string",
    enum: ["pending", "delivered", "failed", "cancelled"],
    description: "`cancelled`: its webhook was deleted before it was delivered.",
  },
  max_attempts: { type: "integer", description: "Attempts it may have in all (a replay adds to it)." },
  created_at_unix: { type: "integer", description: "When it was queued." },
  next_attempt_at_unix: { type: "integer", description: "When the next attempt is due; only while pending." },
  last_status_code: { type: ["integer", "null"], description: "The last answer's status code." },
  last_error: { type: ["string", "null"], description: "What went wrong at the last attempt." },
} as const;

const REQUIRED = [
  "delivery_id",
  "webhook_id",
  "event_type",
  "conversation_id",
  "agent_id",
  "status",
  "attempts",
  "max_attempts",
  "created_at_unix",
  "last_status_code",
  "last_error",
];

/** A delivery as listed. */
const DELIVERY_ITEM = {
  type: "object",
  properties: { ...DELIVERY_FIELDS, attempts: { type: "integer", description: "Attempts made so far." } },
  required: REQUIRED,
};

/** One attempt in the log. */
const ATTEMPT = {
  type: "object",
  properties: {
    attempt: { type: "integer", description: "1 for the first." },
    started_at_unix_ms: { type: "integer" },
    url: { type: "string" },
    status_code: {
      type: ["integer", "null"],
      description: "Null when there was no answer (network error, timeout).",
    },
    error: { type: ["string", "null"] },
    latency_ms: { type: "integer" },
    response_head: { type: ["string", "null"], description: "The first KiB of the answer's body." },
  },
  required: ["attempt", "started_at_unix_ms", "url", "status_code", "error", "latency_ms", "response_head"],
};

const REDELIVERED = jsonResponse("How many deliveries were queued again (sent at once by this server).", {
  type: "object",
  properties: { redelivered: { type: "integer" } },
  required: ["redelivered"],
});

/** The descriptions of the delivery-log routes, by `METHOD /route/:param`. */
export const WEBHOOK_DELIVERY_OPERATIONS: Record<string, OperationDoc> = {
  [`GET ${DELIVERIES}`]: {
    tag: "Webhooks",
    summary: "List outgoing webhook deliveries",
    description:
      "Extension. The deliveries of post-call webhooks this server sends, newest first (by queue order). " +
      "`since` takes Unix seconds, an ISO-8601 time (UTC without an offset) or a time ago (`30m`, `24h`, `7d`).",
    responses: {
      "200": jsonResponse("A page of deliveries.", {
        type: "object",
        properties: {
          deliveries: { type: "array", items: DELIVERY_ITEM },
          next_cursor: { type: ["string", "null"] },
          has_more: { type: "boolean" },
        },
        required: ["deliveries", "next_cursor", "has_more"],
      }),
      ...errorResponses([401, 422]),
    },
  },
  [`GET ${DELIVERY}`]: {
    tag: "Webhooks",
    summary: "Get an outgoing webhook delivery",
    description: "Extension. The delivery with every attempt, oldest first (`attempts` is the list here).",
    responses: {
      "200": jsonResponse("The delivery and its attempts.", {
        type: "object",
        properties: { ...DELIVERY_FIELDS, attempts: { type: "array", items: ATTEMPT } },
        required: REQUIRED,
      }),
      ...errorResponses([401, 404, 422], NO_DELIVERY),
    },
  },
  [`POST ${DELIVERY}/redeliver`]: {
    tag: "Webhooks",
    summary: "Send an outgoing webhook delivery again",
    description:
      "Extension. Queues the delivery again, due now, with as many more attempts as the retry schedule has; " +
      "its id and its log are kept (receivers drop duplicates by the id). A delivered one is sent again too; " +
      "a cancelled one is not (`redelivered: 0`).",
    responses: { "200": REDELIVERED, ...errorResponses([401, 404, 422], NO_DELIVERY) },
  },
  [`POST ${DELIVERIES}/redeliver`]: {
    tag: "Webhooks",
    summary: "Send outgoing webhook deliveries again, by filter",
    description:
      "Extension. Queues again every delivery matching the filters (`status: failed`, `since`, `webhook_id`; " +
      "at least one is required), newest first, at most 100,000 per call. Cancelled deliveries are left out.",
    responses: {
      "200": REDELIVERED,
      ...errorResponses([401, 422], { 422: "No filter, an unknown key, or a `since` that is no time." }),
    },
  },
};
