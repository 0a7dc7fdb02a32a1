import { createHash } from "node:crypto";
import {
  type Attributes,
  type HrTime,
  type SpanContext,
  type SpanKind,
  SpanStatusCode,
  TraceFlags,
} from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";

/** The instrumentation scope named on every span. */
export const TRACE_SCOPE = { name: "openconvai.conversation", version: "1" } as const;

/** Derives a stable id of `hexChars` hex digits from text; never all zeros (an invalid id in OTLP). */
export function deriveId(text: string, hexChars: number): string {
  const hex = createHash("sha256").update(text).digest("hex").slice(0, hexChars);
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/**
 * The latest time OTLP can carry: it sends unix nanoseconds as an unsigned 64-bit integer
 * (2^64 - 1 ns, in the year 2554), so whole seconds up to this one.
 */
export const MAX_TRACE_SECONDS = 18_446_744_073;

/**
 * Seconds (fractions allowed) to OpenTelemetry's [seconds, nanoseconds], to the microsecond: a
 * unix time in a double carries about 0.2 µs, so finer digits would be rounding noise. A stored
 * document may hold any finite number (`time_in_call_secs: 1e305`), but OTLP holds only unsigned
 * 64-bit nanoseconds: a time before 1970 is clamped to 0 and one after MAX_TRACE_SECONDS to it
 * (NaN counts as 0), so the trace renders; the attributes keep the stored values as they are.
 */
export function toHrTime(seconds: number): HrTime {
  const clamped = Number.isNaN(seconds) ? 0 : Math.min(Math.max(seconds, 0), MAX_TRACE_SECONDS);
  const micros = Math.round(clamped * 1e6);
  const whole = Math.floor(micros / 1e6);
  return [whole, (micros - whole * 1e6) * 1000];
}

/** One span to add: times in (fractional) unix seconds; an end before the start is clamped to it. */
export interface SpanSpec {
  /** A stable name of the span inside the conversation: its span id is derived from it. */
  path: string;
  parent?: SpanContext;
  name: string;
  kind: SpanKind;
  start: number;
  end: number;
  attributes: Attributes;
  events?: TimedEvent[];
  /** Set when the span failed: its status message. */
  error?: string;
  /** Whether the span is known to have succeeded (status OK rather than UNSET). */
  ok?: boolean;
}

/** Collects span objects for one trace, in the order they are added. */
export class TraceBuilder {
  readonly spans: ReadableSpan[] = [];
  private readonly resource;

  constructor(
    private readonly traceId: string,
    private readonly conversationId: string,
    resourceAttributes: Attributes,
  ) {
    this.resource = resourceFromAttributes(resourceAttributes);
  }

  /** The span context of the span at `path` (a stable name inside the conversation). */
  context(path: string): SpanContext {
    return {
      traceId: this.traceId,
      spanId: deriveId(`${this.conversationId}\u0000${path}`, 16),
      traceFlags: TraceFlags.SAMPLED,
    };
  }

  /** Adds a finished span and returns its context, for its children. */
  add(span: SpanSpec): SpanContext {
    const context = this.context(span.path);
    const end = Math.max(span.start, span.end);
    const startTime = toHrTime(span.start);
    const endTime = toHrTime(end);
    const readable: ReadableSpan = {
      name: span.name,
      kind: span.kind,
      spanContext: () => context,
      ...(span.parent ? { parentSpanContext: span.parent } : {}),
      startTime,
      endTime,
      duration: toHrTime(end - span.start),
      status:
        span.error !== undefined
          ? { code: SpanStatusCode.ERROR, message: span.error }
          : { code: span.ok ? SpanStatusCode.OK : SpanStatusCode.UNSET },
      attributes: span.attributes,
      links: [],
      events: span.events ?? [],
      ended: true,
      resource: this.resource,
      instrumentationScope: TRACE_SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
    this.spans.push(readable);
    return context;
  }
}
