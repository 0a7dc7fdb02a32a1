/**
 * One voice call of the official browser client, for the browser voice suites: the fake
 * microphone's script (two bursts of "speech", the second one spoken over the agent's reply),
 * the call driven on the page (connect, hear the reply, interrupt it, end), and the stored
 * recording read back and measured.
 */
import type { Page } from "playwright-core";
import { rms } from "../../recording/signals.js";
import { decodeCallMp3 } from "../../support/call-recording-fixture.js";
import type { TestServer } from "../../support/test-server.js";
import { type ClientPageGlobals, type PageEvent, readPageEvents, waitForPageEvent } from "./client-page.js";
import type { FakeMicSegment } from "./fake-mic.js";

/** How long each burst of the mic script lasts, in seconds. */
export const BURST_SECONDS = 0.8;
/** The quiet between the script's two bursts, in seconds. */
export const GAP_SECONDS = 1.1;

/** One burst of "speech": 800 ms in four 200 ms steps of pitch and level, so no steady tone. */
function burst(base: number): FakeMicSegment[] {
  return [
    { hz: base, ms: 200, level: 0.5 },
    { hz: base * 1.2, ms: 200, level: 0.42 },
    { hz: base * 0.9, ms: 200, level: 0.55 },
    { hz: base * 1.1, ms: 200, level: 0.45 },
  ];
}

/**
 * The microphone's loop (6.5 s): 1.5 s of quiet while the greeting plays; the user's turn (800 ms);
 * 1.1 s of quiet, which ends the turn (the agent is `eager`: 500 ms) and lets the reply start
 * playing; then a second burst over the reply, which interrupts it; then quiet. Chromium loops the
 * file, so later bursts make later turns; the tests end the call before those matter.
 */
export const VOICE_MIC_SCRIPT: readonly FakeMicSegment[] = [
  { hz: 0, ms: 1500 },
  ...burst(900),
  { hz: 0, ms: GAP_SECONDS * 1000 },
  ...burst(700),
  { hz: 0, ms: 2300 },
];

/** How long the steps of a call may take on a busy machine before the test fails. */
const STEP_MS = 15_000;

/** How the client describes a format (`{format: "pcm", sampleRate: 16000}`). */
interface FormatConfig {
  format: string;
  sampleRate: number;
}

type Of<K extends PageEvent["kind"]> = Extract<PageEvent, { kind: K }>;

/** What the page saw of a call. */
export interface BrowserVoiceCall {
  conversationId: string;
  /** The formats the client's connection uses, e.g. `pcm_16000` (from the server's metadata). */
  inputFormat: string;
  outputFormat: string;
  events: PageEvent[];
  audioChunks: number;
  /** When the client reported the connection and the disconnection (the page's clock, ms). */
  connectedAt: number;
  endedAt: number;
}

/**
 * Starts a voice session on the page over the WebSocket (agentId + origin), waits for the user's
 * first transcript, an interruption and its correction, then ends the session and waits for the
 * disconnect.
 */
export async function runBrowserVoiceCall(
  page: Page,
  origin: string,
  agentId: string,
): Promise<BrowserVoiceCall> {
  const {
    id: conversationId,
    inputFormat,
    outputFormat,
  } = await page.evaluate(
    async ({ origin, agentId }) => {
      const w = globalThis as unknown as ClientPageGlobals;
      const conversation = await w.ElevenLabsClient.Conversation.startSession({
        origin,
        agentId,
        connectionType: "websocket",
        ...w.__recordingCallbacks(),
      });
      w.__conversation = conversation;
      // The formats the client took from conversation_initiation_metadata (its connection reads
      // that frame itself, before any callback is set, so onConversationMetadata never sees it).
      const connection = (conversation as unknown as { connection: Record<string, FormatConfig> }).connection;
      const format = (f: FormatConfig | undefined) => (f ? `${f.format}_${f.sampleRate}` : "none");
      return {
        id: conversation.getId(),
        inputFormat: format(connection?.inputFormat),
        outputFormat: format(connection?.outputFormat),
      };
    },
    { origin, agentId },
  );
  const { at: connectedAt } = await waitForPageEvent<Of<"connect">>(page, {
    kind: "connect",
    conversationId,
  });
  await waitForPageEvent<Of<"message">>(page, { kind: "message", role: "user" }, STEP_MS);
  await waitForPageEvent<Of<"interruption">>(page, { kind: "interruption" }, STEP_MS);
  await waitForPageEvent<Of<"correction">>(page, { kind: "correction" }, STEP_MS);
  await page.evaluate(() => (globalThis as unknown as ClientPageGlobals).__conversation?.endSession());
  const { at: endedAt } = await waitForPageEvent<Of<"disconnect">>(page, { kind: "disconnect" });
  const events = await readPageEvents(page);
  const audioChunks = await page.evaluate(() => (globalThis as unknown as ClientPageGlobals).__audioChunks);
  return { conversationId, inputFormat, outputFormat, events, audioChunks, connectedAt, endedAt };
}

/** The events of one kind, in order. */
export function eventsOf<K extends PageEvent["kind"]>(events: PageEvent[], kind: K): Of<K>[] {
  return events.filter((event): event is Of<K> => event.kind === kind);
}

/** Whether the mode went to "speaking" and, some time after, back to "listening". */
export function spokeThenListened(events: PageEvent[]): boolean {
  const modes = eventsOf(events, "mode").map((event) => event.mode);
  const speaking = modes.indexOf("speaking");
  return speaking >= 0 && modes.indexOf("listening", speaking + 1) > speaking;
}

/** A stored recording, decoded: mono samples on the call's timeline. */
export interface DecodedRecording {
  samples: Float32Array;
  sampleRate: number;
  seconds: number;
  /** The RMS level (0..1 of full scale) between two times of the call, in seconds. */
  level(fromSec: number, toSec: number): number;
}

/** GETs `/v1/convai/conversations/{id}/audio` (with `?track=` when given) and decodes the MP3. */
export async function readRecording(
  server: TestServer,
  conversationId: string,
  track?: "user" | "agent",
): Promise<DecodedRecording> {
  const query = track ? `?track=${track}` : "";
  const response = await server.fetch(`/v1/convai/conversations/${conversationId}/audio${query}`);
  if (response.status !== 200)
    throw new Error(`GET …/audio${query} answered ${response.status}: ${await response.text()}`);
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("audio/mpeg")) throw new Error(`GET …/audio${query} served ${type}, not audio/mpeg`);
  const { samples, sampleRate } = await decodeCallMp3(new Uint8Array(await response.arrayBuffer()));
  return {
    samples,
    sampleRate,
    seconds: samples.length / sampleRate,
    level: (fromSec, toSec) => rms(samples, sampleRate, fromSec, toSec),
  };
}

/** A stored transcript entry, as the HTTP API gives it (snake case). */
export interface StoredTurn {
  role: string;
  message: string | null;
  original_message?: string | null;
  interrupted?: boolean;
  time_in_call_secs: number;
  conversation_turn_metrics?: { metrics?: Record<string, { elapsed_time: number }> } | null;
}

/** GETs the conversation as JSON, as the HTTP API gives it. */
export async function readStoredConversation(
  server: TestServer,
  conversationId: string,
): Promise<{ transcript: StoredTurn[]; metadata: Record<string, unknown> } & Record<string, unknown>> {
  const response = await server.fetch(`/v1/convai/conversations/${conversationId}`);
  return (await response.json()) as { transcript: StoredTurn[]; metadata: Record<string, unknown> };
}

/** A turn's metric in seconds (undefined when the turn has none of that name). */
export function metric(turn: StoredTurn | undefined, name: string): number | undefined {
  return turn?.conversation_turn_metrics?.metrics?.[name]?.elapsed_time;
}
