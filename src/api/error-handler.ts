/**
 * The one place errors become answers. Whatever a route, a hook, a parser or a service throws is
 * mapped to the HTTP error type (ApiError, or ValidationFailed for a 422) and rendered in
 * upstream's envelope: 422 `{"detail":[{loc,msg,type}]}`, anything else
 * `{"detail":{"status":"<code>","message":"<text>"}}`.
 *
 * | thrown                                         | status | body                                   |
 * |------------------------------------------------|--------|----------------------------------------|
 * | ApiError                                       | its    | `{status: code, message}`              |
 * | ValidationFailed, InvalidInputError            | 422    | its issues                             |
 * | NotFoundError (kind)                           | 404    | `{status: "<kind>_not_found", message}`|
 * | Fastify schema validation                      | 422    | issues (validation-issues.ts, lax)     |
 * | body over the route's limit                    | 413    | payload_too_large                      |
 * | malformed or empty JSON body                   | 422    | `json_invalid`                         |
 * | unsupported Content-Type                       | 415    | unsupported_media_type                 |
 * | any other 4xx from Fastify                     | same   | invalid_request                        |
 * | a database query cancelled (SQLSTATE 57014)    | 503    | query_timeout (logged at warn, no SQL) |
 * | anything else                                  | 500    | internal_error (the error is logged)   |
 *
 * What Node's HTTP parser refuses before Fastify sees a request (a malformed request, headers too
 * large, a request not received in time) is answered by handleClientError, in the same envelope.
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { ErrorObject } from "ajv";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { toValidationIssues } from "../conversations/validation-issues.js";
import { InvalidInputError, NotFoundError, type ResourceKind } from "../domain/errors.js";
import { ApiError, type ApiErrorCode, bodyTooLarge, ValidationFailed } from "./api-error.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** What a 413 calls this route's body (default "request body"). */
    bodyName?: string;
  }
}

/** The HTTP error type: what every error is mapped to before it is rendered. */
type HttpError = ApiError | ValidationFailed;

const NOT_FOUND_CODES: Record<ResourceKind, ApiErrorCode> = {
  conversation: "conversation_not_found",
  audio: "audio_not_found",
  tag: "tag_not_found",
  file: "file_not_found",
  topics: "topics_not_found",
  evaluation_criterion: "evaluation_criterion_not_found",
  agent: "agent_not_found",
  webhook: "webhook_not_found",
  webhook_delivery: "webhook_delivery_not_found",
};

/** Where Fastify found a schema error, as FastAPI names it in `loc`. */
const LOCATIONS: Record<string, string> = {
  querystring: "query",
  params: "path",
  body: "body",
  headers: "header",
};

/** compat: upstream (FastAPI) answers malformed JSON with a 422 `json_invalid` issue. */
function jsonInvalid(error: Error): ValidationFailed {
  return new ValidationFailed([
    { loc: ["body"], msg: `JSON decode error: ${error.message}`, type: "json_invalid" },
  ]);
}

/**
 * SQLSTATE 57014 (query_canceled): PostgreSQL cancelled a statement, almost always because it ran
 * past the pool's statement_timeout (OPENCONVAI_DATABASE_STATEMENT_TIMEOUT_MS). Looked for on the
 * error and the few causes it may be wrapped in.
 */
const QUERY_CANCELED = "57014";

function isQueryCanceled(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    if ((current as { code?: unknown }).code === QUERY_CANCELED) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The 503 of a query the database cancelled: what happened and what to do, nothing of the query. */
function queryTimeout(): ApiError {
  return new ApiError(
    503,
    "query_timeout",
    "The database query took longer than the server's statement timeout and was cancelled. " +
      "Narrow the request (fewer or rarer search words, a filter, a shorter time range) and try again, " +
      "or ask the operator to raise OPENCONVAI_DATABASE_STATEMENT_TIMEOUT_MS.",
  );
}

/** Maps anything thrown while handling a request to the HTTP error it is answered with. */
export function toHttpError(error: unknown, request: FastifyRequest): HttpError {
  if (error instanceof ApiError || error instanceof ValidationFailed) return error;
  if (error instanceof InvalidInputError) return new ValidationFailed(error.issues);
  if (error instanceof NotFoundError) return new ApiError(404, NOT_FOUND_CODES[error.kind], error.message);
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    const where = LOCATIONS[fastifyError.validationContext ?? "body"] ?? "body";
    // Request values are validated laxly: Fastify's Ajv coerces text (see validation-issues.ts).
    return new ValidationFailed(toValidationIssues(fastifyError.validation as ErrorObject[], [where], "lax"));
  }
  switch (fastifyError.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return bodyTooLarge(request.routeOptions.bodyLimit, request.routeOptions.config.bodyName);
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return jsonInvalid(error as Error);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError(415, "unsupported_media_type", (error as Error).message);
  }
  if (isQueryCanceled(error)) return queryTimeout();
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) return jsonInvalid(error as Error);
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new ApiError(status, "invalid_request", (error as Error).message);
  }
  return new ApiError(
    500,
    "internal_error",
    "Internal server error; see the server log for the request id.",
    {
      cause: error,
    },
  );
}

/** The error handler: maps the error, logs what the client is not told, renders the envelope. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const httpError = toHttpError(error, request);
  if (httpError instanceof ApiError && httpError.code === "query_timeout") {
    // The route, not the error: a database error may carry the statement's context and values
    // (search words from transcripts). The request log line has the request id.
    request.log.warn(
      { sqlState: QUERY_CANCELED, route: request.routeOptions.url },
      "a database query ran past the statement timeout and was cancelled",
    );
  } else if (httpError instanceof ApiError && httpError.cause !== undefined) {
    if (httpError.statusCode === 500) request.log.error({ err: httpError.cause }, "request failed");
    else request.log.warn({ err: httpError.cause }, httpError.message);
  }
  return reply.code(httpError.statusCode).send(httpError.toBody());
}

/** Answers a path no route matches. */
export function handleNoRoute(request: FastifyRequest, reply: FastifyReply): void {
  const error = new ApiError(
    404,
    "not_found",
    `No route for ${request.method} ${request.url.split("?")[0]}.`,
  );
  reply.code(404).send(error.toBody());
}

/** Errors the router raises before any route runs (no hooks run for them); a 422 like upstream's. */
export function handleRouterError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const issue =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? { loc: ["path"], msg: "A path parameter is too long", type: "string_too_long" }
      : { loc: ["path"], msg: "The path is not valid percent-encoded UTF-8", type: "value_error" };
  // No onRequest hook ran, so the request id header is set here.
  reply
    .code(422)
    .header("x-request-id", request.id)
    .send(new ValidationFailed([issue]).toBody());
}

/** The answer to what Node's HTTP parser refused, by its error code. */
function clientErrorFor(code: string | undefined): ApiError {
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return new ApiError(
      408,
      "request_timeout",
      "The request was not received in time (OPENCONVAI_REQUEST_TIMEOUT_SECS); send it faster, or ask the operator to raise the limit.",
    );
  }
  if (code === "HPE_HEADER_OVERFLOW") {
    return new ApiError(
      431,
      "headers_too_large",
      "The request headers are larger than 16 KiB; send fewer or shorter headers.",
    );
  }
  return new ApiError(
    400,
    "invalid_request",
    "The request is not valid HTTP/1.1; check the request line, the headers and the body framing.",
  );
}

/**
 * Fastify's `clientErrorHandler`: answers what Node's HTTP parser refused (malformed request, headers
 * too large, request timeout) in upstream's envelope with a fresh request id, then closes the socket.
 */
export function handleClientError(this: FastifyInstance, error: Error, socket: Socket): void {
  const code = (error as NodeJS.ErrnoException).code;
  // A reset connection has no one to answer; a response already under way can't be replaced.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (code === "ECONNRESET" || socket.destroyed || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = clientErrorFor(code);
  const requestId = randomUUID();
  this.log.info({ reqId: requestId, status: answer.statusCode, code }, "client error");
  const body = JSON.stringify(answer.toBody());
  socket.end(
    `HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode]}\r\n` +
      "content-type: application/json; charset=utf-8\r\n" +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\n` +
      "connection: close\r\n\r\n" +
      body,
  );
  // Once the answer is out the socket goes, whatever the client is still sending.
  socket.once("finish", () => socket.destroy());
}
