/**
 * The HTTP client of the providers' hot path: a POST whose answer is read as it streams (a model's
 * server-sent events). It uses undici's `request` with one keep-alive pool per origin: the
 * platform `fetch` builds WHATWG streams, headers and a Response for every call, which cost about
 * 0.5 ms of CPU per model request at live-session loads (measured; see docs/design-notes.md).
 * undici is imported here and nowhere else.
 */
import { Agent, request } from "undici";

/** Idle keep-alive connections are closed after this long (providers close theirs sooner or later). */
const KEEP_ALIVE_MS = 10_000;

/**
 * undici's own limits, a backstop only: callers apply their deadlines through the signal. Without
 * them a provider that never answers could hold a connection for undici's default of 5 minutes.
 */
const HEADERS_TIMEOUT_MS = 120_000;
const BODY_TIMEOUT_MS = 120_000;

const dispatcher = new Agent({
  keepAliveTimeout: KEEP_ALIVE_MS,
  headersTimeout: HEADERS_TIMEOUT_MS,
  bodyTimeout: BODY_TIMEOUT_MS,
});

/** A streamed answer: its status, headers (lower-case names) and body chunks. */
export interface StreamedAnswer {
  status: number;
  /** A header's value (the first, when repeated), or undefined. */
  header(name: string): string | undefined;
  /** The body as it arrives; stops with an error when the signal aborts or the connection breaks. */
  body: AsyncIterable<Uint8Array>;
  /** Stops reading and releases the connection (no-op once the body was read). */
  cancel(): void;
}

/** What a streamed POST sends. */
export interface StreamPost {
  headers: Record<string, string>;
  body: string;
  /** Aborts the request and the reading of its body. */
  signal: AbortSignal;
}

/**
 * POSTs `post.body` to `url` and resolves once the answer's headers arrived. It rejects with the
 * network error (its `code`, such as `ECONNREFUSED`, says what happened) or, once the signal
 * aborted, with the signal's reason.
 */
export async function streamPost(url: string, post: StreamPost): Promise<StreamedAnswer> {
  const answer = await request(url, {
    method: "POST",
    headers: post.headers,
    body: post.body,
    signal: post.signal,
    dispatcher,
  });
  const headers = answer.headers;
  return {
    status: answer.statusCode,
    header: (name) => {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
    body: answer.body,
    cancel: () => {
      if (!answer.body.destroyed) answer.body.destroy();
    },
  };
}
