import type { WebsocketPluginOptions } from "@fastify/websocket";
import type { FastifyInstance } from "fastify";

/**
 * How long a closing server waits, after ending its live sessions, for their last writes (the end
 * recorded, a voice session's recording encoded and stored, post-call analysis).
 */
export const SHUTDOWN_GRACE_MS = 5_000;

/** What a stopping server needs of a session (a ConversationSession). */
export interface DrainableSession {
  /** Ends the session on the record; harmless when it has already ended. */
  shutdown(): Promise<void>;
  /** Resolves when its last write and post-call work are done. */
  settled(): Promise<void>;
}

/**
 * The sessions of this node whose work is not over, so a stopping server can end each one on the
 * record and wait for its writes. A session counts from its start until its socket has closed
 * and its last write and post-call analysis are done, not just until the socket closes.
 */
export class LiveSessions {
  private readonly sessions = new Set<DrainableSession>();
  private draining = false;
  /** Waiters of `waitForSessions`, woken when the last session's work is done. */
  private readonly emptied = new Set<() => void>();

  /** How many sessions still have work (live ones and ended ones still writing). */
  get size(): number {
    return this.sessions.size;
  }

  /** Whether the server is stopping: no new session may start. */
  get stopping(): boolean {
    return this.draining;
  }

  /**
   * The node begins to stop (SIGTERM): no new session starts from now on, and the live ones go on
   * (see `waitForSessions`) until `drain` ends what is left.
   */
  startDraining(): void {
    this.draining = true;
  }

  /**
   * Waits until every session has ended by itself and done its work, at most `graceMs`, or until
   * `cut` resolves (a second signal ends the grace at once). Resolves with how many are left.
   */
  async waitForSessions(graceMs: number, cut?: Promise<unknown>): Promise<number> {
    if (this.sessions.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    let wake = () => {};
    const empty = new Promise<void>((resolve) => {
      wake = resolve;
      this.emptied.add(resolve);
    });
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([empty, deadline, ...(cut ? [cut] : [])]);
    clearTimeout(timer);
    this.emptied.delete(wake);
    return this.sessions.size;
  }

  /** A session starts; false (and not counted) when the server is stopping, so it must not start. */
  add(session: DrainableSession): boolean {
    if (this.draining) return false;
    this.sessions.add(session);
    return true;
  }

  /** A session's socket closed: it counts until `finished` (its end recorded, its work done) settles. */
  release(session: DrainableSession, finished: Promise<unknown>): void {
    const forget = () => {
      this.sessions.delete(session);
      if (this.sessions.size > 0) return;
      for (const wake of this.emptied) wake();
      this.emptied.clear();
    };
    void finished.then(forget, forget);
  }

  /**
   * Stops new sessions, ends every live one (each records `failed` with why, then closes 1001) and
   * waits, at most `graceMs`, for the last writes and post-call work of all of them, including
   * those whose socket had already closed. A session that does not finish in time is left to crash
   * recovery at the next start.
   */
  async drain(graceMs: number = SHUTDOWN_GRACE_MS): Promise<void> {
    this.draining = true;
    const sessions = [...this.sessions];
    if (sessions.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    const ended = Promise.allSettled(sessions.map((s) => s.shutdown().then(() => s.settled())));
    await Promise.race([ended, deadline]);
    clearTimeout(timer);
  }
}

/**
 * The WebSocket plugin's `preClose`: on shutdown the live sessions end on the record first
 * (the plugin's default would close every socket with no code, which reads as the user hanging
 * up), then any other socket is closed and the socket server stops.
 */
export function drainOnClose(live: LiveSessions): WebsocketPluginOptions["preClose"] {
  return async function preClose(this: FastifyInstance) {
    await live.drain();
    const server = this.websocketServer;
    for (const client of server.clients) client.close(1001, "Server shutting down");
    server.close();
  };
}
