/**
 * The workspace's outgoing webhooks as upstream's API configures them: the webhook endpoints
 * (`/v1/workspace/webhooks`) and the ConvAI settings that pick the post-call webhook and its events
 * (`/v1/convai/settings`). Bodies arrive here parsed but unchecked; answers leave in upstream's
 * wire shape (snake_case), with every key the SDK requires.
 */
import { randomBytes } from "node:crypto";
import { isJsonObject } from "../agents/agent-document.js";
import { compileSchemaCheck } from "../agents/schema-check.js";
import type { WebhooksOutConfig } from "../config/webhooks-out-config.js";
import { InvalidInputError, NotFoundError, type ValidationIssue } from "../domain/errors.js";
import type { AgentStore } from "../store/agent-store.js";
import type {
  OutgoingWebhookStore,
  WorkspaceWebhook,
  WorkspaceWebhookChange,
} from "../store/outgoing-webhook-store.js";
import { checkWebhookUrl } from "./egress-guard.js";
import { RESERVED_HEADERS } from "./http-sender.js";
import { agentWebhookOverrides, namedWebhookIds } from "./webhook-planner.js";

/** The post-call events a ConvAI settings document may select (upstream's WebhookEventType). */
export const POST_CALL_EVENTS = [
  "transcript",
  "audio",
  "call_initiation_failure",
  "answering_machine_detection",
  "unredacted_transcript",
  "unredacted_audio",
] as const;

/** The workspace-level events a webhook may subscribe to (upstream's WorkspaceWebhookEventType; kept and served). */
export const WORKSPACE_EVENTS = [
  "voice_library_removal_notice",
  "speech_to_text",
  "agent_qa",
  "flows",
] as const;

/** The most extra headers a webhook sends with each delivery. */
const MAX_REQUEST_HEADERS = 32;

/** The most webhooks the `post_call_webhook_ids` extension names. */
export const MAX_EXTRA_WEBHOOKS = 20;

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Whether a header value holds no control character but tab (CR or LF would split the request). */
function isHeaderValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return false;
  }
  return true;
}

const HEADERS_SCHEMA = {
  type: ["object", "null"],
  maxProperties: MAX_REQUEST_HEADERS,
  additionalProperties: { type: ["string", "null"], maxLength: 8192 },
} as const;

const NAME_SCHEMA = { type: "string", minLength: 1, maxLength: 256 } as const;

/** The create body (the SDK's BodyCreateWorkspaceWebhookV1WorkspaceWebhooksPost: `{settings: WebhookHmacSettings}`). */
export const createWebhookBodySchema = {
  type: "object",
  required: ["settings"],
  properties: {
    settings: {
      type: "object",
      required: ["auth_type", "name", "webhook_url"],
      properties: {
        auth_type: { type: "string", enum: ["hmac"] },
        name: NAME_SCHEMA,
        webhook_url: { type: "string", minLength: 1, maxLength: 2048 },
        request_headers: HEADERS_SCHEMA,
      },
    },
  },
} as const;

/** The update body (the SDK's BodyUpdateWorkspaceWebhookV1WorkspaceWebhooksWebhookIdPatch). */
export const updateWebhookBodySchema = {
  type: "object",
  required: ["is_disabled", "name"],
  properties: {
    is_disabled: { type: "boolean" },
    name: NAME_SCHEMA,
    retry_enabled: { type: ["boolean", "null"] },
    request_headers: HEADERS_SCHEMA,
    events: { type: ["array", "null"], maxItems: 16, items: { type: "string", enum: [...WORKSPACE_EVENTS] } },
  },
} as const;

/** The `webhooks` object of the settings (the SDK's ConvAiWebhooks, and the `post_call_webhook_ids` extension). */
const CONVAI_WEBHOOKS_SCHEMA = {
  type: "object",
  properties: {
    post_call_webhook_id: { type: ["string", "null"], maxLength: 512 },
    post_call_webhook_ids: {
      type: ["array", "null"],
      maxItems: MAX_EXTRA_WEBHOOKS,
      items: { type: "string", maxLength: 512 },
    },
    events: { type: ["array", "null"], maxItems: 16, items: { type: "string", enum: [...POST_CALL_EVENTS] } },
    transcript_format: { type: ["string", "null"], enum: ["json", "opentelemetry", null] },
    exclude_transcript: { type: ["boolean", "null"] },
    send_audio: { type: ["boolean", "null"] },
  },
} as const;

/**
 * The settings PATCH body (the SDK's PatchConvAiSettingsRequest). The keys the SDK types are
 * checked so that GET answers still parse; other keys are kept as sent.
 */
export const patchSettingsBodySchema = {
  type: "object",
  properties: {
    webhooks: CONVAI_WEBHOOKS_SCHEMA,
    conversation_initiation_client_data_webhook: {
      type: ["object", "null"],
      required: ["url", "request_headers"],
      properties: {
        url: { type: "string", maxLength: 2048 },
        request_headers: { type: "object", maxProperties: MAX_REQUEST_HEADERS },
      },
    },
    can_use_mcp_servers: { type: ["boolean", "null"] },
    rag_retention_period_days: { type: ["number", "null"] },
    conversation_embedding_retention_days: { type: ["number", "null"] },
    default_livekit_stack: { type: ["string", "null"], enum: ["standard", "static", null] },
  },
} as const;

const checkCreateBody = compileSchemaCheck(createWebhookBodySchema);
const checkUpdateBody = compileSchemaCheck(updateWebhookBodySchema);
const checkSettingsBody = compileSchemaCheck(patchSettingsBodySchema);

/**
 * What GET answers for `webhooks` fields the workspace never set (upstream's defaults). `events`
 * is left out while unset: then `transcript` is sent (and `audio` with `send_audio`), which an
 * empty list would misstate.
 */
const WEBHOOKS_DEFAULTS = {
  send_audio: false,
  transcript_format: "json",
  exclude_transcript: false,
} as const;

/** How many agents are read at a time when usages are listed. */
const AGENT_SCAN_PAGE = 200;

/** The wire form of a webhook as listed (the SDK's WorkspaceWebhookResponseModel, plus our extensions). */
export interface WebhookWire {
  name: string;
  webhook_id: string;
  webhook_url: string;
  is_disabled: boolean;
  is_auto_disabled: boolean;
  created_at_unix: number;
  auth_type: "hmac";
  events: string[];
  most_recent_failure_error_code?: number;
  most_recent_failure_timestamp?: number;
  /** Extension: whether failed deliveries are retried. */
  retry_enabled: boolean;
  /** Extension: the extra headers sent with each delivery. */
  request_headers: Record<string, string>;
  usage?: { usage_type: "ConvAI Settings" | "ConvAI Agent Settings" }[];
}

/** What the settings service uses. */
export interface WebhookSettingsDeps {
  store: OutgoingWebhookStore;
  agents: AgentStore;
  config: Pick<WebhooksOutConfig, "allowPrivate">;
  now?: () => number;
  /** Called after every change (the planner forgets what it cached). */
  onChange?: () => void;
}

/** Throws the 422 of issues, if there are any. */
function refuse(issues: ValidationIssue[]): void {
  if (issues.length > 0) throw new InvalidInputError(issues);
}

/** Refuses a body that is not a JSON object. */
function requireObject(body: unknown): Record<string, unknown> {
  if (isJsonObject(body)) return body;
  throw new InvalidInputError([
    { loc: ["body"], msg: "Input should be a valid dictionary or object", type: "dict_type" },
  ]);
}

/**
 * The headers of a body (`null` and null values are "none"), checked as HTTP headers; the issues
 * are located under `loc`.
 */
function readHeaders(value: unknown, loc: (string | number)[]): Record<string, string> {
  const headers: [string, string][] = [];
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const [name, raw] of Object.entries(isJsonObject(value) ? value : {})) {
    if (raw === null) continue;
    const at = [...loc, name];
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name) || name.length > 256) {
      issues.push({
        loc: at,
        msg: "Header names must be HTTP tokens (letters, digits, -, …)",
        type: "value_error",
      });
    } else if (RESERVED_HEADERS.has(lower)) {
      issues.push({
        loc: at,
        msg: `The ${lower} header is set by the server and cannot be replaced`,
        type: "value_error",
      });
    } else if (seen.has(lower)) {
      issues.push({ loc: at, msg: "Header names must be unique, whatever their case", type: "value_error" });
    } else if (!isHeaderValue(String(raw))) {
      issues.push({ loc: at, msg: "Header values must not contain control characters", type: "value_error" });
    }
    seen.add(lower);
    headers.push([name, String(raw)]);
  }
  refuse(issues);
  return Object.fromEntries(headers);
}

/** A new webhook id: 32 lower-case hex characters, as upstream's. */
function newWebhookId(): string {
  return randomBytes(16).toString("hex");
}

/** A new signing secret: `wsec_` and 64 hex characters. */
function newWebhookSecret(): string {
  return `wsec_${randomBytes(32).toString("hex")}`;
}

/** A webhook in its wire form (never its secret). */
export function renderWebhook(webhook: WorkspaceWebhook): WebhookWire {
  const wire: WebhookWire = {
    name: webhook.name,
    webhook_id: webhook.webhookId,
    webhook_url: webhook.url,
    is_disabled: webhook.isDisabled,
    is_auto_disabled: webhook.isAutoDisabled,
    created_at_unix: webhook.createdAtUnix,
    auth_type: webhook.authType,
    events: webhook.events,
    retry_enabled: webhook.retryEnabled,
    request_headers: webhook.requestHeaders,
  };
  if (webhook.mostRecentFailureErrorCode !== null) {
    wire.most_recent_failure_error_code = webhook.mostRecentFailureErrorCode;
  }
  if (webhook.mostRecentFailureTimestamp !== null) {
    wire.most_recent_failure_timestamp = webhook.mostRecentFailureTimestamp;
  }
  return wire;
}

/** Copies an object's entries into a new one (`__proto__` stays an ordinary key). */
function copyEntries(entries: Iterable<[string, unknown]>): Record<string, unknown> {
  return Object.fromEntries(entries);
}

/** The workspace's webhooks and ConvAI settings, behind `/v1/workspace/webhooks` and `/v1/convai/settings`. */
export class WebhookSettingsService {
  private readonly now: () => number;

  constructor(private readonly deps: WebhookSettingsDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Creates a webhook from a create body; answers its id and its secret, which is shown only here.
   * Retries are on by default (upstream defaults them off: see docs/compatibility.md).
   */
  async createWebhook(body: unknown): Promise<{ webhook_id: string; webhook_secret: string }> {
    const request = requireObject(body);
    refuse(checkCreateBody(request, ["body"]));
    const settings = request.settings as Record<string, unknown>;
    const url = settings.webhook_url as string;
    const urlProblem = checkWebhookUrlAt(url, this.deps.config.allowPrivate);
    if (urlProblem) refuse([urlProblem]);
    const webhook: WorkspaceWebhook = {
      webhookId: newWebhookId(),
      name: settings.name as string,
      url,
      secret: newWebhookSecret(),
      authType: "hmac",
      isDisabled: false,
      isAutoDisabled: false,
      retryEnabled: true,
      requestHeaders: readHeaders(settings.request_headers, ["body", "settings", "request_headers"]),
      events: [],
      createdAtUnix: Math.floor(this.now() / 1000),
      mostRecentFailureErrorCode: null,
      mostRecentFailureTimestamp: null,
      consecutiveFailures: 0,
      lastSuccessAtMs: null,
    };
    await this.deps.store.insertWebhook(webhook);
    this.deps.onChange?.();
    return { webhook_id: webhook.webhookId, webhook_secret: webhook.secret };
  }

  /** Every webhook, oldest first; with `includeUsages`, where each is selected. */
  async listWebhooks(includeUsages: boolean): Promise<{ webhooks: WebhookWire[] }> {
    const webhooks = (await this.deps.store.listWebhooks()).map(renderWebhook);
    if (includeUsages) {
      const { workspace, agents } = await this.usages();
      for (const webhook of webhooks) {
        webhook.usage = [];
        if (workspace.has(webhook.webhook_id)) webhook.usage.push({ usage_type: "ConvAI Settings" });
        if (agents.has(webhook.webhook_id)) webhook.usage.push({ usage_type: "ConvAI Agent Settings" });
      }
    }
    return { webhooks };
  }

  /** The ids the workspace settings name, and those some agent's overrides name. */
  private async usages(): Promise<{ workspace: Set<string>; agents: Set<string> }> {
    const settings = await this.readSettings();
    const workspace = new Set(namedWebhookIds(settings.webhooks));
    const agents = new Set<string>();
    let after: number | null = null;
    for (;;) {
      const page = await this.deps.agents.scanAgents(after, AGENT_SCAN_PAGE);
      for (const row of page)
        for (const id of namedWebhookIds(agentWebhookOverrides(row.json))) agents.add(id);
      const last = page[page.length - 1];
      if (!last || page.length < AGENT_SCAN_PAGE) break;
      after = last.seq;
    }
    return { workspace, agents };
  }

  /**
   * Changes a webhook from an update body. `is_disabled: false` also clears an auto-disable (and
   * its count of failures). NotFoundError when there is no such webhook.
   */
  async updateWebhook(webhookId: string, body: unknown): Promise<{ status: "ok" }> {
    const request = requireObject(body);
    refuse(checkUpdateBody(request, ["body"]));
    const change: WorkspaceWebhookChange = {
      name: request.name as string,
      isDisabled: request.is_disabled as boolean,
    };
    if (request.is_disabled === false) change.isAutoDisabled = false;
    if (typeof request.retry_enabled === "boolean") change.retryEnabled = request.retry_enabled;
    if (request.request_headers !== undefined) {
      change.requestHeaders = readHeaders(request.request_headers, ["body", "request_headers"]);
    }
    if (Array.isArray(request.events)) change.events = [...new Set(request.events as string[])];
    const updated = await this.deps.store.updateWebhook(webhookId, change);
    if (!updated) throw webhookNotFound(webhookId);
    this.deps.onChange?.();
    return { status: "ok" };
  }

  /** Deletes a webhook (its pending deliveries are cancelled). NotFoundError when there is none. */
  async deleteWebhook(webhookId: string): Promise<{ status: "ok" }> {
    const deleted = await this.deps.store.deleteWebhook(webhookId, this.now());
    if (!deleted) throw webhookNotFound(webhookId);
    this.deps.onChange?.();
    return { status: "ok" };
  }

  /** The stored settings document as stored (every key the client sent), `{}` before the first PATCH. */
  private async readSettings(): Promise<Record<string, unknown>> {
    const json = await this.deps.store.getSettings();
    if (json === undefined) return {};
    const parsed: unknown = JSON.parse(json);
    return isJsonObject(parsed) ? parsed : {};
  }

  /** The settings as GET answers them: the stored document with `webhooks` defaulted under it. */
  async getSettings(): Promise<Record<string, unknown>> {
    return renderSettings(await this.readSettings());
  }

  /**
   * Applies a PATCH: top-level keys replace what was stored; inside `webhooks`, field by field (a
   * null field goes back to its default). The webhooks it names must exist. Answers the new GET body.
   */
  async updateSettings(body: unknown): Promise<Record<string, unknown>> {
    const patch = requireObject(body);
    refuse(checkSettingsBody(patch, ["body"]));
    const webhooksPatch = isJsonObject(patch.webhooks) ? patch.webhooks : undefined;
    if (webhooksPatch) await this.checkNamedWebhooks(webhooksPatch);
    const current = await this.readSettings();
    const merged = copyEntries([
      ...Object.entries(current),
      ...Object.entries(patch).filter(([key]) => key !== "webhooks"),
    ]);
    if (webhooksPatch) {
      const before = isJsonObject(current.webhooks) ? current.webhooks : {};
      const fields = new Map([...Object.entries(before), ...Object.entries(webhooksPatch)]);
      for (const [key, value] of Object.entries(webhooksPatch)) if (value === null) fields.delete(key);
      const events = fields.get("events");
      if (Array.isArray(events)) fields.set("events", [...new Set(events)]);
      merged.webhooks = copyEntries(fields);
    }
    await this.deps.store.putSettings(JSON.stringify(merged));
    this.deps.onChange?.();
    return renderSettings(merged);
  }

  /** Refuses (422) a `webhooks` patch that names a webhook that does not exist. */
  private async checkNamedWebhooks(webhooks: Record<string, unknown>): Promise<void> {
    const existing = new Set((await this.deps.store.listWebhooks()).map((w) => w.webhookId));
    const issues: ValidationIssue[] = [];
    const missing = (id: string) =>
      `Webhook ${id} does not exist: create it with POST /v1/workspace/webhooks, or list them with GET /v1/workspace/webhooks`;
    const single = webhooks.post_call_webhook_id;
    if (typeof single === "string" && !existing.has(single)) {
      issues.push({
        loc: ["body", "webhooks", "post_call_webhook_id"],
        msg: missing(single),
        type: "value_error",
      });
    }
    const list = webhooks.post_call_webhook_ids;
    if (Array.isArray(list)) {
      for (const [i, id] of list.entries()) {
        if (typeof id === "string" && !existing.has(id)) {
          issues.push({
            loc: ["body", "webhooks", "post_call_webhook_ids", i],
            msg: missing(id),
            type: "value_error",
          });
        }
      }
    }
    refuse(issues);
  }
}

/** The settings document as GET answers it: `webhooks` defaulted under what was stored. */
function renderSettings(stored: Record<string, unknown>): Record<string, unknown> {
  const webhooks = isJsonObject(stored.webhooks) ? stored.webhooks : {};
  return copyEntries([
    ...Object.entries(stored),
    ["webhooks", copyEntries([...Object.entries(WEBHOOKS_DEFAULTS), ...Object.entries(webhooks)])],
  ]);
}

/** The 404 of an unknown webhook id. */
function webhookNotFound(webhookId: string): NotFoundError {
  return new NotFoundError(
    "webhook",
    webhookId,
    `Webhook ${webhookId} was not found. List the webhooks with GET /v1/workspace/webhooks to find its id.`,
  );
}

/** The 422 issue of a webhook URL the egress guard refuses; undefined when it is fine. */
function checkWebhookUrlAt(url: string, allowPrivate: boolean): ValidationIssue | undefined {
  const problem = checkWebhookUrl(url, allowPrivate);
  return problem === undefined
    ? undefined
    : { loc: ["body", "settings", "webhook_url"], msg: problem, type: "value_error" };
}
