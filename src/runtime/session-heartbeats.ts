import type { Logger } from "pino";
import type { JobLocks } from "../store/job-locks.js";
import { type RecoveryDeps, recoverStaleSessions } from "./session-recovery.js";

/** What the heartbeats read and write, and how often. */
export interface SessionHeartbeatsDeps extends RecoveryDeps {
  jobLocks: JobLocks;
  logger: Pick<Logger, "info" | "warn">;
  /** How often this node refreshes its sessions' heartbeat, and (on a timer of its own) looks for stale ones. */
  intervalMs: number;
  /** A session whose heartbeat is older than this (by the database's clock) is recovered. */
  timeoutMs: number;
}

/** The job lock of stale-session recovery: one node recovers at a time. */
const RECOVERY_JOB = "session-recovery";

/** A job that runs every interval, the next run scheduled when the last one ends. */
class Repeating {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => Promise<void>,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.run().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }
}

/**
 * A server's background jobs for live sessions across nodes. Every interval it refreshes the
 * heartbeat of this node's sessions (one UPDATE by node id, timed by the database's clock); on a
 * timer of its own, under the `session-recovery` job lock, it recovers other nodes' sessions whose
 * heartbeat is older than the timeout: a node that crashed and never came back leaves nothing in
 * progress. The two never wait for each other, so a slow recovery round (or one waiting for a
 * connection) never holds back this node's own heartbeat until other nodes take its sessions for
 * stale. A failed round is logged and the next one tries again.
 */
export class SessionHeartbeats {
  private readonly heartbeats: Repeating;
  private readonly recoveries: Repeating;

  constructor(private readonly deps: SessionHeartbeatsDeps) {
    this.heartbeats = new Repeating(deps.intervalMs, () => this.heartbeat());
    this.recoveries = new Repeating(deps.intervalMs, () => this.recover());
  }

  /** Starts both jobs (the first runs after one interval: sessions are registered with a fresh heartbeat). */
  start(): void {
    this.heartbeats.start();
    this.recoveries.start();
  }

  /** Stops both jobs and waits for the runs in flight. */
  async stop(): Promise<void> {
    await Promise.all([this.heartbeats.stop(), this.recoveries.stop()]);
  }

  /** Refreshes this node's sessions' heartbeat; a failure is logged. */
  async heartbeat(): Promise<void> {
    try {
      await this.deps.liveSessions.heartbeat(this.deps.nodeId);
    } catch (error) {
      this.deps.logger.warn(
        { err: error },
        "refreshing the live sessions' heartbeat failed; retrying next round",
      );
    }
  }

  /** Recovers stale sessions if no other node is at it; a failure is logged. */
  async recover(): Promise<void> {
    try {
      await this.deps.jobLocks.runExclusive(RECOVERY_JOB, () =>
        recoverStaleSessions(this.deps, this.deps.timeoutMs),
      );
    } catch (error) {
      this.deps.logger.warn({ err: error }, "recovering stale live sessions failed; retrying next round");
    }
  }
}
