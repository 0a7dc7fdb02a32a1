/**
 * The descriptions of upstream's workspace webhooks and ConvAI settings as this server serves them
 * (src/api/webhooks-out/). Bodies are checked by the webhook settings service, so they are
 * described from the schemas it validates with.
 */
import {
  createWebhookBodySchema,
  patchSettingsBodySchema,
  updateWebhookBodySchema,
} from "../../webhooks-out/webhook-settings-service.js";
import { errorResponses, jsonResponse, type OperationDoc } from "./response-docs.js";

const WEBHOOKS = "/v1/workspace/webhooks";
const WEBHOOK = `${WEBHOOKS}/:webhook_id`;
const SETTINGS = "/v1/convai/settings";
const NO_WEBHOOK = { 404: "No such webhook (`webhook_not_found`): list the webhooks to find its id." };

/** `{status: "ok"}`, as update and delete answer. */
const STATUS_OK = jsonResponse('Done: `{"status":"ok"}`.', {
  type: "object",
  properties: { status: { type: "string" } },
  required: ["status"],
});

/** A webhook as listed (upstream's WorkspaceWebhookResponseModel, with our extensions); never its secret. */
const WEBHOOK_ITEM = {
  type: "object",
  properties: {
    name: { type: "string" },
    webhook_id: { type: "string" },
    webhook_url: { type: "string" },
    is_disabled: { type: "boolean" },
    is_auto_disabled: { type: "boolean" },
    created_at_unix: { type: "integer" },
    auth_type: { type: "string", enum: ["hmac"] },
    events: { type: "array", items: { type: "string" } },
    most_recent_failure_error_code: { type: "integer" },
    most_recent_failure_timestamp: { type: "integer" },
    retry_enabled: { type: "boolean", description: "Extension: failed deliveries are retried." },
    request_headers: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Extension: the extra headers sent with each delivery.",
    },
    usage: {
      type: "array",
      description: "Only with `include_usages=true`: where the webhook is selected.",
      items: {
        type: "object",
        properties: { usage_type: { type: "string", enum: ["ConvAI Settings", "ConvAI Agent Settings"] } },
        required: ["usage_type"],
      },
    },
  },
  required: [
    "name",
    "webhook_id",
    "webhook_url",
    "is_disabled",
    "is_auto_disabled",
    "created_at_unix",
    "auth_type",
  ],
};

/** The settings document as GET and PATCH answer it. */
const SETTINGS_ANSWER = jsonResponse(
  "The workspace's ConvAI settings: what was stored, with `webhooks` defaulted.",
  {
    type: "object",
    properties: {
      ...patchSettingsBodySchema.properties,
      webhooks: {
        ...patchSettingsBodySchema.properties.webhooks,
        required: ["events", "send_audio", "transcript_format", "exclude_transcript"],
      },
    },
    required: ["webhooks"],
  },
);

/** The descriptions of the workspace webhook and ConvAI settings routes, by `METHOD /route/:param`. */
export const WEBHOOK_OPERATIONS: Record<string, OperationDoc> = {
  [`GET ${WEBHOOKS}`]: {
    tag: "Webhooks",
    summary: "List workspace webhooks",
    description: "Oldest first. The signing secret is never listed.",
    responses: {
      "200": jsonResponse("The workspace's webhooks.", {
        type: "object",
        properties: { webhooks: { type: "array", items: WEBHOOK_ITEM } },
        required: ["webhooks"],
      }),
      ...errorResponses([401, 422]),
    },
  },
  [`POST ${WEBHOOKS}`]: {
    tag: "Webhooks",
    summary: "Create a workspace webhook",
    description:
      "HMAC-signed. The answer is the only place the signing secret is shown. Retries are on by default " +
      "(upstream: off). Private and loopback addresses are refused unless OPENCONVAI_WEBHOOK_ALLOW_PRIVATE is set.",
    requestBody: {
      description: '`{settings: {auth_type: "hmac", name, webhook_url, request_headers?}}`.',
      content: { "application/json": { schema: createWebhookBodySchema } },
    },
    responses: {
      "200": jsonResponse("The new webhook's id and signing secret.", {
        type: "object",
        properties: { webhook_id: { type: "string" }, webhook_secret: { type: "string" } },
        required: ["webhook_id", "webhook_secret"],
      }),
      ...errorResponses([401, 413, 422]),
    },
  },
  [`PATCH ${WEBHOOK}`]: {
    tag: "Webhooks",
    summary: "Update a workspace webhook",
    description: "`is_disabled: false` also clears an auto-disable. Fields left out stay as they were.",
    requestBody: {
      description: "`is_disabled` and `name`, and optionally `retry_enabled`, `request_headers`, `events`.",
      content: { "application/json": { schema: updateWebhookBodySchema } },
    },
    responses: { "200": STATUS_OK, ...errorResponses([401, 404, 413, 422], NO_WEBHOOK) },
  },
  [`DELETE ${WEBHOOK}`]: {
    tag: "Webhooks",
    summary: "Delete a workspace webhook",
    description: "Its deliveries not yet sent are cancelled (their log is kept).",
    responses: { "200": STATUS_OK, ...errorResponses([401, 404, 422], NO_WEBHOOK) },
  },
  [`GET ${SETTINGS}`]: {
    tag: "Webhooks",
    summary: "Get the ConvAI settings",
    responses: { "200": SETTINGS_ANSWER, ...errorResponses([401]) },
  },
  [`PATCH ${SETTINGS}`]: {
    tag: "Webhooks",
    summary: "Update the ConvAI settings",
    description:
      "Top-level keys replace what was stored; inside `webhooks`, field by field (null resets a field). " +
      "The webhooks named must exist. Extension: `webhooks.post_call_webhook_ids`, more webhooks that get " +
      "every post-call event. Other keys are kept as sent.",
    requestBody: {
      description: "The keys to change.",
      content: { "application/json": { schema: patchSettingsBodySchema } },
    },
    responses: { "200": SETTINGS_ANSWER, ...errorResponses([401, 413, 422]) },
  },
};
