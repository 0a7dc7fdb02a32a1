/**
 * The HTTP client of the providers' hot path: a POST whose answer is read as it streams (a model's
 * server-sent events). It uses undici's `request` with one keep-alive pool per origin: the
 * platform `fetch` builds WHATWG streams, headers and a Response for every call, which cost about
 * 0.5 ms of CPU per model request at live-session loads (measured; see docs/design-notes.md).
 * undici is imported here and nowhere else.
 */
import { Agent, request } from "undici";

/**
 * Idle keep-alive connections are closed after this long, unless the server says sooner: below
 * the 5 s idle timeout common in servers that do not announce theirs, so a request is never sent
 * on a connection the server is closing.
 */
const KEEP_ALIVE_MS = 4_000;

/** Connecting may take this long; the caller's signal ends it sooner. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * undici's own header and body timeouts are off: the caller's signal carries the limits (the
 * LLM's first-token and total timeouts, up to ten minutes each), and undici's would cut them
 * short with an error that reads like a network failure.
 */
const dispatcher = new Agent({
  keepAliveTimeout: KEEP_ALIVE_MS,
  connect: { timeout: CONNECT_TIMEOUT_MS },
  headersTimeout: 0,
  bodyTimeout: 0,
});

/** A streamed answer: its status, headers (lower-case names) and body chunks. */
export interface StreamedAnswer {
  status: number;
  /** A header's value (the first, when repeated), or undefined. */
  header(name: string): string | undefined;
  /** The body as it arrives; stops with an error when the signal aborts or the connection breaks. */
  body: AsyncIterable<Uint8Array>;
  /** Stops reading and closes the connection (no-op once the body was read to its end). */
  cancel(): void;
}

/** What a streamed POST sends. */
export interface StreamPost {
  headers: Record<string, string>;
  body: string;
  /** Aborts the request, the connecting included, and the reading of its body. */
  signal: AbortSignal;
}

/**
 * POSTs `post.body` to `url` and resolves once the answer's headers arrived. It rejects with the
 * network error (its `code`, such as `ECONNREFUSED`, says what happened) or, as soon as the signal
 * aborts, with the signal's reason: undici notices an abort only once connected, so a host that
 * does not answer the connection would otherwise hold the caller until the connect timeout.
 */
export function streamPost(url: string, post: StreamPost): Promise<StreamedAnswer> {
  const { signal } = post;
  if (signal.aborted) return Promise.reject(signal.reason);
  const pending = request(url, {
    method: "POST",
    headers: post.headers,
    body: post.body,
    signal,
    dispatcher,
  });
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      // An answer that arrives after all the same is closed unread.
      pending.then(
        (answer) => answer.body.destroy(),
        () => undefined,
      );
    };
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(
      (answer) => {
        signal.removeEventListener("abort", onAbort);
        resolve(wrap(answer));
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function wrap(answer: Awaited<ReturnType<typeof request>>): StreamedAnswer {
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
