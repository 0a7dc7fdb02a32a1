/** The time a live session reads and the timers it sets, injected so tests never sleep. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `run` after `ms` milliseconds; returns a function that cancels it. */
  setTimer(ms: number, run: () => void): () => void;
}

/** The longest delay setTimeout takes (2^31-1 ms, about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * The real clock: Date.now and setTimeout (timers never keep the process alive). A delay longer
 * than `MAX_TIMER_DELAY_MS` is shortened to it (setTimeout would run it after 1 ms): a timer
 * about 24.8 days out, which no session lives to see.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, run) {
    const timer = setTimeout(run, Math.min(ms, MAX_TIMER_DELAY_MS));
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};
