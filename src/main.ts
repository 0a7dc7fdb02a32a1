import path from "node:path";
import pino, { type Logger } from "pino";
import { buildApp } from "./api/app.js";
import { ApiKeyService } from "./auth/api-keys.js";
import type { BlobStore } from "./blobs/blob-store.js";
import { FsBlobStore } from "./blobs/fs/fs-blob-store.js";
import type { Config } from "./config/config.js";
import { ConfigError } from "./config/config-error.js";
import { ConversationService } from "./conversations/conversation-service.js";
import { createModelProviders, type ModelProviders } from "./providers/model-providers.js";
import { EmbeddingIndexer } from "./search/embedding-indexer.js";
import { openDatabase } from "./store/open-database.js";
import type { Workload } from "./store/sqlite/sqlite-database.js";
import type { Database } from "./store/store.js";

/** The parts every command and the server are built from. */
export interface Services {
  config: Config;
  db: Database;
  blobs: BlobStore;
  keys: ApiKeyService;
  /** The one write path of conversations and their audio. */
  conversations: ConversationService;
  /** The configured model providers (embeddings, LLM). */
  ai: ModelProviders;
  /** Embeds conversations in the background; set with an embeddings provider, started by the server only. */
  indexer: EmbeddingIndexer | undefined;
  close(): Promise<void>;
}

/** Opens the database (running migrations) and the blob store, and builds the parts on them. */
export async function openServices(config: Config, workload: Workload = "serve"): Promise<Services> {
  const db = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, workload });
  const blobs = new FsBlobStore(path.join(config.dataDir, "blobs"));
  const ai = createModelProviders(config.ai);
  const indexer =
    ai.embeddings && config.ai.embeddings
      ? new EmbeddingIndexer(db, ai.embeddings, config.ai.embeddings.indexIntervalMs)
      : undefined;
  return {
    config,
    db,
    blobs,
    keys: new ApiKeyService(db.keys),
    conversations: new ConversationService(db.conversations, blobs),
    ai,
    indexer,
    close: async () => {
      // A batch in flight finishes before the database it writes to closes.
      await indexer?.stop();
      await db.close();
    },
  };
}

/** Creates the process logger (pino, JSON lines on stdout). */
export function createLogger(config: Config): Logger {
  // Buffered, asynchronous writes: a log line per request must not cost a system call each.
  // pino flushes the buffer when the process exits.
  return pino(
    { level: config.logLevel, redact: ['req.headers["xi-api-key"]', 'headers["xi-api-key"]'] },
    pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  );
}

/** A listening server and how to stop it. */
export interface RunningServer {
  /** The HTTP app, as src/api/ builds it (so only src/api/ names the web framework). */
  app: Awaited<ReturnType<typeof buildApp>>;
  url: string;
  services: Services;
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  stop(): Promise<void>;
}

/** The key made on a first start, shown once to the person who started the server. */
export interface FirstStartKey {
  secret: string;
}

/** Starts the API server for a configuration. */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config),
): Promise<RunningServer & { firstStartKey: FirstStartKey | undefined }> {
  const services = await openServices(config);
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
    const app = await buildApp({
      ...services,
      limits: config.limits,
      logger,
      webhookSettings: config.webhooks,
      // On the data dir's disk, which is sized for audio, rather than a possibly small /tmp.
      tempDir: path.join(config.dataDir, "tmp"),
      requestTimeoutMs: config.requestTimeoutSecs * 1000,
    });
    const address = await app.listen({ host: config.host, port: config.port });
    const port = (app.server.address() as { port: number }).port;
    services.indexer?.start(logger);
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    return {
      app,
      url: address.startsWith("http") ? `http://${host}:${port}` : address,
      services,
      firstStartKey,
      stop: async () => {
        await app.close();
        await services.close();
      },
    };
  } catch (error) {
    await services.close();
    throw error;
  }
}
