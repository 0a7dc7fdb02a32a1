import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { ConversationDoc } from "../domain/conversation.js";
import { type EmbeddingsModel, MAX_EMBEDDING_BATCH } from "../providers/embeddings/embeddings-model.js";
import { ProviderError } from "../providers/provider-error.js";
import type { EmbeddingRow } from "../store/message-search-store.js";
import type { Database } from "../store/store.js";
import { extractMessageChunks } from "./transcript-chunks.js";

/** Conversations taken per round. */
const CONVERSATIONS_PER_ROUND = 16;
/** Chunks of one conversation embedded at most (the rest of a very long transcript is not searchable semantically). */
export const MAX_CHUNKS_PER_CONVERSATION = 2000;
/** The job lock each round takes: one node of a deployment embeds at a time. */
const INDEXER_JOB = "embedding-indexer";
/** The text hash recorded for a conversation the provider refused: it is not tried again until it changes. */
const REFUSED = "refused";

/**
 * Embeds conversations in the background. Each round takes the conversations whose embeddings are
 * missing, made with another model, or older than the document (in id order), embeds their
 * messages in batches, and replaces their rows in one transaction each. A conversation whose
 * message text did not change (a new analysis, feedback…) keeps its vectors. A full round is
 * followed at once by the next; otherwise the indexer waits for the interval. When the provider
 * is unreachable (network, 429, 5xx) the round stops and is retried after the interval; a
 * conversation the provider refuses outright is recorded as refused and skipped until it changes.
 * With several nodes on one database each round runs under a job lock, so one node at a time does
 * the work.
 */
export class EmbeddingIndexer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private logger: Logger | undefined;

  constructor(
    private readonly db: Database,
    private readonly embeddings: EmbeddingsModel,
    private readonly intervalMs: number,
  ) {}

  /** Starts the rounds. */
  start(logger: Logger): void {
    this.logger = logger;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops scheduling rounds and waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runRound()
        .then((full) => this.schedule(full ? 0 : this.intervalMs))
        .catch((error: unknown) => {
          this.logger?.warn({ err: error }, "embedding indexer round failed; retrying later");
          this.schedule(this.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Runs one round under the `embedding-indexer` job lock, so that of several nodes on one database
   * one embeds at a time and no conversation is embedded twice (the next holder finds what the last
   * one wrote). True when it found a full batch of work (so more may be waiting); false also when
   * another node holds the lock (this one tries again after the interval).
   */
  async runRound(): Promise<boolean> {
    const run = await this.db.jobLocks.runExclusive(INDEXER_JOB, () => this.embedPending());
    return run.ran && run.value;
  }

  /** Embeds the pending conversations of one round; true when it found a full batch. */
  private async embedPending(): Promise<boolean> {
    const pending = await this.db.messageSearch.findPendingEmbeddings(
      this.embeddings.model,
      CONVERSATIONS_PER_ROUND,
    );
    for (const item of pending) {
      if (this.stopped) break;
      const chunks = extractMessageChunks(JSON.parse(item.json) as ConversationDoc).slice(
        0,
        MAX_CHUNKS_PER_CONVERSATION,
      );
      const hash = createHash("sha256")
        .update(JSON.stringify(chunks.map((c) => [c.transcriptIndex, c.chunk, c.text])))
        .digest("hex");
      const state = { model: this.embeddings.model, updatedAt: item.updatedAt, textHash: hash };
      if (item.model === this.embeddings.model && item.textHash === hash) {
        // The messages did not change (the document did elsewhere): the vectors stay.
        await this.db.messageSearch.replaceEmbeddings(item.conversationId, state, null);
        continue;
      }
      const rows: EmbeddingRow[] = [];
      try {
        for (let i = 0; i < chunks.length; i += MAX_EMBEDDING_BATCH) {
          const slice = chunks.slice(i, i + MAX_EMBEDDING_BATCH);
          const vectors = await this.embeddings.embed(slice.map((c) => c.text));
          slice.forEach((c, j) => {
            rows.push({
              transcriptIndex: c.transcriptIndex,
              chunk: c.chunk,
              chunkText: c.text,
              vector: vectors[j] as Float32Array,
            });
          });
        }
      } catch (error) {
        if (error instanceof ProviderError && !error.transient) {
          this.logger?.warn(
            { err: error, conversation_id: item.conversationId },
            "the embeddings provider refused a conversation; it is skipped until it changes",
          );
          await this.db.messageSearch.replaceEmbeddings(
            item.conversationId,
            { ...state, textHash: REFUSED },
            [],
          );
          continue;
        }
        throw error;
      }
      await this.db.messageSearch.replaceEmbeddings(item.conversationId, state, rows);
    }
    return pending.length === CONVERSATIONS_PER_ROUND;
  }
}
