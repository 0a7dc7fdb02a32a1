import type { Clock } from "./clock.js";

/**
 * Sends a ping every interval, each with the session's next event id and the latest round trip
 * (`ping_ms`, measured from the pong that answered an earlier ping).
 */
export class PingKeeper {
  private readonly sentAt = new Map<number, number>();
  private roundTripMs: number | null = null;
  private cancel: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly sendPing: (pingMs: number | null) => number,
  ) {}

  /** Starts pinging: the first ping goes out one interval from now. */
  start(): void {
    this.cancel = this.clock.setTimer(this.intervalMs, () => {
      this.sentAt.set(this.sendPing(this.roundTripMs), this.clock.now());
      this.start();
    });
  }

  /** A pong arrived: the round trip of the ping it answers is the next ping's `ping_ms`. */
  pong(eventId: number): void {
    const sent = this.sentAt.get(eventId);
    if (sent === undefined) return;
    this.roundTripMs = this.clock.now() - sent;
    this.sentAt.delete(eventId);
  }

  /** Stops pinging. */
  stop(): void {
    this.cancel?.();
  }
}
