/**
 * The console's one way to the server: the public API, with the API key the user signed in with
 * (kept in session storage, sent as `xi-api-key`). Errors come back as `ApiError` with the
 * server's own message, ready to show.
 */

/** Where the signed-in key is kept for this browser tab. */
const KEY_STORAGE = "openconvai.apiKey";

/** How long a request may take before the console gives up on it. */
const REQUEST_TIMEOUT_MS = 30_000;

/** An answer other than 2xx, with the message the server gave (or one saying what happened). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The key this tab signed in with, if any. */
export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

/** Keeps the key for this tab. */
export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
}

/** Forgets the key (sign out). */
export function forgetKey(): void {
  sessionStorage.removeItem(KEY_STORAGE);
}

/** The readable message of an error body in upstream's envelope (`detail` as text, object or list of issues). */
export function errorMessage(body: unknown, status: number): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    const issues = detail
      .map((d) => {
        const issue = d as { loc?: unknown[]; msg?: string };
        const where = Array.isArray(issue.loc) ? issue.loc.filter((p) => p !== "body").join(".") : "";
        return where ? `${where}: ${issue.msg ?? "invalid"}` : (issue.msg ?? "invalid");
      })
      .join("; ");
    if (issues) return issues;
  }
  if (detail && typeof detail === "object") {
    const message = (detail as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  return `The server answered ${status}.`;
}

/** Query parameters: undefined, null and "" are left out; arrays repeat the name. */
export type Query = Record<string, string | number | boolean | readonly string[] | null | undefined>;

/** `path?query` with the query's set values. */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) for (const v of value) params.append(name, v);
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** What a request may carry besides its method and path. */
export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as it is (a FormData, say). */
  body?: BodyInit;
  /** A key to use instead of the stored one (signing in). */
  key?: string;
  signal?: AbortSignal;
  /**
   * How long to wait for the answer's headers (default 30 s). The body may take longer: a long
   * recording downloads for as long as it needs.
   */
  timeoutMs?: number;
}

/** Sends a request with the key; answers the raw Response of a 2xx, throws ApiError otherwise. */
export async function apiFetch(
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<Response> {
  const key = options.key ?? storedKey();
  const headers: Record<string, string> = {};
  if (key) headers["xi-api-key"] = key;
  let body: BodyInit | undefined = options.body;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  // The deadline covers the wait for the headers only; it is lifted once they arrive.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs ?? REQUEST_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), { method, headers, body, signal });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(
      0,
      deadline.signal.aborted
        ? "The server took too long to answer. Check that openconvai is running and not overloaded, then try again."
        : "The server did not answer. Check that openconvai is running, then try again.",
    );
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: the status says it.
    }
    // A key being tried (signing in) is not the session's: its refusal is the sign-in page's to say.
    if (response.status === 401 && options.key === undefined) onUnauthorized?.();
    throw new ApiError(response.status, errorMessage(parsed, response.status));
  }
  return response;
}

/** Sends a request and reads the JSON answer. */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await apiFetch(method, path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Called when a request is refused for its key (the key was revoked): the app goes back to sign-in. */
let onUnauthorized: (() => void) | undefined;

/** Sets what happens when the server refuses the key. */
export function setUnauthorizedHandler(handler: (() => void) | undefined): void {
  onUnauthorized = handler;
}
