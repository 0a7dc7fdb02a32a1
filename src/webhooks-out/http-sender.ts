import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { performance } from "node:perf_hooks";
import type { RequestBody } from "./delivery-body.js";
import { isPrivateAddress } from "./egress-guard.js";
import { type AttemptResult, parseRetryAfter } from "./retry-policy.js";

/** How much of the answer's body is read (and kept in the log) before the connection is let go. */
export const RESPONSE_HEAD_BYTES = 1024;

/** One attempt to deliver: where, what, and how it is signed. */
export interface WebhookRequest {
  url: string;
  body: RequestBody;
  /** The `ElevenLabs-Signature` header, computed over exactly this body. */
  signature: string;
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The webhook's own headers; they never replace the ones the delivery sets. */
  requestHeaders: Record<string, string>;
  /** The whole attempt (connect, send, read the answer) gets this long. */
  timeoutMs: number;
  /** Private, loopback and link-local addresses may be called. */
  allowPrivate: boolean;
}

/** What an attempt came to. */
export interface SendResult extends AttemptResult {
  latencyMs: number;
  /** The first KiB of the answer's body (UTF-8, lossy); null when there was no answer. */
  responseHead: string | null;
}

/**
 * The headers a delivery sets itself, and those Node manages: a webhook's headers can't replace
 * them (the sender drops them; the settings service refuses them when a webhook is configured).
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  "content-type",
  "content-length",
  "transfer-encoding",
  "connection",
  "host",
  "elevenlabs-signature",
  "user-agent",
  "openconvai-delivery-id",
  "openconvai-delivery-attempt",
]);

/** The code of the error a refused address fails the connection with. */
const PRIVATE_ADDRESS_REFUSED = "ERR_WEBHOOK_PRIVATE_ADDRESS";

/** The error a refused address fails the connection with. */
function refusal(host: string, address: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(
    `refused to call ${host}: it is a private or loopback address (${address}); ` +
      "set OPENCONVAI_WEBHOOK_ALLOW_PRIVATE=true on the server to allow it",
  );
  error.code = PRIVATE_ADDRESS_REFUSED;
  return error;
}

/**
 * A DNS lookup that refuses private and loopback addresses (checked at each connection, so a name
 * that resolves somewhere else since the webhook was created is caught too). Of several addresses
 * the public ones are kept.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, options, (error, address: string | LookupAddress[], family?: number) => {
      if (error || allowPrivate) {
        callback(error, address, family);
      } else if (Array.isArray(address)) {
        const allowed = address.filter((a) => !isPrivateAddress(a.address));
        if (allowed.length === 0) callback(refusal(hostname, address[0]?.address ?? "none"), []);
        else callback(null, allowed);
      } else if (isPrivateAddress(address)) {
        callback(refusal(hostname, address), address, family);
      } else {
        callback(null, address, family);
      }
    });
  };
}

/** The request's headers: the webhook's own first, then the delivery's (which always win). */
function requestHeaders(request: WebhookRequest): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.requestHeaders)) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  headers["Content-Type"] = "application/json";
  headers["ElevenLabs-Signature"] = request.signature;
  headers["User-Agent"] = "openconvai";
  headers["OpenConvAI-Delivery-Id"] = request.deliveryId;
  headers["OpenConvAI-Delivery-Attempt"] = String(request.attempt);
  if (request.body.kind === "bytes") headers["Content-Length"] = String(request.body.bytes.length);
  else headers["Transfer-Encoding"] = "chunked";
  return headers;
}

/** A network error in a line (its code says what happened; the message names no secret). */
function describeNetworkError(error: NodeJS.ErrnoException): string {
  return error.code && !error.message.includes(error.code)
    ? `the connection failed: ${error.message} (${error.code})`
    : `the connection failed: ${error.message}`;
}

/** Resolves when the request can take more (or is gone). */
function drained(client: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      client.off("drain", done);
      client.off("close", done);
      resolve();
    };
    client.on("drain", done);
    client.on("close", done);
  });
}

/** Checks the URL before any connection: http(s), and no private address literal (literals skip the lookup). */
function checkTarget(raw: string, allowPrivate: boolean): URL | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "the webhook URL is not a valid URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `the webhook URL's scheme ${url.protocol} is not http(s)`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) return refusal(host, host).message;
  return url;
}

/**
 * Sends one delivery attempt: a POST with `node:http(s)`, redirects not followed, the whole
 * attempt bounded by `timeoutMs`, the answer read up to 1 KiB and the connection then closed.
 * Never rejects: every failure (refused address, network error, dropped connection, timeout) is
 * in the result.
 */
export function sendWebhook(request: WebhookRequest): Promise<SendResult> {
  const started = performance.now();
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let client: ClientRequest | undefined;
    let answer: { statusCode: number; retryAfterMs?: number; head: Buffer[]; size: number } | undefined;
    let bodyError: unknown;

    const finish = (result: Omit<SendResult, "latencyMs">): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // The answer has been read as far as it will be: the connection is let go (never reused).
      client?.destroy();
      resolve({ ...result, latencyMs: Math.round(performance.now() - started) });
    };
    const finishAnswered = (): void => {
      if (!answer) return;
      const head = Buffer.concat(answer.head).subarray(0, RESPONSE_HEAD_BYTES).toString("utf8");
      finish({
        statusCode: answer.statusCode,
        error: null,
        responseHead: head,
        ...(answer.retryAfterMs !== undefined ? { retryAfterMs: answer.retryAfterMs } : {}),
      });
    };

    const timer = setTimeout(() => {
      // An answer whose status arrived counts as that answer, however slowly its body comes.
      if (answer) finishAnswered();
      else finish({ statusCode: null, error: `timed out after ${request.timeoutMs} ms`, responseHead: null });
    }, request.timeoutMs);

    const target = checkTarget(request.url, request.allowPrivate);
    if (typeof target === "string") {
      finish({ statusCode: null, error: target, responseHead: null, final: true });
      return;
    }
    const transport = target.protocol === "https:" ? https : http;
    try {
      client = transport.request(target, {
        method: "POST",
        headers: requestHeaders(request),
        agent: false,
        lookup: guardedLookup(request.allowPrivate),
      });
    } catch (error) {
      // Node checks header names and values here: a webhook header it refuses can never be sent.
      finish({
        statusCode: null,
        error: `the request could not be made: ${(error as Error).message}`,
        responseHead: null,
        final: true,
      });
      return;
    }

    client.on("error", (error: NodeJS.ErrnoException) => {
      if (error === bodyError) {
        finish({
          statusCode: null,
          error: `the body could not be sent: ${error.message}`,
          responseHead: null,
        });
      } else if (error.code === PRIVATE_ADDRESS_REFUSED) {
        finish({ statusCode: null, error: error.message, responseHead: null, final: true });
      } else if (answer) {
        finishAnswered();
      } else {
        finish({ statusCode: null, error: describeNetworkError(error), responseHead: null });
      }
    });
    client.on("response", (response: IncomingMessage) => {
      const retryAfter = parseRetryAfter(response.headers["retry-after"], Date.now());
      answer = {
        statusCode: response.statusCode ?? 0,
        ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
        head: [],
        size: 0,
      };
      const read = answer;
      response.on("data", (chunk: Buffer) => {
        read.head.push(chunk);
        read.size += chunk.length;
        if (read.size >= RESPONSE_HEAD_BYTES) finishAnswered();
      });
      response.on("end", finishAnswered);
      response.on("close", finishAnswered);
      // Closing the connection mid-answer makes the answer fail: what was read already counts.
      response.on("error", finishAnswered);
    });

    if (request.body.kind === "bytes") {
      client.end(request.body.bytes);
    } else {
      const sending = client;
      pumpBody(sending, request.body.open(), () => settled).catch((error: unknown) => {
        bodyError = error instanceof Error ? error : new Error(String(error));
        sending.destroy(bodyError as Error);
      });
    }
  });
}

/** Writes a streamed body with backpressure; stops (closing the source) once the attempt is over. */
async function pumpBody(
  client: ClientRequest,
  chunks: AsyncIterable<Buffer>,
  over: () => boolean,
): Promise<void> {
  for await (const chunk of chunks) {
    if (over() || client.destroyed) return;
    if (!client.write(chunk)) await drained(client);
  }
  if (!over() && !client.destroyed) client.end();
}
