import type { AgentTool } from "./brain.js";

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
): Promise<ToolOutcome> {
  void tool;
  void parameters;
  void limits;
  void signal;
  throw new Error("callWebhookTool: not implemented yet");
}
