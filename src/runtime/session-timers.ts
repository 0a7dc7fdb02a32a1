import type { Clock } from "./clock.js";
import { errorFrame, type ServerFrame } from "./server-frames.js";

/** The timers a session keeps: the wait for the init frame, the call's maximum duration, the user's silence. */
export type SessionTimerName = "initiation" | "maxDuration" | "silence";

/** A session's named timers on its clock: setting one replaces it, and all stop at once when the session ends. */
export class SessionTimers {
  private readonly cancels = new Map<SessionTimerName, () => void>();

  constructor(private readonly clock: Clock) {}

  /** Runs `run` in `ms` milliseconds (at once when `ms` is not positive), replacing the timer of that name. */
  set(name: SessionTimerName, ms: number, run: () => void): void {
    this.clear(name);
    const cancel = this.clock.setTimer(Math.max(0, ms), () => {
      this.cancels.delete(name);
      run();
    });
    this.cancels.set(name, cancel);
  }

  /** Stops the timer of that name, if it is set. */
  clear(name: SessionTimerName): void {
    this.cancels.get(name)?.();
    this.cancels.delete(name);
  }

  /** Stops every timer. */
  clearAll(): void {
    for (const cancel of this.cancels.values()) cancel();
    this.cancels.clear();
  }
}

/** What the session's limits need from it. */
export interface LimitHooks {
  /** Runs a step in the session's event queue. */
  enqueue(step: () => Promise<void>): void;
  /** Ends the session normally (close 1000), recording `terminationReason`, sending `frame` first. */
  endNormally(reason: string, terminationReason: string, frame?: ServerFrame): Promise<void>;
  /** Whether the session has ended. */
  ended(): boolean;
  /** Whether an agent turn is running. */
  answering(): boolean;
}

/**
 * The limits of a started session on its clock: `max_duration_seconds` (an `error` event
 * `max_duration_exceeded`, then close 1000) and `silence_end_call_timeout` (close 1000 after that
 * long without user activity; never while the agent is answering: it waits again instead).
 */
export class SessionLimits {
  constructor(
    private readonly timers: SessionTimers,
    private readonly hooks: LimitHooks,
  ) {}

  /** Ends the session `seconds` after it started, `elapsedMs` ago. */
  startMaxDuration(seconds: number, elapsedMs: number): void {
    this.timers.set("maxDuration", seconds * 1000 - elapsedMs, () =>
      this.hooks.enqueue(async () => {
        if (this.hooks.ended()) return;
        const message = `Maximum duration of ${seconds} seconds reached`;
        await this.hooks.endNormally(message, message, errorFrame(1000, "max_duration_exceeded", message));
      }),
    );
  }

  /** (Re)starts the silence clock: the user was active, or the agent finished; off when `seconds` is undefined. */
  armSilence(seconds: number | undefined): void {
    if (seconds === undefined || this.hooks.ended()) return;
    this.timers.set("silence", seconds * 1000, () =>
      this.hooks.enqueue(async () => {
        if (this.hooks.ended()) return;
        if (this.hooks.answering()) return this.armSilence(seconds);
        await this.hooks.endNormally(
          `No user activity for ${seconds} seconds`,
          `No user activity for ${seconds} seconds (silence_end_call_timeout)`,
        );
      }),
    );
  }
}
