/**
 * The HTTP adapter for `openconvai sync`: talks to the ElevenLabs Conversations API (or another
 * openconvai) with fetch. Every request is retried on 429 (after Retry-After), on 408 and 5xx, on
 * timeouts and on dropped connections (also when the connection drops mid-body), with exponential
 * backoff and jitter. A source that has never answered and cannot be reached (connection refused, a
 * host name that does not resolve) fails at once: retrying would only hide a wrong --from. The API
 * key is sent in the xi-api-key header and appears in no message.
 */
import {
  type ConversationSource,
  type SourceAudio,
  SourceError,
  type SourceListQuery,
  type SourcePage,
} from "./conversation-source.js";

/** Settings of the HTTP source. */
export interface HttpSourceOptions {
  baseUrl: string;
  apiKey: string;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
  /** Attempts per request before giving up (default 8). */
  maxAttempts?: number;
  /**
   * First backoff delay; it doubles each attempt, up to 30 s (default 500 ms). Each wait is between
   * half of it and all of it (jitter), never less.
   */
  backoffBaseMs?: number;
  /** The longest Retry-After honoured; longer waits are cut to it (default 300 s). */
  maxRetryAfterMs?: number;
  /** Called before each retry, for a display; never given the key. */
  onRetry?: (info: { path: string; attempt: number; delayMs: number; reason: string }) => void;
  fetch?: typeof fetch;
}

/** Waits, unless the signal aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Reads Retry-After (seconds or an HTTP date) as milliseconds; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Connection errors that mean the source is not there, not that it is busy: retrying will not help. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name could not be resolved",
  EAI_NONAME: "host name not found",
};

/** The error code of a failed fetch: undici puts the socket's or the resolver's error in `cause`. */
function connectionErrorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | undefined)?.cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  return typeof code === "string" ? code : undefined;
}

/** The wait before a retry, shown to a person: milliseconds under a second, else seconds. */
export function describeDelay(ms: number): string {
  return ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Describes a base URL without credentials, query or trailing slash: the source's name. */
export function describeSourceUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

/** The Conversations API over HTTP (see the module comment). */
export class HttpConversationSource implements ConversationSource {
  readonly key: string;
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  /** Whether the source has answered once: after that, a refused connection is a restart, retried. */
  private answered = false;

  constructor(private readonly options: HttpSourceOptions) {
    this.key = describeSourceUrl(options.baseUrl);
    this.base = this.key;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async listConversations(query: SourceListQuery, signal?: AbortSignal): Promise<SourcePage> {
    const params = new URLSearchParams({ page_size: String(query.pageSize) });
    if (query.cursor) params.set("cursor", query.cursor);
    if (query.agentId) params.set("agent_id", query.agentId);
    if (query.startAfterUnixSecs !== undefined)
      params.set("call_start_after_unix", String(query.startAfterUnixSecs));
    const body = (await this.request(`/v1/convai/conversations?${params}`, signal, async (r) =>
      r.json(),
    )) as {
      conversations?: unknown;
      next_cursor?: unknown;
      has_more?: unknown;
    };
    if (!Array.isArray(body.conversations)) {
      throw new SourceError("The conversation list has no `conversations` array.", undefined);
    }
    const items = body.conversations.map((c: Record<string, unknown>) => {
      if (typeof c.conversation_id !== "string" || typeof c.start_time_unix_secs !== "number") {
        throw new SourceError(
          "A listed conversation has no conversation_id or start_time_unix_secs.",
          undefined,
        );
      }
      return {
        conversationId: c.conversation_id,
        startTimeUnixSecs: c.start_time_unix_secs,
        status: typeof c.status === "string" ? c.status : "",
      };
    });
    const nextCursor =
      typeof body.next_cursor === "string" && body.next_cursor !== "" ? body.next_cursor : null;
    return { items, nextCursor, hasMore: body.has_more === true && nextCursor !== null };
  }

  async getConversation(conversationId: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const doc = await this.request(
      `/v1/convai/conversations/${encodeURIComponent(conversationId)}`,
      signal,
      async (r) => r.json(),
    );
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
      throw new SourceError(`Conversation ${conversationId} is not a JSON object.`, undefined);
    }
    return doc as Record<string, unknown>;
  }

  async getAudio(conversationId: string, signal?: AbortSignal): Promise<SourceAudio | undefined> {
    return this.request(
      `/v1/convai/conversations/${encodeURIComponent(conversationId)}/audio`,
      signal,
      async (r) => ({
        bytes: Buffer.from(await r.arrayBuffer()),
        contentType: (r.headers.get("content-type") ?? "audio/mpeg").split(";")[0]?.trim() || "audio/mpeg",
      }),
      true,
    );
  }

  /**
   * GETs a path and reads the answer with `read`, retrying what can be retried. With
   * `notFoundIsEmpty`, a 404 resolves to undefined.
   */
  private async request<T>(
    path: string,
    signal: AbortSignal | undefined,
    read: (response: Response) => Promise<T>,
    notFoundIsEmpty = false,
  ): Promise<T> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    const base = this.options.backoffBaseMs ?? 500;
    const pathOnly = path.split("?")[0] ?? path;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      const backoff = Math.min(30_000, base * 2 ** (attempt - 1));
      let delayMs = backoff / 2 + Math.random() * (backoff / 2);
      const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
      const requestSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        const response = await this.fetchImpl(`${this.base}${path}`, {
          headers: { "xi-api-key": this.options.apiKey, accept: "application/json" },
          signal: requestSignal,
        });
        this.answered = true;
        if (response.ok) return await read(response);
        const text = await response.text().catch(() => "");
        if (response.status === 404 && notFoundIsEmpty) return undefined as T;
        if (response.status === 429) {
          reason = "429 Too Many Requests";
          const after = parseRetryAfter(response.headers.get("retry-after"));
          // Retry-After: 0 still waits the backoff's floor, so a busy source is never hammered.
          if (after !== undefined)
            delayMs = Math.max(backoff / 2, Math.min(after, this.options.maxRetryAfterMs ?? 300_000));
        } else if (response.status >= 500 || response.status === 408) {
          reason = `${response.status} from the source`;
        } else {
          throw new SourceError(
            `GET ${pathOnly} answered ${response.status}: ${text.slice(0, 500)}${response.status === 401 ? " (check --api-key)" : ""}`,
            response.status,
          );
        }
      } catch (error) {
        if (error instanceof SourceError) throw error;
        if (signal?.aborted) throw signal.reason;
        const code = connectionErrorCode(error);
        const unreachable = code === undefined ? undefined : UNREACHABLE[code];
        if (unreachable !== undefined && !this.answered && !timeout.aborted) {
          throw new SourceError(
            `cannot reach ${this.key} (${unreachable}): check --from, and that the source is running and reachable from this machine.`,
            undefined,
          );
        }
        // A timeout, a dropped connection, a body cut short, or a source that answered before and is
        // now refusing (restarting): all worth another try.
        reason = timeout.aborted ? "timed out" : `connection failed (${code ?? (error as Error).message})`;
      }
      if (attempt >= maxAttempts) {
        throw new SourceError(`GET ${pathOnly} failed after ${attempt} attempts: ${reason}`, undefined);
      }
      this.options.onRetry?.({ path: pathOnly, attempt, delayMs, reason });
      await sleep(delayMs, signal);
    }
  }
}
