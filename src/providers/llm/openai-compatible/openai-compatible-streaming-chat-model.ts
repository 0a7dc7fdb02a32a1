import { createParser, type ParseError } from "eventsource-parser";
import type { LlmConfig } from "../../../config/ai-config.js";
import { type StreamedAnswer, streamPost } from "../../http/stream-post.js";
import { ProviderError } from "../../provider-error.js";
import { isTransientStatus, readErrorMessage } from "../../read-error-answer.js";
import type {
  StreamingChatChunk,
  StreamingChatModel,
  StreamingChatRequest,
} from "../streaming-chat-model.js";
import { ChatChunkReader } from "./chat-chunk-reader.js";
import { toWireMessages, toWireTools } from "./chat-stream-wire.js";
import { StreamDeadlines } from "./stream-deadlines.js";

/** Most bytes one streamed answer may take (a reply of a few thousand tokens is well under 1 MiB). */
export const MAX_STREAM_BYTES = 4 * 1024 * 1024;

/** A provider that does not know `stream_options` refuses the request naming it. */
const STREAM_OPTIONS_REFUSED = /stream_options|include_usage/i;

/** Limits of the streamed answers (the time limits come from the LlmConfig). */
export interface StreamLimits {
  /** Most bytes one streamed answer may take; more is a ProviderError. */
  maxStreamBytes: number;
}

/**
 * Streams chat completions from an OpenAI-compatible `/chat/completions` endpoint (`stream:
 * true`, server-sent events), with tool calls and usage (`stream_options.include_usage`, left out
 * again for a provider that refuses it). Limits: `firstTokenTimeoutMs` until the first chunk,
 * `timeoutMs` for the whole answer, `maxStreamBytes` streamed.
 */
export class OpenAiCompatibleStreamingChatModel implements StreamingChatModel {
  private askUsage = true;

  constructor(
    private readonly config: LlmConfig,
    private readonly limits: StreamLimits = { maxStreamBytes: MAX_STREAM_BYTES },
  ) {}

  /** The model asked when a request names none. */
  get model(): string {
    return this.config.model;
  }

  /** Streams one response; see StreamingChatModel. */
  async *streamChat(request: StreamingChatRequest, signal: AbortSignal): AsyncIterable<StreamingChatChunk> {
    const model = request.model ?? this.config.model;
    const deadlines = new StreamDeadlines(signal, this.config.firstTokenTimeoutMs, this.config.timeoutMs);
    let reading = false;
    try {
      let response = await this.post(request, model, deadlines);
      if (response.status === 400 && this.askUsage) {
        const message = await readErrorMessage(response, brokenOff(deadlines));
        if (!STREAM_OPTIONS_REFUSED.test(message)) throw httpError(response.status, message);
        this.askUsage = false;
        response = await this.post(request, model, deadlines);
      }
      if (response.status < 200 || response.status > 299)
        throw httpError(response.status, await readErrorMessage(response, brokenOff(deadlines)));
      const type = response.header("content-type") ?? "";
      if (!type.includes("text/event-stream")) {
        response.cancel();
        throw new ProviderError(
          `The LLM provider answered "${type || "no content type"}" instead of a stream (text/event-stream).`,
          false,
        );
      }
      // From here on the stream reader ends the deadlines (after the body's end, when it reads one).
      reading = true;
      yield* this.readStream(response, model, deadlines);
    } finally {
      if (!reading) deadlines.dispose();
    }
  }

  private async post(
    request: StreamingChatRequest,
    model: string,
    deadlines: StreamDeadlines,
  ): Promise<StreamedAnswer> {
    const body = {
      model,
      messages: toWireMessages(request.messages),
      ...(request.tools && request.tools.length > 0 ? { tools: toWireTools(request.tools) } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
      stream: true,
      ...(this.askUsage ? { stream_options: { include_usage: true } } : {}),
    };
    try {
      return await streamPost(`${this.config.baseUrl}/chat/completions`, {
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          ...(this.config.apiKey ? { authorization: `Bearer ${this.config.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal: deadlines.signal,
      });
    } catch (error) {
      throw deadlines.failure(error, "The LLM provider could not be reached");
    }
  }

  private async *readStream(
    response: StreamedAnswer,
    model: string,
    deadlines: StreamDeadlines,
  ): AsyncGenerator<StreamingChatChunk> {
    const chunks = new ChatChunkReader(model);
    const events: string[] = [];
    let parseError: ParseError | undefined;
    const parser = createParser({
      onEvent: (event) => events.push(event.data),
      onError: (error) => {
        parseError = error;
      },
      maxBufferSize: this.limits.maxStreamBytes,
    });
    const decoder = new TextDecoder();
    let bytes = 0;
    let done = false;
    // Every way out of here (an error, the consumer stopping, the end) passes the `finally` that cancels the body.
    const reader = response.body[Symbol.asyncIterator]();
    try {
      while (!done) {
        const read = await reader.next().catch((error: unknown) => {
          throw deadlines.failure(error, "The LLM's stream broke off");
        });
        if (read.done) {
          parser.feed(decoder.decode());
          parser.reset({ consume: true });
        } else {
          // Counted in bytes as they arrive (after any content decoding), not in decoded characters.
          bytes += read.value.byteLength;
          if (bytes > this.limits.maxStreamBytes) {
            throw new ProviderError(`The LLM's stream went over ${this.limits.maxStreamBytes} bytes.`, false);
          }
          parser.feed(decoder.decode(read.value, { stream: true }));
        }
        if (parseError?.type === "max-buffer-size-exceeded") {
          throw new ProviderError(
            `The LLM's stream sent an event over ${this.limits.maxStreamBytes} bytes.`,
            false,
          );
        }
        for (const data of events.splice(0)) {
          // Events read in one piece are not yielded once the caller aborted or a limit passed.
          if (deadlines.signal.aborted)
            throw deadlines.failure(deadlines.signal.reason, "The LLM's stream was closed");
          deadlines.firstChunkArrived();
          if (data.trim() === "[DONE]") {
            done = true;
            break;
          }
          yield* chunks.read(data);
        }
        if (read.done && !done) {
          if (!chunks.finished)
            throw new ProviderError("The LLM's stream ended before the answer did.", true);
          done = true;
        }
      }
      yield* chunks.finish();
    } finally {
      if (done) {
        // The answer is complete: what is left of the body (often just its end) is read in the
        // background, so the connection goes back to the pool instead of being closed.
        releaseWhenRead(reader, response, deadlines);
      } else {
        // An error, a limit, or the consumer stopped early: the connection is closed.
        deadlines.dispose();
        response.cancel();
      }
    }
  }
}

/** Most bytes read after the end of an answer to keep its connection; a server sending more loses it. */
const MAX_TRAILING_BYTES = 64 * 1024;
/** How long the end of a body may take after the answer's end before its connection is closed. */
const TRAILING_MS = 2_000;

/** Reads the rest of a finished answer's body, then ends its deadlines; closes it on excess or delay. */
function releaseWhenRead(
  reader: AsyncIterator<Uint8Array>,
  response: StreamedAnswer,
  deadlines: StreamDeadlines,
): void {
  const timer = setTimeout(() => response.cancel(), TRAILING_MS);
  void (async () => {
    let bytes = 0;
    let readToEnd = false;
    try {
      for (;;) {
        const read = await reader.next();
        if (read.done) {
          readToEnd = true;
          break;
        }
        bytes += read.value.byteLength;
        if (bytes > MAX_TRAILING_BYTES) {
          response.cancel();
          break;
        }
      }
    } catch {
      // Closed (cancelled, or broken off): nothing to release.
    } finally {
      clearTimeout(timer);
      deadlines.dispose(readToEnd);
    }
  })();
}

function httpError(status: number, message: string): ProviderError {
  return new ProviderError(
    `The LLM provider answered HTTP ${status}: ${message || "(no message)"}`,
    isTransientStatus(status),
  );
}

/** What a broken-off error answer is thrown as: a timeout, the caller's reason, or a network error. */
function brokenOff(deadlines: StreamDeadlines): (error: unknown) => unknown {
  return (error) => deadlines.failure(error, "The LLM provider's error answer could not be read");
}
