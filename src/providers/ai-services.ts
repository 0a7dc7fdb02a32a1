import type { Logger } from "pino";
import type { AiConfig } from "../config/ai-config.js";
import { EmbeddingIndexer } from "../search/embedding-indexer.js";
import type { Database } from "../store/store.js";
import { ChatClient } from "./chat-client.js";
import { EmbeddingsClient } from "./embeddings-client.js";

/** The configured model providers, and the background work that uses them. */
export interface AiServices {
  /** Set when an embeddings provider is configured: semantic search runs. */
  embeddings: EmbeddingsClient | undefined;
  /** Set when a chat model is configured: analysis runs. */
  llm: ChatClient | undefined;
  /** Embeds conversations in the background (with an embeddings provider only). */
  indexer: EmbeddingIndexer | undefined;
  /** Starts the background work. */
  start(logger: Logger): void;
  /** Stops the background work, waiting for a batch in flight. */
  stop(): Promise<void>;
}

/** Builds the providers a configuration names. */
export function createAiServices(config: AiConfig, db: Database): AiServices {
  const embeddings = config.embeddings ? new EmbeddingsClient(config.embeddings) : undefined;
  const indexer =
    embeddings && config.embeddings
      ? new EmbeddingIndexer(db, embeddings, config.embeddings.indexIntervalMs)
      : undefined;
  return {
    embeddings,
    llm: config.llm ? new ChatClient(config.llm) : undefined,
    indexer,
    start: (logger) => indexer?.start(logger),
    stop: async () => {
      await indexer?.stop();
    },
  };
}
