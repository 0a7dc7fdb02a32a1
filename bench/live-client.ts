/**
 * The live benchmark's client: many raw `ws` text sessions in this one process. They are set up
 * a bounded number at a time (connect → init frame → metadata, as fast as the server allows),
 * then each sends a user message every interval, spread evenly over the interval, answering pings
 * with pongs. Each message carries a unique token (`lt-<session>-<turn>`) so the model server's
 * own time for it can be matched; its first agent_chat_response_part and its agent_response
 * (which must name the token) are timed. At the end every session closes with 1000.
 */
import { WebSocket } from "ws";

/** One user message and what came back. Times are `performance.now()` in this process. */
export interface TurnRecord {
  session: number;
  token: string;
  sentAt: number;
  /** The first agent_chat_response_part after the message. */
  firstPartAt?: number;
  /** The agent_response that closed the turn. */
  responseAt?: number;
}

/** What happened to one session. */
export interface SessionRecord {
  index: number;
  conversationId?: string;
  /** Connect → conversation_initiation_metadata, in ms. */
  setupMs?: number;
  /** When the metadata arrived (`performance.now()`). */
  metadataAt?: number;
  /** Why it failed (a close the client did not ask for, an error, a wrong reply), if it did. */
  failure?: string;
  /** Ticks at which the previous reply had not arrived yet (no message was sent then). */
  skippedTicks: number;
  pongs: number;
  /** The close code and reason when the client closed it. */
  closed?: { code: number; reason: string };
}

/** The load: how many sessions, how often each speaks, for how long. */
export interface LiveLoadOptions {
  /** `ws://host:port/v1/convai/conversation?agent_id=…` (or the baseline's URL). */
  url: string;
  sessions: number;
  seconds: number;
  intervalMs: number;
  /** The first session's number (tokens name it: warm-up sessions use others than measured ones). */
  firstIndex?: number;
  /** Sessions being set up at once. */
  setupConcurrency: number;
  /** Whether the agent opens with a first message (then a session waits for it before speaking). */
  expectGreeting: boolean;
  /** Told when set-up ends and the message phase starts/ends (for RSS and CPU windows). */
  onPhase?: (phase: "setup-done" | "messages-done") => void;
}

/** What the load measured. */
export interface LiveLoadResult {
  sessions: SessionRecord[];
  turns: TurnRecord[];
  /** First connect → last metadata, in seconds (greetings are awaited after it). */
  setupSeconds: number;
  /** Wall time of the message phase, in seconds. */
  messageSeconds: number;
}

const INIT_FRAME = JSON.stringify({
  type: "conversation_initiation_client_data",
  conversation_config_override: { agent: {}, tts: {}, conversation: { text_only: true } },
  source_info: { source: "js_sdk", version: "bench" },
});
const SETUP_TIMEOUT_MS = 20_000;
const DRAIN_TIMEOUT_MS = 10_000;

interface ServerFrame {
  type?: string;
  conversation_initiation_metadata_event?: { conversation_id?: string };
  ping_event?: { event_id?: number };
  agent_response_event?: { agent_response?: string };
}

/** One client session over a raw socket. */
class LiveSession {
  readonly record: SessionRecord;
  private readonly socket: WebSocket;
  private turn: TurnRecord | undefined;
  private turnCount = 0;
  private closing = false;
  private greeted: boolean;
  private readonly started = performance.now();
  private onMetadata: (() => void) | undefined;
  private onGreeting: (() => void) | undefined;
  private readonly onFailure: ((failure: string) => void)[] = [];
  private onIdle: (() => void) | undefined;
  readonly closed: Promise<void>;

  constructor(
    readonly index: number,
    url: string,
    expectGreeting: boolean,
    private readonly turns: TurnRecord[],
  ) {
    this.record = { index, skippedTicks: 0, pongs: 0 };
    this.greeted = !expectGreeting;
    this.socket = new WebSocket(url, ["convai"], { perMessageDeflate: false });
    this.socket.on("open", () => this.socket.send(INIT_FRAME));
    this.socket.on("message", (data) => this.receive(data.toString()));
    this.socket.on("error", (error) => this.fail(`socket error: ${error.message}`));
    this.closed = new Promise((resolve) =>
      this.socket.on("close", (code, reason) => {
        this.record.closed = { code, reason: reason.toString() };
        if (!this.closing) this.fail(`closed by the server: ${code} ${reason.toString()}`);
        resolve();
      }),
    );
  }

  /** Resolves once the metadata arrived; rejects on failure or timeout. */
  ready(): Promise<void> {
    return this.waitFor((resolve) => {
      this.onMetadata = resolve;
      if (this.record.setupMs !== undefined) resolve();
    });
  }

  /** Resolves once the agent's greeting arrived (at once when none is expected). */
  greeting(): Promise<void> {
    return this.waitFor((resolve) => {
      this.onGreeting = resolve;
      if (this.greeted) resolve();
    });
  }

  private waitFor(arm: (resolve: () => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail("set-up timed out");
      }, SETUP_TIMEOUT_MS);
      this.onFailure.push((failure) => {
        clearTimeout(timer);
        reject(new Error(failure));
      });
      arm(() => {
        clearTimeout(timer);
        resolve();
      });
      if (this.record.failure) this.fail(this.record.failure);
    });
  }

  /** Sends the next message, unless the previous reply is still on its way. */
  tick(): void {
    if (this.record.failure || this.closing) return;
    if (this.turn) {
      this.record.skippedTicks += 1;
      return;
    }
    this.turnCount += 1;
    const token = `lt-${this.index}-${this.turnCount}`;
    this.turn = { session: this.index, token, sentAt: performance.now() };
    this.turns.push(this.turn);
    this.socket.send(
      JSON.stringify({ type: "user_message", text: `Session ${this.index} says hello, ref ${token}.` }),
    );
  }

  /** Resolves when no reply is outstanding (or after a timeout, which counts as a failure). */
  idle(): Promise<void> {
    if (!this.turn || this.record.failure) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.fail(`no agent_response for ${this.turn?.token} within ${DRAIN_TIMEOUT_MS} ms`);
        resolve();
      }, DRAIN_TIMEOUT_MS);
      this.onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends the session the way a client hangs up: close 1000. */
  close(): Promise<void> {
    this.closing = true;
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000, "bench done");
    else if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    return this.closed;
  }

  private receive(text: string): void {
    const now = performance.now();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      this.fail("a frame that is not JSON");
      return;
    }
    switch (frame.type) {
      case "conversation_initiation_metadata":
        this.record.conversationId = frame.conversation_initiation_metadata_event?.conversation_id;
        this.record.setupMs = now - this.started;
        this.record.metadataAt = now;
        this.onMetadata?.();
        return;
      case "ping":
        this.record.pongs += 1;
        this.socket.send(`{"type":"pong","event_id":${Number(frame.ping_event?.event_id)}}`);
        return;
      case "agent_chat_response_part":
        if (this.turn && this.turn.firstPartAt === undefined) this.turn.firstPartAt = now;
        return;
      case "agent_response": {
        if (!this.greeted) {
          this.greeted = true;
          this.onGreeting?.();
          return;
        }
        const turn = this.turn;
        if (!turn) {
          this.fail("an agent_response nobody asked for");
          return;
        }
        turn.responseAt = now;
        this.turn = undefined;
        if (!frame.agent_response_event?.agent_response?.includes(turn.token))
          this.fail(`the reply to ${turn.token} does not name it`);
        this.onIdle?.();
        return;
      }
    }
  }

  private fail(reason: string): void {
    this.record.failure ??= reason;
    for (const notify of this.onFailure.splice(0)) notify(reason);
    this.onIdle?.();
  }
}

/** Runs the load and returns every session's and every turn's record. */
export async function runLiveLoad(options: LiveLoadOptions): Promise<LiveLoadResult> {
  const turns: TurnRecord[] = [];
  const sessions: LiveSession[] = [];
  const setupStarted = performance.now();
  let next = 0;
  const setupWorker = async () => {
    while (next < options.sessions) {
      const index = (options.firstIndex ?? 0) + next++;
      const session = new LiveSession(index, options.url, options.expectGreeting, turns);
      sessions.push(session);
      await session.ready().catch(() => undefined);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.setupConcurrency, options.sessions) }, setupWorker),
  );
  const lastMetadata = Math.max(...sessions.map((s) => s.record.metadataAt ?? 0));
  const setupSeconds = (lastMetadata - setupStarted) / 1000;
  await Promise.all(sessions.map((session) => session.greeting().catch(() => undefined)));
  options.onPhase?.("setup-done");

  const messagesStarted = performance.now();
  const timers: NodeJS.Timeout[] = [];
  sessions.forEach((session, i) => {
    const offset = (i / sessions.length) * options.intervalMs;
    timers.push(
      setTimeout(() => {
        session.tick();
        timers.push(setInterval(() => session.tick(), options.intervalMs));
      }, offset),
    );
  });
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  for (const timer of timers) clearTimeout(timer);
  await Promise.all(sessions.map((session) => session.idle()));
  const messageSeconds = (performance.now() - messagesStarted) / 1000;
  options.onPhase?.("messages-done");

  await Promise.all(sessions.map((session) => session.close()));
  return { sessions: sessions.map((session) => session.record), turns, setupSeconds, messageSeconds };
}
