import { hasConstantValue, objectOrUndefined } from "./agent-tools.js";
import type { AgentTool } from "./brain.js";
import { fillVariables } from "./dynamic-variables.js";

type JsonObject = Record<string, unknown>;

/** A tool call's outcome as the model sees it: the result text, and whether it failed. */
export interface ToolOutcome {
  result: string;
  isError: boolean;
}

/** Limits of one webhook tool call. */
export interface WebhookToolLimits {
  /** How long the call may take; the tool's `response_timeout_secs` when shorter. */
  timeoutMs: number;
  /** The largest response body read, in bytes. */
  maxResponseBytes: number;
}

/** What a webhook call may take from its session besides the model's arguments. */
export interface WebhookCallContext {
  /** The session's dynamic variables: values of `dynamic_variable` properties and headers, `{{name}}` in headers. */
  dynamicVariables?: Readonly<Record<string, string>>;
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded";
/** How much of an error answer's body the model is shown. */
const ERROR_EXCERPT_CHARS = 300;
/** How much of an error answer's body is read for that excerpt. */
const ERROR_EXCERPT_BYTES = 4_096;
/** How deep a request body schema is followed when its values are filled. */
const MAX_BODY_DEPTH = 16;

/** A failed call as the model sees it. */
function failure(reason: string): ToolOutcome {
  return { result: reason, isError: true };
}

/** A dynamic variable's text as the JSON type its property declares (numbers and booleans converted). */
function typedVariable(text: string, type: unknown): unknown {
  if (type === "number" || type === "integer") {
    const number = Number(text);
    return text.trim() !== "" && Number.isFinite(number) ? number : text;
  }
  if (type === "boolean" && (text === "true" || text === "false")) return text === "true";
  return text;
}

/**
 * The value a property of the tool's schema gets: its constant, its dynamic variable, or what the
 * model gave (an object's properties filled the same way); undefined leaves it out.
 */
function propertyValue(
  property: JsonObject,
  given: unknown,
  variables: Readonly<Record<string, string>>,
  depth: number,
): unknown {
  if (property.is_omitted === true) return undefined;
  if (hasConstantValue(property)) return property.constant_value;
  const variable = property.dynamic_variable;
  if (typeof variable === "string" && variable !== "")
    return Object.hasOwn(variables, variable)
      ? typedVariable(variables[variable] ?? "", property.type)
      : undefined;
  // System-provided values belong to upstream's integrations, which this server does not have.
  if (property.is_system_provided === true) return undefined;
  const properties = objectOrUndefined(property.properties);
  const givenObject = objectOrUndefined(given);
  if (properties && givenObject) return objectValue(properties, givenObject, variables, depth + 1);
  return given;
}

/** An object built from a schema's properties, each filled by `propertyValue`; names outside the schema are dropped. */
function objectValue(
  properties: JsonObject,
  given: JsonObject,
  variables: Readonly<Record<string, string>>,
  depth: number,
): JsonObject {
  const value: JsonObject = {};
  if (depth > MAX_BODY_DEPTH) return value;
  for (const [name, schema] of Object.entries(properties)) {
    const property = objectOrUndefined(schema);
    if (!property) continue;
    const filled = propertyValue(property, given[name], variables, depth);
    if (filled !== undefined) value[name] = filled;
  }
  return value;
}

/** A value as it goes into a URL or a form: strings as they are, anything else as JSON. */
function textOf(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** An HTTP request ready to send, or the reason it can't be made. */
type PreparedRequest =
  | { ok: true; url: URL; method: string; headers: Headers; body: string | undefined }
  | { ok: false; reason: string };

/** The request a webhook tool's `api_schema` describes, with the model's arguments in their places. */
function prepareRequest(
  tool: AgentTool,
  parameters: JsonObject,
  variables: Readonly<Record<string, string>>,
): PreparedRequest {
  const apiSchema = objectOrUndefined(tool.config.api_schema);
  if (!apiSchema || typeof apiSchema.url !== "string") return { ok: false, reason: "The tool has no URL." };
  const method = typeof apiSchema.method === "string" ? apiSchema.method.toUpperCase() : "GET";
  if (!METHODS.has(method)) return { ok: false, reason: `The tool's method ${method} is not supported.` };

  let urlText = apiSchema.url;
  for (const [name, schema] of Object.entries(objectOrUndefined(apiSchema.path_params_schema) ?? {})) {
    const value = propertyValue(objectOrUndefined(schema) ?? {}, parameters[name], variables, 0);
    if (value === undefined || value === null)
      return { ok: false, reason: `Missing path parameter "${name}".` };
    urlText = urlText.replaceAll(`{${name}}`, encodeURIComponent(textOf(value)));
  }
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return { ok: false, reason: "The tool's URL is not a valid URL." };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { ok: false, reason: "The tool's URL must be http or https." };
  const query = objectOrUndefined(objectOrUndefined(apiSchema.query_params_schema)?.properties) ?? {};
  for (const [name, schema] of Object.entries(query)) {
    const value = propertyValue(objectOrUndefined(schema) ?? {}, parameters[name], variables, 0);
    if (value !== undefined && value !== null) url.searchParams.append(name, textOf(value));
  }

  const headers = new Headers();
  let body: string | undefined;
  const bodySchema = objectOrUndefined(apiSchema.request_body_schema);
  if (BODY_METHODS.has(method) && bodySchema) {
    const properties = objectOrUndefined(bodySchema.properties);
    const value = properties ? objectValue(properties, parameters, variables, 0) : parameters;
    if (apiSchema.content_type === FORM_CONTENT_TYPE) {
      const form = new URLSearchParams();
      for (const [name, item] of Object.entries(value))
        if (item !== undefined && item !== null) form.append(name, textOf(item));
      body = form.toString();
      headers.set("content-type", FORM_CONTENT_TYPE);
    } else {
      body = JSON.stringify(value);
      headers.set("content-type", "application/json");
    }
  }
  for (const [name, declared] of Object.entries(objectOrUndefined(apiSchema.request_headers) ?? {})) {
    const value = headerValue(declared, variables);
    if (value === undefined) continue;
    try {
      headers.set(name, value);
    } catch {
      return { ok: false, reason: `The tool's header "${name}" is not a valid HTTP header.` };
    }
  }
  return { ok: true, url, method, headers, body };
}

/**
 * A header's value: a string (its `{{name}}` placeholders filled), or a dynamic variable's value.
 * Secrets (`secret_id`) and environment variables (`env_var_label`) live in upstream's workspace,
 * which this server cannot read: such headers are not sent.
 */
function headerValue(declared: unknown, variables: Readonly<Record<string, string>>): string | undefined {
  if (typeof declared === "string") return fillVariables(declared, variables);
  const variable = objectOrUndefined(declared)?.variable_name;
  if (typeof variable === "string" && Object.hasOwn(variables, variable)) return variables[variable];
  return undefined;
}

/** A response body, read until `maxBytes`: its text, and whether that is all of it. */
async function readBodyText(
  response: Response,
  maxBytes: number,
): Promise<{ text: string; complete: boolean }> {
  if (!response.body) return { text: "", complete: true };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = true;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      complete = false;
      await reader.cancel().catch(() => undefined);
      break;
    }
    size += value.byteLength;
    chunks.push(value);
  }
  // A character cut at the end of an incomplete body decodes as U+FFFD, which an excerpt can show.
  return { text: Buffer.concat(chunks).toString("utf8"), complete };
}

/** A short, single-line piece of an error answer's body. */
function excerptOf(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > ERROR_EXCERPT_CHARS ? `${line.slice(0, ERROR_EXCERPT_CHARS)}…` : line;
}

/** Why a request failed, in words a person (and the model) can read. */
function networkReason(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.message === "string" && cause.message !== "") return cause.message;
  if (typeof cause?.code === "string") return cause.code;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The outcome of a webhook's answer: its whole body for a 2xx (within the limit), an error naming
 * the status and the start of the body otherwise.
 */
async function outcomeOf(response: Response, maxBytes: number): Promise<ToolOutcome> {
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  if (response.status >= 200 && response.status < 300) {
    const tooLarge = failure(`The webhook's answer is larger than ${maxBytes} bytes, the limit.`);
    if (Number(response.headers.get("content-length")) > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      return tooLarge;
    }
    const { text, complete } = await readBodyText(response, maxBytes);
    if (!complete) return tooLarge;
    return {
      result: text === "" ? `The webhook answered ${response.status} with no body.` : text,
      isError: false,
    };
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => undefined);
    return failure(`The webhook answered ${status}, a redirect, which is not followed.`);
  }
  // Only the start of an error answer is shown, so only that much is read.
  const { text } = await readBodyText(response, Math.min(maxBytes, ERROR_EXCERPT_BYTES));
  const excerpt = excerptOf(text);
  return failure(`The webhook answered ${status}${excerpt ? `: ${excerpt}` : "."}`);
}

/**
 * Calls a webhook tool: an HTTP request to the URL of its `api_schema`, with the model's
 * arguments placed as the schema says (path, query, body). Never throws: a failure (timeout,
 * error status, too large a body, aborted) is an outcome with `isError: true` and a reason.
 */
export async function callWebhookTool(
  tool: AgentTool,
  parameters: Record<string, unknown>,
  limits: WebhookToolLimits,
  signal: AbortSignal,
  context: WebhookCallContext = {},
): Promise<ToolOutcome> {
  let request: PreparedRequest;
  try {
    request = prepareRequest(tool, objectOrUndefined(parameters) ?? {}, context.dynamicVariables ?? {});
  } catch (error) {
    return failure(`The webhook request could not be built: ${networkReason(error)}`);
  }
  if (!request.ok) return failure(request.reason);
  if (signal.aborted) return failure("The webhook call was cancelled.");

  const toolTimeoutMs =
    tool.responseTimeoutSecs > 0 ? tool.responseTimeoutSecs * 1000 : Number.POSITIVE_INFINITY;
  // setTimeout takes at most 2^31-1 ms; a longer wait would fire at once.
  const timeoutMs = Math.min(limits.timeoutMs, toolTimeoutMs, 2_147_483_647);
  const controller = new AbortController();
  let stopped: "timeout" | "cancelled" | undefined;
  const onAbort = (): void => {
    stopped ??= "cancelled";
    controller.abort();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => {
    stopped ??= "timeout";
    controller.abort();
  }, timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
      // upstream follows redirects only when a tool allows it, to listed domains; this server never does.
      redirect: "manual",
    });
    return await outcomeOf(response, limits.maxResponseBytes);
  } catch (error) {
    if (stopped === "timeout") return failure(`The webhook did not answer within ${timeoutMs} ms.`);
    if (stopped === "cancelled") return failure("The webhook call was cancelled.");
    return failure(`The webhook could not be reached: ${networkReason(error)}`);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}
