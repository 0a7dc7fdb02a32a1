/**
 * One voice session of the benchmark's client over a raw `ws` socket: set up, stream its
 * microphone by its own timeline (a tick sends the chunks due), speak the bursts it is given, and
 * time what comes back (see bench/voice-client.ts for what is measured).
 */
import { WebSocket } from "ws";
import { audioMsOfBase64, CHUNK_MS, type VoiceAudio } from "./voice-audio.js";
import type { ReplyAudio, VoiceLoadOptions, VoiceSessionRecord, VoiceTurnRecord } from "./voice-records.js";

const INIT_FRAME = JSON.stringify({
  type: "conversation_initiation_client_data",
  conversation_config_override: {},
  source_info: { source: "js_sdk", version: "bench" },
});
const SETUP_TIMEOUT_MS = 20_000;
const DRAIN_TIMEOUT_MS = 15_000;
const TOKEN = /lt-\d+-\d+/;

interface ServerFrame {
  type?: string;
  conversation_initiation_metadata_event?: {
    conversation_id?: string;
    user_input_audio_format?: string;
    agent_output_audio_format?: string;
  };
  ping_event?: { event_id?: number };
  user_transcription_event?: { user_transcript?: string };
  audio_event?: { audio_base_64?: string; event_id?: number };
  agent_response_event?: { agent_response?: string };
}

/** One client session over a raw socket. */
export class VoiceSession {
  readonly record: VoiceSessionRecord;
  private readonly socket: WebSocket;
  private readonly started = performance.now();
  /** When the stream started (chunk n is due at streamAt + 32 n); undefined until the metadata. */
  private streamAt: number | undefined;
  private sent = 0;
  /** Chunk numbers of this session's bursts (each starts one). */
  private nextBurst = Number.POSITIVE_INFINITY;
  private burstEndsAt = Number.POSITIVE_INFINITY;
  private decisionChunk = -1;
  private current: VoiceTurnRecord | undefined;
  private readonly pending: VoiceTurnRecord[] = [];
  private reply: ReplyAudio | undefined;
  private greeted = false;
  private closing = false;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  readonly closed: Promise<void>;

  constructor(
    readonly index: number,
    url: string,
    private readonly audio: VoiceAudio,
    private readonly options: VoiceLoadOptions,
    private readonly turns: VoiceTurnRecord[],
    private readonly replies: ReplyAudio[],
  ) {
    this.record = { index, pongs: 0, vadScores: 0, interruptions: 0, chunksSent: 0, earlyDecisions: 0 };
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

  /** Resolves when `test` holds, the session fails, or the timeout passes (then it fails). */
  until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (test() || this.record.failure) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.fail(`${what} did not happen within ${timeoutMs} ms`);
      }, timeoutMs);
      this.waiters.push({
        test: () => test() || this.record.failure !== undefined,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  ready = () => this.until(() => this.streamAt !== undefined, SETUP_TIMEOUT_MS, "the metadata");
  greeting = () => this.until(() => this.greeted, SETUP_TIMEOUT_MS, "the greeting");
  /** Every turn answered (its agent_response) and the last reply's audio arrived. */
  idle = () => this.until(() => this.pending.length === 0 && !this.current, DRAIN_TIMEOUT_MS, "a reply");

  /** Schedules the bursts: the first at `firstAt`, then every period while before `endAt`. */
  talk(firstAt: number, endAt: number): void {
    if (this.streamAt === undefined) return;
    this.nextBurst = Math.ceil((firstAt - this.streamAt) / CHUNK_MS);
    this.burstEndsAt = Math.ceil((endAt - this.streamAt) / CHUNK_MS);
  }

  /** Sends the chunks due by `now`. */
  tick(now: number): void {
    if (this.streamAt === undefined || this.record.failure || this.closing) return;
    if (this.socket.readyState !== WebSocket.OPEN) return;
    const due = Math.floor((now - this.streamAt) / CHUNK_MS) + 1;
    const { burst } = this.audio;
    const period = Math.round(this.options.periodMs / CHUNK_MS);
    for (; this.sent < due; this.sent++) {
      const n = this.sent;
      const inBurst = n >= this.nextBurst && n < this.nextBurst + burst.length;
      this.socket.send(inBurst ? (burst[n - this.nextBurst] as Buffer) : this.audio.silence, {
        binary: false,
      });
      this.record.chunksSent += 1;
      const at = performance.now();
      if (n === this.nextBurst) {
        this.current = { session: this.index, burstStartAt: at, burstEndAt: at };
        this.turns.push(this.current);
      }
      if (inBurst && this.current) this.current.burstEndAt = at;
      if (n === this.nextBurst + burst.length - 1) {
        this.decisionChunk = n + Math.ceil(this.options.silenceWindowMs / CHUNK_MS);
        const next = this.nextBurst + period;
        this.nextBurst = next < this.burstEndsAt ? next : Number.POSITIVE_INFINITY;
      }
      if (n === this.decisionChunk && this.current) {
        this.current.decisionSentAt = at;
        this.pending.push(this.current);
        this.current = undefined;
      }
    }
  }

  close(): Promise<void> {
    this.closing = true;
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000, "bench done");
    else if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    return this.closed;
  }

  private receive(text: string): void {
    const now = performance.now();
    if (text.startsWith('{"type":"vad_score"')) {
      this.record.vadScores += 1;
      return;
    }
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      this.fail("a frame that is not JSON");
      return;
    }
    switch (frame.type) {
      case "conversation_initiation_metadata": {
        const m = frame.conversation_initiation_metadata_event;
        this.record.conversationId = m?.conversation_id;
        this.record.setupMs = now - this.started;
        if (m?.user_input_audio_format !== "pcm_16000" || m?.agent_output_audio_format !== "pcm_16000")
          this.fail(`formats ${m?.user_input_audio_format}/${m?.agent_output_audio_format}, not pcm_16000`);
        else this.streamAt = now;
        break;
      }
      case "vad_score":
        this.record.vadScores += 1;
        return;
      case "ping":
        this.record.pongs += 1;
        this.socket.send(`{"type":"pong","event_id":${Number(frame.ping_event?.event_id)}}`);
        return;
      case "user_transcript": {
        if (this.current && !this.pending.some((t) => t.token === undefined)) {
          // the server ended the turn before the chunk the client expected to end it
          this.record.earlyDecisions += 1;
          this.pending.push(this.current);
          this.current = undefined;
        }
        const turn = this.pending.find((t) => t.token === undefined);
        const token = TOKEN.exec(String(frame.user_transcription_event?.user_transcript))?.[0];
        if (!turn || !token) this.fail("a user_transcript for no turn, or without a token");
        else {
          turn.token = token;
          turn.transcriptAt = now;
        }
        break;
      }
      case "audio":
        this.audioEvent(frame.audio_event, now);
        break;
      case "interruption":
        this.record.interruptions += 1;
        break;
      case "agent_response":
        this.agentResponse(String(frame.agent_response_event?.agent_response), now);
        break;
    }
    this.wake();
  }

  private audioEvent(event: ServerFrame["audio_event"], now: number): void {
    const eventId = Number(event?.event_id);
    const ms = audioMsOfBase64(String(event?.audio_base_64 ?? ""));
    if (this.reply?.eventId !== eventId) {
      const greeting = !this.greeted;
      this.reply = {
        session: this.index,
        greeting,
        eventId,
        events: 0,
        audioMs: 0,
        firstAt: now,
        lateMs: [],
      };
      this.replies.push(this.reply);
      const turn = this.pending.find((t) => t.token !== undefined && t.firstAudioAt === undefined);
      if (!greeting && turn) turn.firstAudioAt = now;
    }
    const reply = this.reply;
    reply.lateMs.push(Math.max(0, now - (reply.firstAt + reply.audioMs)));
    reply.events += 1;
    reply.audioMs += ms;
  }

  private agentResponse(text: string, now: number): void {
    if (!this.greeted) {
      this.greeted = true;
      return;
    }
    const turn = this.pending.shift();
    if (!turn) {
      this.fail("an agent_response nobody asked for");
      return;
    }
    turn.responseAt = now;
    if (!turn.token || !text.includes(turn.token)) this.fail(`the reply to ${turn.token} does not name it`);
  }

  private wake(): void {
    for (const waiter of this.waiters.filter((w) => w.test())) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private fail(reason: string): void {
    this.record.failure ??= reason;
    this.wake();
  }
}
