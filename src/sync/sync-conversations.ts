/**
 * `openconvai sync`: mirrors conversations from a source (the ElevenLabs API or another
 * openconvai) into this database, upserting by conversation_id.
 *
 * The source lists newest first, so a run cannot know that everything older than a conversation
 * is stored until it has walked to the end of the list. The high-water mark is therefore moved
 * only when a run has stored every conversation it listed: a run stopped at any point leaves the
 * mark where it was, and the next run walks the same range again. Conversations already here (in
 * a final state, with their recording when audio is asked for) are not fetched again, so a
 * restarted run is quick, and upserts make any overlap harmless. The list overlaps the mark by one
 * second; what is listed at the mark and unchanged was dealt with by the run that set it, and is
 * skipped without asking for its recording again.
 */
import type { ConversationService } from "../conversations/conversation-service.js";
import { InvalidInputError } from "../domain/errors.js";
import type { Database } from "../store/store.js";
import type { ConversationSource, SourceListItem } from "./conversation-source.js";

/** Statuses after which a conversation no longer changes upstream (apart from feedback). */
const FINAL_STATUSES = new Set(["done", "failed"]);

/** Settings of one sync run. */
export interface SyncOptions {
  source: ConversationSource;
  /** Read for what is already here, and for the high-water marks. */
  db: Database;
  /** Writes what is fetched. */
  conversations: ConversationService;
  /** Only this agent's conversations (also part of the mark's name). */
  agentId?: string;
  /** Only conversations that started at or after this time (unix seconds). */
  sinceUnixSecs?: number;
  /** Fetch recordings too. */
  audio: boolean;
  /** Conversations fetched at once (default 8). */
  concurrency?: number;
  /** Ignore the mark and fetch every listed conversation again (recordings already here are kept). */
  full?: boolean;
  /** List and count what would be fetched; write nothing. */
  dryRun?: boolean;
  /** List page size (default 100, the API's maximum). */
  pageSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: SyncProgress) => void;
  /** Called for a conversation that could not be stored; the run goes on, but the mark stays. */
  onFailure?: (conversationId: string, message: string) => void;
}

/** What a run has done so far. */
export interface SyncProgress {
  /** Conversations listed so far (the list is walked as the run goes). */
  listed: number;
  /** Conversations dealt with (fetched, skipped or failed). */
  done: number;
  fetched: number;
  skipped: number;
  audioFetched: number;
  failed: number;
  /** Whether the end of the list has been reached (then `listed` is the total). */
  listComplete: boolean;
}

/** How a run ended. */
export interface SyncSummary extends SyncProgress {
  /** Recordings the source did not have. */
  audioMissing: number;
  /** The mark before and after the run (unix seconds), null when there is none. */
  markBefore: number | null;
  markAfter: number | null;
  seconds: number;
}

/** The name a source's mark is kept under: its URL, plus the agent filter. */
export function syncStateKey(sourceKey: string, agentId: string | undefined): string {
  return agentId ? `${sourceKey}#agent_id=${agentId}` : sourceKey;
}

/** Runs one sync pass (see the module comment). Rejects with the signal's reason when aborted. */
export async function syncConversations(options: SyncOptions): Promise<SyncSummary> {
  const started = performance.now();
  const { source, db, conversations, signal } = options;
  const pageSize = options.pageSize ?? 100;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const stateKey = syncStateKey(source.key, options.agentId);
  const state = await db.syncState.getSyncState(stateKey);
  const markBefore = state?.highWaterUnixSecs ?? null;
  // The list filter is "strictly after"; one second of overlap keeps conversations at the mark itself.
  const lowest = Math.max(
    options.full ? Number.NEGATIVE_INFINITY : (markBefore ?? Number.NEGATIVE_INFINITY),
    options.sinceUnixSecs ?? Number.NEGATIVE_INFINITY,
  );
  const startAfter = Number.isFinite(lowest) ? lowest - 1 : undefined;

  const summary: SyncSummary = {
    listed: 0,
    done: 0,
    fetched: 0,
    skipped: 0,
    audioFetched: 0,
    failed: 0,
    listComplete: false,
    audioMissing: 0,
    markBefore,
    markAfter: markBefore,
    seconds: 0,
  };
  const report = () => options.onProgress?.({ ...summary });
  let newest: number | null = null;
  let oldestUnfinished: number | null = null;

  const syncOne = async (item: SourceListItem): Promise<void> => {
    const local = await db.conversations.getConversation(item.conversationId);
    let localStatus: string | undefined;
    if (local) localStatus = (JSON.parse(local.json) as { status?: unknown }).status as string | undefined;
    const docCurrent =
      !options.full && local !== undefined && localStatus === item.status && FINAL_STATUSES.has(item.status);
    // A conversation at the mark was dealt with, recording and all, by the run that set the mark:
    // unchanged, it is not asked for again (the source had no recording for it, or --audio was off).
    const settled = docCurrent && markBefore !== null && item.startTimeUnixSecs <= markBefore;
    const audioCurrent = !options.audio || settled || (local?.audio ?? null) !== null;
    if (docCurrent && audioCurrent) {
      summary.skipped++;
      return;
    }
    if (options.dryRun) {
      summary.fetched++;
      return;
    }
    let status = item.status;
    if (!docCurrent) {
      const doc = await source.getConversation(item.conversationId, signal);
      try {
        status = (await conversations.putConversation(doc, { conversationId: item.conversationId })).index
          .status;
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        // Reported without the `body` the issues are located under.
        throw new Error(error.issues.map((i) => `${i.loc.slice(1).join(".")}: ${i.msg}`).join("; "));
      }
      summary.fetched++;
      if (doc.has_audio === false) {
        if (!FINAL_STATUSES.has(status)) markUnfinished(item);
        return;
      }
    }
    if (!FINAL_STATUSES.has(status)) markUnfinished(item);
    if (!audioCurrent) {
      const audio = await source.getAudio(item.conversationId, signal);
      if (!audio) summary.audioMissing++;
      else {
        await conversations.putAudio(item.conversationId, audio.bytes, audio.contentType);
        summary.audioFetched++;
      }
    }
  };
  const markUnfinished = (item: SourceListItem) => {
    if (oldestUnfinished === null || item.startTimeUnixSecs < oldestUnfinished) {
      oldestUnfinished = item.startTimeUnixSecs;
    }
  };

  const processPage = async (items: SourceListItem[]) => {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++] as SourceListItem;
        signal?.throwIfAborted();
        try {
          await syncOne(item);
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          summary.failed++;
          options.onFailure?.(item.conversationId, (error as Error).message);
        }
        summary.done++;
        report();
      }
    };
    // Every worker is let finish its conversation before an abort is passed on, so nothing of this
    // run is still writing when the caller starts the next one.
    const results = await Promise.allSettled(
      Array.from({ length: Math.min(concurrency, items.length) }, worker),
    );
    const rejected = results.find((r) => r.status === "rejected");
    if (rejected) throw (rejected as PromiseRejectedResult).reason;
  };

  const list = (cursor: string | undefined) =>
    source.listConversations(
      { cursor, agentId: options.agentId, startAfterUnixSecs: startAfter, pageSize },
      signal,
    );
  let page = await list(undefined);
  for (;;) {
    summary.listed += page.items.length;
    for (const item of page.items) {
      if (newest === null || item.startTimeUnixSecs > newest) newest = item.startTimeUnixSecs;
    }
    summary.listComplete = !page.hasMore;
    report();
    // The next page is listed while this one is fetched.
    const nextPage = page.hasMore && page.nextCursor ? list(page.nextCursor) : undefined;
    nextPage?.catch(() => undefined);
    await processPage(page.items);
    if (!nextPage) break;
    page = await nextPage;
  }

  if (!options.dryRun && summary.failed === 0 && newest !== null) {
    let mark: number = Math.max(newest, markBefore ?? Number.NEGATIVE_INFINITY);
    // A conversation still in progress will change: the mark stays at or below it, so it is fetched again.
    if (oldestUnfinished !== null) mark = Math.min(mark, oldestUnfinished);
    await db.syncState.putSyncState({
      source: stateKey,
      highWaterUnixSecs: mark,
      lastRunUnixSecs: Math.floor(Date.now() / 1000),
    });
    summary.markAfter = mark;
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
