/** One FastAPI-style validation issue, as upstream's 422 bodies carry them. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** The error codes this server answers with (the `detail.status` of non-422 errors). */
export type ApiErrorCode =
  | "invalid_api_key"
  | "invalid_signature"
  | "webhooks_not_configured"
  | "conversation_not_found"
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
  | "method_not_allowed"
  | "payload_too_large"
  | "range_not_satisfiable"
  | "unsupported_media_type"
  | "service_unavailable"
  | "invalid_request"
  | "internal_error";

/** An error the API renders in upstream's envelope; `cause` is logged, never sent. */
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

/** A 422 with FastAPI's `{"detail":[{loc,msg,type}]}` body. */
export class ValidationFailed extends Error {
  readonly statusCode = 422;
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.loc.join(".")}: ${i.msg}`).join("; "));
    this.name = "ValidationFailed";
  }

  toBody(): { detail: ValidationIssue[] } {
    return { detail: this.issues };
  }
}

/** Builds the 404 for an unknown conversation. */
export function conversationNotFound(conversationId: string): ApiError {
  return new ApiError(404, "conversation_not_found", `Conversation ${conversationId} was not found.`);
}
