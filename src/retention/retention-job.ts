/**
 * The retention job: each round, under the "retention" job lock (one node at a time across the
 * deployment), it brings the agents' privacy marks up to date and applies every rule in bounded
 * batches over indexed queries. Deletions go through the conversation service (the one write path),
 * which removes the row, its index rows, files, SIP messages and embeddings, and the blobs.
 */
import type { BlobStore } from "../blobs/blob-store.js";
import type { ConversationDoc } from "../domain/conversation.js";
import { NotFoundError } from "../domain/errors.js";
import type { AgentStore } from "../store/agent-store.js";
import { audioBlobKeys } from "../store/audio-info.js";
import type { JobLocks } from "../store/job-locks.js";
import {
  type AgentPrivacyMark,
  type ConversationPosition,
  NO_PRIVACY_SETTINGS,
  type RetentionStore,
} from "../store/retention-store.js";
import {
  type AgentRule,
  agentRule,
  applyPartialDeletion,
  expiryCutoff,
  readPrivacySettings,
  settingsKey,
} from "./retention-policy.js";

/** The job's lock name (`JobLocks.runExclusive`). */
export const RETENTION_JOB = "retention";

/** The clock the job reads (tests pass a fake one). */
export interface RetentionClock {
  /** Unix milliseconds. */
  now(): number;
}

/** A pino-like logger: `(fields, message)`. */
export interface RetentionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The part of the conversation service the job writes through. */
export interface RetentionConversations {
  deleteConversation(conversationId: string): Promise<void>;
  changeConversation(
    conversationId: string,
    change: (doc: ConversationDoc) => ConversationDoc,
  ): Promise<unknown>;
}

/** What the job works with. */
export interface RetentionJobDeps {
  store: RetentionStore;
  agents: Pick<AgentStore, "scanAgents">;
  jobLocks: JobLocks;
  conversations: RetentionConversations;
  blobs: Pick<BlobStore, "delete">;
  /** OPENCONVAI_RETENTION_DAYS: the server's default period in days; null keeps forever. */
  defaultDays: number | null;
  /** The wait between rounds. */
  intervalMs: number;
  clock: RetentionClock;
  logger: RetentionLogger;
  /** Conversations per query (default 200). */
  batchSize?: number;
}

/** What one round did, in counts (the only thing it logs). */
export interface RetentionRound {
  /** Conversations deleted whole (expired, or zero retention). */
  deleted: number;
  /** Conversations whose audio or transcript was deleted and which stay. */
  trimmed: number;
  /** Conversations a deletion failed for (tried again next round). */
  failed: number;
}

const AGENT_PAGE = 500;
/** How often the partial deletions walk an agent's expired conversations from the first, not from the mark. */
export const FULL_SWEEP_INTERVAL_MS = 24 * 3_600_000;

/** Deletes what has expired, every `intervalMs`; a BackgroundJob of the server. */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopping = false;
  /** When this process last swept the trims from the first conversation (undefined: not yet). */
  private lastFullSweepMs: number | undefined;
  /** Invalid `retention_days` already warned about, as agent id and value (one warning each). */
  private readonly warnedDays = new Set<string>();

  constructor(private readonly deps: RetentionJobDeps) {}

  /** Starts the rounds: the first at once, then one every `intervalMs` after the last ended. */
  start(): void {
    this.stopping = false;
    this.schedule(0);
  }

  /** Stops the rounds; the one in flight ends after its current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One round under the job lock; undefined when another node (or round) holds it. */
  async runOnce(): Promise<RetentionRound | undefined> {
    const run = await this.deps.jobLocks.runExclusive(RETENTION_JOB, () => this.round());
    return run.ran ? run.value : undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then((round) => {
          if (round && round.deleted + round.trimmed + round.failed > 0) {
            this.deps.logger.info(round, "retention: round done");
          }
        })
        .catch((error: unknown) => {
          this.deps.logger.warn({ err: error }, "retention: round failed; trying again next round");
        })
        .finally(() => this.schedule(this.deps.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async round(): Promise<RetentionRound> {
    const counts: RetentionRound = { deleted: 0, trimmed: 0, failed: 0 };
    const nowMs = this.deps.clock.now();
    const rules = await this.updateMarks(nowMs);
    const fullSweep =
      this.lastFullSweepMs === undefined || nowMs - this.lastFullSweepMs >= FULL_SWEEP_INTERVAL_MS;
    for (const { rule, mark } of rules) {
      if (this.stopping) break;
      if (rule.zeroRetention) await this.deleteSettled(rule, counts);
      if (rule.expireAfterDays === null) continue;
      const before = expiryCutoff(nowMs, rule.expireAfterDays);
      if (rule.expiry.kind === "delete")
        await this.deleteStartedBefore(rule.agentId, rule.startFrom, before, [], counts);
      else await this.trimStartedBefore(rule, mark, before, fullSweep, counts);
    }
    if (fullSweep && !this.stopping) this.lastFullSweepMs = nowMs;
    if (this.deps.defaultDays !== null && !this.stopping) {
      const except = rules.map(({ rule }) => ({ agentId: rule.agentId, startFrom: rule.startFrom }));
      await this.deleteStartedBefore(null, null, expiryCutoff(nowMs, this.deps.defaultDays), except, counts);
    }
    return counts;
  }

  /**
   * Reads every agent's privacy settings and records since when they apply. An agent seen for the
   * first time has had its settings since it was created (its `created_at`); a change seen later
   * takes effect now (the round that sees it), so a conversation counted as started after it did.
   * Every seen agent keeps a mark, with or without settings, so that settings added later count as
   * a change. Returns the rules of the agents that have settings.
   */
  private async updateMarks(nowMs: number): Promise<{ rule: AgentRule; mark: AgentPrivacyMark }[]> {
    const { store } = this.deps;
    const marks = new Map((await store.listAgentMarks()).map((m) => [m.agentId, m]));
    const rules: { rule: AgentRule; mark: AgentPrivacyMark }[] = [];
    const seen = new Set<string>();
    for (let after: number | null = null; ; ) {
      const agents = await this.deps.agents.scanAgents(after, AGENT_PAGE);
      for (const agent of agents) {
        seen.add(agent.agentId);
        const settings = readPrivacySettings(agent.json, (value) =>
          this.warnInvalidDays(agent.agentId, value),
        );
        const key = settings ? settingsKey(settings) : NO_PRIVACY_SETTINGS;
        let mark = marks.get(agent.agentId);
        if (!mark || mark.settings !== key) {
          mark = {
            agentId: agent.agentId,
            settings: key,
            effectiveAt: mark ? Math.floor(nowMs / 1000) : agent.createdAtUnixSecs,
            sweptThrough: null,
          };
          await store.putAgentMark(mark);
        }
        if (settings) {
          rules.push({
            rule: agentRule(agent.agentId, settings, mark.effectiveAt, this.deps.defaultDays),
            mark,
          });
        }
      }
      if (agents.length < AGENT_PAGE) break;
      after = agents[agents.length - 1]?.seq ?? null;
    }
    for (const agentId of marks.keys()) if (!seen.has(agentId)) await store.deleteAgentMark(agentId);
    return rules;
  }

  private warnInvalidDays(agentId: string, value: unknown): void {
    const key = JSON.stringify([agentId, String(value)]);
    if (this.warnedDays.has(key)) return;
    this.warnedDays.add(key);
    this.deps.logger.warn(
      { agentId, retentionDays: typeof value === "number" ? value : typeof value },
      "retention: the agent's platform_settings.privacy.retention_days is not -1 or a whole number of days from 1; ignored, the server's default period applies",
    );
  }

  /** Deletes whole every conversation the query finds, page after page. */
  private async deleteStartedBefore(
    agentId: string | null,
    startFrom: number | null,
    startBefore: number,
    except: { agentId: string; startFrom: number | null }[],
    counts: RetentionRound,
  ): Promise<void> {
    const limit = this.batchSize();
    for (let after: ConversationPosition | null = null; !this.stopping; ) {
      const page = await this.deps.store.findStartedBefore({
        agentId,
        startFrom,
        startBefore,
        except,
        after,
        limit,
      });
      await this.deleteAll(page, counts);
      if (page.length < limit) break;
      after = page[page.length - 1] ?? null;
    }
  }

  /** Zero retention: deletes the agent's finished conversations whose deliveries are final. */
  private async deleteSettled(rule: AgentRule, counts: RetentionRound): Promise<void> {
    const limit = this.batchSize();
    for (let after: ConversationPosition | null = null; !this.stopping; ) {
      const page = await this.deps.store.findSettled({
        agentId: rule.agentId,
        startFrom: rule.startFrom,
        after,
        limit,
      });
      await this.deleteAll(page, counts);
      if (page.length < limit) break;
      after = page[page.length - 1] ?? null;
    }
  }

  /**
   * Deletes the chosen parts of the agent's expired conversations that still hold them, from the
   * mark (`sweptThrough`, reset when the settings change) or, on a full sweep, from the first. The
   * mark moves only over conversations trimmed (or found gone) in an unbroken run: it stops before
   * the first one skipped (live, not final, deliveries pending) or whose trim failed, so the next
   * round comes back to it; with none skipped it moves to the cutoff. The store leaves out
   * conversations already trimmed, so walking some again is cheap.
   */
  private async trimStartedBefore(
    rule: AgentRule,
    mark: AgentPrivacyMark,
    startBefore: number,
    fullSweep: boolean,
    counts: RetentionRound,
  ): Promise<void> {
    if (rule.expiry.kind !== "partial") return;
    const { audio, transcript } = rule.expiry;
    const limit = this.batchSize();
    let after = fullSweep ? null : mark.sweptThrough;
    let swept = after;
    let blocked = false;
    while (!this.stopping) {
      const page = await this.deps.store.findToTrim({
        agentId: rule.agentId,
        startFrom: rule.startFrom,
        startBefore,
        audio,
        transcript,
        after,
        limit,
      });
      for (const candidate of page) {
        after = { conversationId: candidate.conversationId, startTime: candidate.startTime };
        if (!candidate.ready) blocked = true;
        else if (await this.trim(candidate.conversationId, audio, transcript)) counts.trimmed++;
        else {
          counts.failed++;
          blocked = true;
        }
        if (!blocked) swept = after;
      }
      if (page.length < limit) {
        // Everything that started before the cutoff is done: the next round starts there.
        if (!blocked) swept = { conversationId: "", startTime: startBefore };
        break;
      }
    }
    if (!samePosition(swept, mark.sweptThrough)) {
      await this.deps.store.putAgentMark({ ...mark, sweptThrough: swept });
    }
  }

  /** Deletes the parts; false when it failed (logged without content). A conversation gone since is done. */
  private async trim(conversationId: string, audio: boolean, transcript: boolean): Promise<boolean> {
    const { store, conversations, blobs } = this.deps;
    const atUnixSecs = Math.floor(this.deps.clock.now() / 1000);
    try {
      await conversations.changeConversation(conversationId, (doc) =>
        applyPartialDeletion(doc, { audio, transcript, atUnixSecs }),
      );
      if (transcript)
        for (const key of await store.removeTranscriptData(conversationId)) await blobs.delete(key);
      if (audio) {
        const removed = await store.removeAudio(conversationId);
        if (removed) for (const key of audioBlobKeys(removed)) await blobs.delete(key);
      }
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return true;
      this.deps.logger.warn(
        { conversationId, error: error instanceof Error ? error.name : "unknown" },
        "retention: deleting a conversation's audio or transcript failed; trying again next round",
      );
      return false;
    }
  }

  private async deleteAll(page: readonly ConversationPosition[], counts: RetentionRound): Promise<void> {
    for (const { conversationId } of page) {
      try {
        await this.deps.conversations.deleteConversation(conversationId);
        counts.deleted++;
      } catch (error) {
        if (error instanceof NotFoundError) continue;
        counts.failed++;
        this.deps.logger.warn(
          { conversationId, error: error instanceof Error ? error.name : "unknown" },
          "retention: deleting a conversation failed; trying again next round",
        );
      }
    }
  }

  private batchSize(): number {
    return this.deps.batchSize ?? 200;
  }
}

function samePosition(a: ConversationPosition | null, b: ConversationPosition | null): boolean {
  return a?.conversationId === b?.conversationId && a?.startTime === b?.startTime;
}

/** The server's retention job from its configuration (the real clock). */
export function createRetentionJob(
  config: { retentionDays: number | null; intervalMs: number },
  services: {
    db: { retention: RetentionStore; agents: Pick<AgentStore, "scanAgents">; jobLocks: JobLocks };
    blobs: Pick<BlobStore, "delete">;
    conversations: RetentionConversations;
  },
  logger: RetentionLogger,
): RetentionJob {
  return new RetentionJob({
    store: services.db.retention,
    agents: services.db.agents,
    jobLocks: services.db.jobLocks,
    conversations: services.conversations,
    blobs: services.blobs,
    defaultDays: config.retentionDays,
    intervalMs: config.intervalMs,
    clock: { now: () => Date.now() },
    logger,
  });
}
