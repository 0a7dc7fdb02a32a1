import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { BlobStore } from "../blobs/blob-store.js";
import type { SessionLifecycle } from "../runtime/session-deps.js";
import type { TurnStage, TurnStageObserver } from "../runtime/turn-stage-observer.js";
import type { DatabaseObserver, PoolCounts } from "../store/database-observer.js";
import type { AttemptOutcome, OutgoingWebhookStore } from "../store/outgoing-webhook-store.js";
import type { AttemptObserver } from "../webhooks-out/webhook-dispatcher.js";
import { MetricsBlobStore } from "./metrics-blob-store.js";
import { CountedSessionLifecycle } from "./metrics-session-lifecycle.js";

/** Seconds: from a fast query or request (1 ms) to a slow upload or model call (30 s). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Seconds: a voice reply's stages, from a few ms (turn detection) to a slow model (10 s). */
const STAGE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

/** The `route` label of a request that matched no route (a 404 from the router). */
export const UNMATCHED_ROUTE = "unmatched";

/** One route's recorder of answered requests (see `HttpMetrics.forRoute`). */
export interface RouteRecorder {
  record(method: string, status: number, seconds: number): void;
}

/** A counter child (one label set): incremented without looking its labels up again. */
interface CounterChild {
  inc(): void;
}

/** A histogram child (one label set). */
interface HistogramChild {
  observe(value: number): void;
}

/** What one route records per method: its latency child and its counter children by status. */
interface MethodSeries {
  duration: HistogramChild;
  byStatus: Map<number, CounterChild>;
}

/**
 * The metrics of one node, in a registry of its own (not prom-client's global one, so several
 * servers in one process never clash). Each family is documented in docs/operations.md
 * ("Metrics"); the parts of the server report through the small interfaces they define, which
 * this class implements, so only src/telemetry/ imports prom-client.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<"method" | "route" | "status">;
  private readonly httpDuration: Histogram<"method" | "route">;
  private readonly liveSessions: Gauge;
  private readonly sessionsStarted: Counter;
  private readonly turnStageDuration: Histogram<"stage">;
  private readonly webhookAttempts: Counter<"result">;
  private readonly webhookDuration: Histogram;
  private readonly queryDuration: Histogram<"result">;
  private readonly blobOperations: Counter<"operation" | "result">;
  private readonly blobDuration: Histogram<"operation">;
  private outbox: Pick<OutgoingWebhookStore, "countQueuedDeliveries"> | undefined;

  constructor() {
    const registers = [this.registry];
    // process_* and nodejs_* under their usual names, which Node.js dashboards expect.
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: "openconvai_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status code.",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "openconvai_http_request_duration_seconds",
      help: "Time from a request's arrival to its answer sent, by method and route pattern.",
      labelNames: ["method", "route"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.liveSessions = new Gauge({
      name: "openconvai_live_sessions",
      help: "Live sessions of this node: from their first record until their last state is written.",
      registers,
    });
    this.sessionsStarted = new Counter({
      name: "openconvai_live_sessions_started_total",
      help: "Live sessions this node started (recorded for the first time).",
      registers,
    });
    this.turnStageDuration = new Histogram({
      name: "openconvai_turn_stage_duration_seconds",
      help: "Voice replies' latency by stage: turn_detection, asr, llm (first sentence), tts (first audio).",
      labelNames: ["stage"],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.webhookAttempts = new Counter({
      name: "openconvai_webhook_attempts_total",
      help: "Outgoing webhook attempts, by what they left the delivery as: delivered, retry (pending), failed.",
      labelNames: ["result"],
      registers,
    });
    this.webhookDuration = new Histogram({
      name: "openconvai_webhook_attempt_duration_seconds",
      help: "Outgoing webhook requests' time, answer included (attempts that sent a request).",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const metrics = this;
    new Gauge({
      name: "openconvai_webhook_outbox_depth",
      help: "Outgoing webhook deliveries pending (due, waiting for a retry, or held), read from the database at each scrape.",
      registers,
      async collect() {
        if (!metrics.outbox) return;
        try {
          this.set(await metrics.outbox.countQueuedDeliveries());
        } catch {
          // The database could not answer: the sample says so rather than repeating a stale count.
          this.set(Number.NaN);
        }
      },
    });
    this.queryDuration = new Histogram({
      name: "openconvai_db_query_duration_seconds",
      help: "PostgreSQL queries' time from the call to the answer, by result (ok, error).",
      labelNames: ["result"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.blobOperations = new Counter({
      name: "openconvai_blob_operations_total",
      help: "Blob store operations, by operation (put, get, size, delete) and result (ok, missing, error).",
      labelNames: ["operation", "result"],
      registers,
    });
    this.blobDuration = new Histogram({
      name: "openconvai_blob_operation_duration_seconds",
      help: "Blob store operations' time (a get until its stream is open, not until it is read).",
      labelNames: ["operation"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** The text format's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every family in the Prometheus text format (what `/metrics` serves). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** A recorder for one route pattern; its label children are looked up once per method and status. */
  forRoute(route: string): RouteRecorder {
    const byMethod = new Map<string, MethodSeries>();
    const { httpRequests, httpDuration } = this;
    return {
      record(method, status, seconds) {
        let series = byMethod.get(method);
        if (!series) {
          series = { duration: httpDuration.labels(method, route), byStatus: new Map() };
          byMethod.set(method, series);
        }
        series.duration.observe(seconds);
        let counter = series.byStatus.get(status);
        if (!counter) {
          counter = httpRequests.labels(method, route, String(status));
          series.byStatus.set(status, counter);
        }
        counter.inc();
      },
    };
  }

  /** Counts `lifecycle`'s sessions in `openconvai_live_sessions`. */
  countSessions(lifecycle: SessionLifecycle): SessionLifecycle {
    return new CountedSessionLifecycle(lifecycle, {
      started: () => {
        this.liveSessions.inc();
        this.sessionsStarted.inc();
      },
      ended: () => this.liveSessions.dec(),
    });
  }

  /** Times `blobs`' operations. */
  observeBlobs(blobs: BlobStore): BlobStore {
    const operations = this.blobOperations;
    const duration = this.blobDuration;
    return new MetricsBlobStore(blobs, (operation, result, seconds) => {
      operations.labels(operation, result).inc();
      duration.labels(operation).observe(seconds);
    });
  }

  /** Reads the outbox's depth from `store` at each scrape. */
  watchOutbox(store: Pick<OutgoingWebhookStore, "countQueuedDeliveries">): void {
    this.outbox = store;
  }

  /** What voice sessions report their reply latency to. */
  readonly turnStages: TurnStageObserver = {
    stageTimed: (stage: TurnStage, seconds: number) => this.turnStageDuration.labels(stage).observe(seconds),
  };

  /** What the webhook sender reports its attempts to. */
  readonly webhookAttemptObserver: AttemptObserver = {
    attempted: (outcome: AttemptOutcome["status"], seconds: number | undefined) => {
      this.webhookAttempts.labels(outcome === "pending" ? "retry" : outcome).inc();
      if (seconds !== undefined) this.webhookDuration.observe(seconds);
    },
  };

  /** What the database reports queries and its pool to (PostgreSQL only). */
  readonly database: DatabaseObserver = {
    queryDone: (seconds, failed) => this.queryDuration.labels(failed ? "error" : "ok").observe(seconds),
    poolOpened: (pool) => this.addPoolGauges(pool),
  };

  /** The pool's gauges, read at each scrape; registered only once a pool exists (none on SQLite). */
  private addPoolGauges(pool: PoolCounts): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge(
      "openconvai_db_pool_connections",
      "PostgreSQL connections open (idle or in use).",
      () => pool.total,
    );
    gauge("openconvai_db_pool_idle_connections", "PostgreSQL connections open and idle.", () => pool.idle);
    gauge(
      "openconvai_db_pool_waiting_queries",
      "Queries waiting for a PostgreSQL connection (every one is in use).",
      () => pool.waiting,
    );
    gauge("openconvai_db_pool_max_connections", "The most connections the pool opens.", () => pool.max);
  }
}
