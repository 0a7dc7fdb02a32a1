import { describeIssues, type ValidationIssue } from "../domain/errors.js";

/** The error codes this server answers with (the `detail.status` of non-422 errors). */
export type ApiErrorCode =
  | "invalid_api_key"
  | "invalid_signature"
  | "webhooks_not_configured"
  | "conversation_not_found"
  | "agent_not_found"
  | "webhook_not_found"
  | "webhook_delivery_not_found"
  | "audio_not_found"
  | "tag_not_found"
  | "file_not_found"
  | "file_in_use"
  | "topics_not_found"
  | "analysis_not_configured"
  | "evaluation_criterion_not_found"
  | "llm_provider_error"
  | "llm_invalid_output"
  | "embeddings_provider_error"
  | "not_found"
  | "payload_too_large"
  | "range_not_satisfiable"
  | "unsupported_media_type"
  | "request_timeout"
  | "headers_too_large"
  | "invalid_request"
  | "query_timeout"
  | "internal_error";

/** The HTTP error type: an error the API renders in upstream's envelope; `cause` is logged, never sent. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ApiError";
  }

  /** The body upstream sends for this kind of error. */
  toBody(): { detail: { status: ApiErrorCode; message: string } } {
    return { detail: { status: this.code, message: this.message } };
  }
}

/** A 422 with FastAPI's `{"detail":[{loc,msg,type}]}` body, for what the HTTP layer itself finds wrong. */
export class ValidationFailed extends Error {
  readonly statusCode = 422;
  constructor(readonly issues: ValidationIssue[]) {
    super(describeIssues(issues));
    this.name = "ValidationFailed";
  }

  /** The body upstream sends for a validation error. */
  toBody(): { detail: ValidationIssue[] } {
    return { detail: this.issues };
  }
}

/** The 413 for a body over its limit; `what` names the body ("request body", "webhook body", "file"). */
export function bodyTooLarge(limit: number, what = "request body"): ApiError {
  return new ApiError(
    413,
    "payload_too_large",
    `The ${what} is larger than the limit of ${limit} bytes. Send a smaller one (docs/operations.md lists the limits).`,
  );
}

/** The 422 of an invalid cursor query parameter. */
export function invalidCursor(msg = "Invalid cursor"): ValidationFailed {
  return new ValidationFailed([{ loc: ["query", "cursor"], msg, type: "value_error" }]);
}
