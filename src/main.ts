import path from "node:path";
import pino, { type DestinationStream, type Logger } from "pino";
import { prettyFactory } from "pino-pretty";
import { AgentService } from "./agents/agent-service.js";
import { buildApp } from "./api/app.js";
import { LiveSessions } from "./api/runtime/live-sessions.js";
import { ApiKeyService } from "./auth/api-keys.js";
import type { BlobStore } from "./blobs/blob-store.js";
import { fsBlobDir, openBlobStore } from "./blobs/open-blob-store.js";
import type { Config } from "./config/config.js";
import { ConfigError } from "./config/config-error.js";
import { ensureWritableDir } from "./config/ensure-writable-dir.js";
import { metricsEnabled } from "./config/metrics-config.js";
import { ConversationService } from "./conversations/conversation-service.js";
import { createModelProviders, type ModelProviders } from "./providers/model-providers.js";
import { createRetentionJob } from "./retention/retention-job.js";
import { LiveSessionRegister } from "./runtime/live-session-register.js";
import { LlmBrain } from "./runtime/llm-brain.js";
import type { SessionLifecycle } from "./runtime/session-deps.js";
import { SessionHeartbeats } from "./runtime/session-heartbeats.js";
import { recoverLiveSessions } from "./runtime/session-recovery.js";
import { EmbeddingIndexer } from "./search/embedding-indexer.js";
import { SemanticIndex } from "./search/semantic-index.js";
import type { DatabaseObserver } from "./store/database-observer.js";
import { DatabaseOpenError, openDatabase } from "./store/open-database.js";
import type { Workload } from "./store/sqlite/sqlite-database.js";
import type { Database } from "./store/store.js";
import { ServerMetrics } from "./telemetry/metrics.js";
import { type MetricsListener, startMetricsListener } from "./telemetry/metrics-listener.js";
import { setUpTracePush } from "./telemetry/trace-push.js";
import { DeliveryLog } from "./webhooks-out/delivery-log.js";
import { WebhookDispatcher } from "./webhooks-out/webhook-dispatcher.js";
import { WebhookPlanner } from "./webhooks-out/webhook-planner.js";
import { WebhookSettingsService } from "./webhooks-out/webhook-settings-service.js";

/** The parts every command and the server are built from. */
export interface Services {
  config: Config;
  db: Database;
  blobs: BlobStore;
  keys: ApiKeyService;
  /** The one write path of conversations and their audio. */
  conversations: ConversationService;
  /** The Agents API: agents' configuration documents. */
  agents: AgentService;
  /** The configured model providers (embeddings, LLM). */
  ai: ModelProviders;
  /** The semantic search's ANN index (`OPENCONVAI_SEMANTIC_INDEX=ann`); started by the server only. */
  semanticIndex: SemanticIndex | undefined;
  /** Embeds conversations in the background; set with an embeddings provider, started by the server only. */
  indexer: EmbeddingIndexer | undefined;
  /** Outgoing webhooks: what a write queues, their configuration, the delivery log. */
  webhooksOut: WebhooksOut;
  close(): Promise<void>;
}

/** The parts of outgoing webhooks every command shares (the sender runs in the server only). */
export interface WebhooksOut {
  planner: WebhookPlanner;
  settings: WebhookSettingsService;
  deliveries: DeliveryLog;
  /**
   * The server's part: `wake` is called when a write queued deliveries (its sender), and the
   * planner's warnings go to `logger` (a command has neither).
   */
  attachServer(server: { wake: () => void; logger: Pick<Logger, "warn"> }): void;
}

/** Builds the outgoing-webhook parts on the database. */
function openWebhooksOut(config: Config, db: Database): WebhooksOut {
  let wake = () => {};
  let log: Pick<Logger, "warn"> | undefined;
  const notify = () => wake();
  const planner = new WebhookPlanner({
    store: db.outgoingWebhooks,
    agents: db.agents,
    config: config.webhooksOut,
    notify,
    logger: { warn: (context, message) => log?.warn(context, message) },
  });
  return {
    planner,
    settings: new WebhookSettingsService({
      store: db.outgoingWebhooks,
      agents: db.agents,
      config: config.webhooksOut,
      // A change made here is planned with at once (other nodes see it within the planner's cache time).
      onChange: () => planner.forget(),
    }),
    deliveries: new DeliveryLog({
      store: db.outgoingWebhooks,
      retryScheduleMs: config.webhooksOut.retryScheduleMs,
      notify,
    }),
    attachServer: (server) => {
      wake = server.wake;
      log = server.logger;
    },
  };
}

/**
 * Checks, before anything is opened, that the data dir (and its blobs/ and tmp/) and the
 * directory of a sqlite: URL's file can be written, and opens the database; a failure of either
 * is a ConfigError: one line naming the setting and the fix.
 */
async function openStorage(
  config: Config,
  workload: Workload,
  server = false,
  observer?: DatabaseObserver,
): Promise<Database> {
  const dataSetting = { setting: "--data / OPENCONVAI_DATA", instead: "pass --data a writable directory" };
  ensureWritableDir(config.dataDir, dataSetting);
  if (config.blobs.kind === "fs") ensureWritableDir(fsBlobDir(config.dataDir), dataSetting);
  ensureWritableDir(path.join(config.dataDir, "tmp"), dataSetting);
  if (config.sqliteFile) {
    ensureWritableDir(path.dirname(config.sqliteFile), {
      setting: "--database-url / DATABASE_URL",
      instead: "point --database-url at a file in a writable directory",
    });
  }
  try {
    return await openDatabase({
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      sqliteFile: config.sqliteFile,
      workload,
      serverLock: server,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
      ...(observer ? { observer } : {}),
    });
  } catch (error) {
    if (error instanceof DatabaseOpenError) throw new ConfigError(error.message);
    throw error;
  }
}

/** What the server's metrics observe of the storage (src/telemetry/metrics.ts implements it). */
export interface StorageTelemetry {
  database: DatabaseObserver;
  observeBlobs(blobs: BlobStore): BlobStore;
}

/**
 * Opens the database (running migrations) and the blob store, and builds the parts on them. The
 * server passes `server: true`: on SQLite it holds the one-server lock (commands never take it).
 */
export async function openServices(
  config: Config,
  workload: Workload = "serve",
  options: { server?: boolean; telemetry?: StorageTelemetry } = {},
): Promise<Services> {
  const db = await openStorage(config, workload, options.server, options.telemetry?.database);
  const openedBlobs = await openBlobStore(config.blobs, config.dataDir);
  const blobs = options.telemetry ? options.telemetry.observeBlobs(openedBlobs) : openedBlobs;
  const ai = createModelProviders(config.ai);
  const indexer =
    ai.embeddings && config.ai.embeddings?.indexer
      ? new EmbeddingIndexer(db, ai.embeddings, config.ai.embeddings.indexIntervalMs)
      : undefined;
  // Only the server keeps an ANN index (started with it); commands search nothing.
  const semanticIndex =
    workload === "serve" && options.server && ai.embeddings && config.ai.embeddings?.semanticIndex === "ann"
      ? new SemanticIndex({
          store: db.messageSearch,
          model: ai.embeddings.model,
          dir: path.join(config.dataDir, "semantic-index"),
        })
      : undefined;
  const webhooksOut = openWebhooksOut(config, db);
  return {
    config,
    db,
    blobs,
    keys: new ApiKeyService(db.keys),
    conversations: new ConversationService(db.conversations, blobs, webhooksOut.planner),
    agents: new AgentService(db.agents),
    ai,
    indexer,
    semanticIndex,
    webhooksOut,
    close: async () => {
      // A batch in flight finishes before the database it writes to closes.
      await indexer?.stop();
      await semanticIndex?.stop();
      await db.close();
      await blobs.close?.();
    },
  };
}

/** How long a log line may wait in the buffer of stdout's asynchronous writes. */
const LOG_FLUSH_INTERVAL_MS = 1000;

/** Where the logger writes: stdout, or a stream a test hands in. */
export type LogOutput = NodeJS.WritableStream & { isTTY?: boolean };

/** Whether log lines are pretty: as configured, or with `auto` when the output is a terminal. */
function choosePrettyLogs(config: Pick<Config, "logFormat">, output: LogOutput): boolean {
  return config.logFormat === "pretty" || (config.logFormat === "auto" && output.isTTY === true);
}

/**
 * Creates the process logger: readable lines on a terminal, JSON lines otherwise
 * (OPENCONVAI_LOG_FORMAT forces either).
 */
export function createLogger(config: Config, output: LogOutput = process.stdout): Logger {
  const options = {
    level: config.logLevel,
    redact: [
      'req.headers["xi-api-key"]',
      'headers["xi-api-key"]',
      "req.headers.authorization",
      "headers.authorization",
    ],
  };
  if (choosePrettyLogs(config, output)) {
    // Formatted in-process and written at once: a person is reading, and nothing is left in a
    // buffer or a worker thread at exit.
    const format = prettyFactory({
      colorize: output.isTTY === true,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
    });
    const destination: DestinationStream = { write: (line: string) => void output.write(format(line)) };
    return pino(options, destination);
  }
  // Buffered, asynchronous writes: a log line per request must not cost a system call each.
  // pino flushes the buffer when the process exits, and a timer flushes it every second, so a
  // quiet server's last lines never wait in the buffer for the next 4 KiB.
  if (output !== process.stdout) return pino(options, output);
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => {
    try {
      destination.flush();
    } catch {
      // Closed at exit: nothing is left to flush.
      clearInterval(timer);
    }
  }, LOG_FLUSH_INTERVAL_MS);
  timer.unref();
  return pino(options, destination);
}

/**
 * Says at start-up which parts of live conversations run in development mode: the development
 * agent without a model, the development voice without speech providers (placeholder transcripts,
 * a synthetic voice), so nobody mistakes them for a configured deployment.
 */
function logDevelopmentModes(ai: ModelProviders, logger: Logger): void {
  if (!ai.chat)
    logger.info("live conversations: no model configured (OPENCONVAI_LLM_*), the development agent answers");
  const missing = [
    ai.speechToText
      ? undefined
      : "speech recognition (OPENCONVAI_ASR_*): user turns get placeholder transcripts",
    ai.textToSpeech
      ? undefined
      : "text-to-speech (OPENCONVAI_TTS_*): the agent speaks with a synthetic signal",
  ].filter((part) => part !== undefined);
  if (missing.length > 0)
    logger.info(`live conversations: development voice is on; not configured: ${missing.join("; ")}`);
}

/**
 * A piece of background work the server runs besides requests (retention, trace pushes, …): started
 * once the server listens, stopped (its round in flight finished) before the database closes. Work
 * that must run once across the nodes takes a job lock each round (`Database.jobLocks`).
 */
export interface BackgroundJob {
  start(): void;
  stop(): Promise<void>;
}

/** A listening server and how to stop it. */
export interface RunningServer {
  /** The HTTP app, as src/api/ builds it (so only src/api/ names the web framework). */
  app: Awaited<ReturnType<typeof buildApp>>;
  url: string;
  services: Services;
  /** Where OPENCONVAI_METRICS_PORT's listener serves `/metrics`, when it is set. */
  metricsUrl?: string;
  /**
   * The first step of a graceful stop (SIGTERM): new sessions and requests are refused (503,
   * `/readyz` too) while live sessions go on, until they have all ended, `graceMs` (default
   * OPENCONVAI_SHUTDOWN_GRACE_SECS) passed or `cut` resolved. Resolves with how many are still
   * live; `stop` ends those.
   */
  drain(options?: { graceMs?: number; cut?: Promise<unknown> }): Promise<number>;
  /**
   * Stops accepting connections, ends the live sessions (1001, recorded) and lets in-flight
   * requests and their writes finish, sends the webhooks that are due (bounded), then closes the
   * database.
   */
  stop(): Promise<void>;
}

/** The key made on a first start, shown once to the person who started the server. */
export interface FirstStartKey {
  secret: string;
}

/** The node's register of live sessions, counted in the metrics when they are on. */
function countLiveSessions(metrics: ServerMetrics | undefined, register: SessionLifecycle): SessionLifecycle {
  return metrics ? metrics.countSessions(register) : register;
}

/** Starts the API server for a configuration. */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config),
): Promise<RunningServer & { firstStartKey: FirstStartKey | undefined }> {
  // Metrics are collected only when they are served (a token, a port, or both).
  const metrics = metricsEnabled(config.metrics) ? new ServerMetrics() : undefined;
  const services = await openServices(config, "serve", {
    server: true,
    ...(metrics ? { telemetry: metrics } : {}),
  });
  let dispatcher: WebhookDispatcher | undefined;
  let metricsListener: MetricsListener | undefined;
  // Each one is added here, started after listen, and stopped in reverse order at shutdown.
  const backgroundJobs: BackgroundJob[] = [];
  try {
    if (config.bootstrapKey && (await services.keys.ensure(config.bootstrapKey, "bootstrap")) === "revoked") {
      throw new ConfigError(
        "OPENCONVAI_BOOTSTRAP_KEY is a key that was revoked, and a revoked key is never made active again: " +
          "set OPENCONVAI_BOOTSTRAP_KEY to a new secret (or unset it and use `openconvai keys create`), then start again.",
      );
    }
    let firstStartKey: FirstStartKey | undefined;
    if (!(await services.keys.hasActiveKey())) {
      const created = await services.keys.create("first-start");
      firstStartKey = { secret: created.secret };
    }
    // Before recovery, whose finishing writes are queued for the collector too.
    const tracePush = await setUpTracePush(config.otlp, services.db, logger);
    if (tracePush) backgroundJobs.push(tracePush);
    // Before the node serves anything: the sessions it left registered when it last stopped (a
    // crash, SIGKILL) are none of them live now. Other nodes' sessions are theirs to recover.
    const { nodeId } = config.live;
    await recoverLiveSessions({
      nodeId,
      liveSessions: services.db.liveSessions,
      conversations: services.conversations,
      logger,
    });
    // This node's sessions' heartbeat, and other nodes' sessions recovered once their heartbeat stops.
    backgroundJobs.push(
      new SessionHeartbeats({
        nodeId,
        liveSessions: services.db.liveSessions,
        conversations: services.conversations,
        jobLocks: services.db.jobLocks,
        logger,
        ...config.live.heartbeat,
      }),
    );
    // Expired conversations (OPENCONVAI_RETENTION_DAYS, agents' privacy settings) deleted in rounds.
    backgroundJobs.push(createRetentionJob(config.retention, services, logger));
    const liveSessions = new LiveSessions();
    const app = await buildApp({
      ...services,
      limits: config.limits,
      logger,
      webhookSettings: config.webhooks,
      // On the data dir's disk, which is sized for audio, rather than a possibly small /tmp.
      tempDir: path.join(config.dataDir, "tmp"),
      requestTimeoutMs: config.requestTimeoutSecs * 1000,
      publicUrl: config.publicUrl,
      consoleDir: config.consoleDir,
      // With a model configured, agents answer with it; without, the development agent does.
      brain: services.ai.chat
        ? new LlmBrain(services.ai.chat, { modelMap: config.ai.llm?.modelMap })
        : undefined,
      live: {
        maxSessions: config.live.maxSessions,
        messagesPerMinute: config.live.messagesPerMinute,
        lifecycle: countLiveSessions(metrics, new LiveSessionRegister(nodeId, services.db.liveSessions)),
        ...(metrics ? { turnStages: metrics.turnStages } : {}),
        sessions: liveSessions,
      },
      webhooksOut: {
        settings: services.webhooksOut.settings,
        deliveries: services.webhooksOut.deliveries,
        initiationFailures: services.webhooksOut.planner,
      },
      ...(metrics
        ? { metrics: { requests: metrics, exposition: metrics, token: config.metrics.token } }
        : {}),
    });
    // The sender: it first takes back what this node held when it last stopped (a crash mid-attempt).
    dispatcher = new WebhookDispatcher({
      store: services.db.outgoingWebhooks,
      conversations: services.db.conversations,
      blobs: services.blobs,
      config: config.webhooksOut,
      nodeId,
      logger,
      ...(metrics ? { attempts: metrics.webhookAttemptObserver } : {}),
    });
    metrics?.watchOutbox(services.db.outgoingWebhooks);
    await dispatcher.start();
    const sender = dispatcher;
    services.webhooksOut.attachServer({ wake: () => sender.notify(), logger });
    if (metrics && config.metrics.port !== undefined)
      metricsListener = await startMetricsListener(metrics, config.metrics.host, config.metrics.port);
    const address = await app.listen({ host: config.host, port: config.port });
    const port = (app.server.address() as { port: number }).port;
    services.indexer?.start(logger);
    services.semanticIndex?.start(logger);
    for (const job of backgroundJobs) job.start();
    logDevelopmentModes(services.ai, logger);
    if (metricsListener) logger.info(`metrics: served without a key at ${metricsListener.url}/metrics`);
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    return {
      app,
      url: address.startsWith("http") ? `http://${host}:${port}` : address,
      services,
      firstStartKey,
      ...(metricsListener ? { metricsUrl: metricsListener.url } : {}),
      drain: async ({ graceMs = config.live.shutdownGraceSecs * 1000, cut } = {}) => {
        liveSessions.startDraining();
        return liveSessions.waitForSessions(graceMs, cut);
      },
      stop: async () => {
        // Sessions end on the record first (their last writes queue webhooks), then the sender
        // sends what is due (bounded) and finishes the attempts in flight; what is still queued
        // goes out at the next start or from another node.
        await app.close();
        for (const job of [...backgroundJobs].reverse()) await job.stop();
        await sender.flush();
        await sender.stop();
        await metricsListener?.close();
        await services.close();
      },
    };
  } catch (error) {
    await metricsListener?.close();
    await dispatcher?.stop();
    await services.close();
    throw error;
  }
}
