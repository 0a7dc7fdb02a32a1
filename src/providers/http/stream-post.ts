/**
 * The HTTP client of the providers' hot path: a POST whose answer is read as it streams (a model's
 * server-sent events, a speech answer's audio), used by the streaming LLM, the text-to-speech and
 * the speech-to-text adapters. It uses undici's `request` with one keep-alive pool per origin,
 * shared by all of them: the platform `fetch` builds WHATWG streams, headers and a Response for
 * every call, which cost about 0.5 ms of CPU per model request at live-session loads (measured;
 * see docs/design-notes.md). undici is imported here and nowhere else.
 */
import { Agent, FormData, request } from "undici";

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
 * LLM's first-token and total timeouts, up to ten minutes each, and the speech providers'
 * first-byte and total ones), and undici's would cut them short with an error that reads like a
 * network failure.
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

/** One field of a multipart/form-data body: a text, or a file's bytes with its name and type. */
export type FormField =
  | { name: string; value: string }
  | { name: string; file: Uint8Array; filename: string; type: string };

/** What a streamed POST sends. */
export interface StreamPost {
  headers: Record<string, string>;
  /**
   * Text, bytes, or the fields of a multipart/form-data body (encoded by undici as `fetch` encodes
   * a FormData, with the `content-type` header, its boundary included, set for it).
   */
  body: string | Uint8Array | { form: readonly FormField[] };
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
    body: toBody(post.body),
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

function toBody(body: StreamPost["body"]): string | Uint8Array | FormData {
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  const form = new FormData();
  for (const field of body.form) {
    if ("file" in field) {
      // The File copies the bytes (the cast only satisfies the DOM typing of its parts).
      form.append(
        field.name,
        new File([field.file as Uint8Array<ArrayBuffer>], field.filename, { type: field.type }),
      );
    } else {
      form.append(field.name, field.value);
    }
  }
  return form;
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
