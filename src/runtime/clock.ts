/** The time a live session reads and the timers it sets, injected so tests never sleep. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `run` after `ms` milliseconds; returns a function that cancels it. */
  setTimer(ms: number, run: () => void): () => void;
}

/** The real clock: Date.now and setTimeout (timers never keep the process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, run) {
    const timer = setTimeout(run, ms);
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};
