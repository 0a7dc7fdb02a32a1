/**
 * The voice scenario's read-back: each measured session's conversation over HTTP, once it is `done`
 * with its recording stored (`has_audio`), and the turn metrics of its agent entries
 * (`conversation_turn_metrics.metrics`, seconds rounded to the millisecond), matched by the
 * benchmark token in the reply to the providers' own times.
 */
import type { LiveServer } from "./live-processes.js";
import type { StoredTurn } from "./voice-report.js";

/** What the read-back found. */
export interface StoredTurns {
  /** Conversations read back `done`. */
  recorded: number;
  /** Of them, with `has_audio`, `has_user_audio` and `has_response_audio` all true. */
  withAudio: number;
  /** The first few conversations that were not as expected. */
  problems: string[];
  /** Agent turns with metrics and all three providers' own times. */
  turns: StoredTurn[];
}

type ProviderTimes = { asr?: number; llm?: number; tts?: number };

interface Entry {
  role?: string;
  message?: string | null;
  conversation_turn_metrics?: { metrics?: Record<string, { elapsed_time?: number }> } | null;
}

interface Details {
  status?: string;
  has_audio?: boolean;
  has_user_audio?: boolean;
  has_response_audio?: boolean;
  transcript?: Entry[];
}

const TOKEN = /lt-\d+-\d+/;
const DEADLINE_MS = 120_000;
const READERS = 8;

/** The stored turn of one agent entry, or undefined when it has no metrics or no matching times. */
function storedTurn(entry: Entry, ownOf: (token: string) => ProviderTimes): StoredTurn | undefined {
  const metrics = entry.conversation_turn_metrics?.metrics;
  const token = TOKEN.exec(entry.message ?? "")?.[0];
  if (entry.role !== "agent" || !metrics || !token) return undefined;
  const ms = (name: string) => (metrics[name]?.elapsed_time ?? Number.NaN) * 1000;
  const own = ownOf(token);
  if (own.asr === undefined || own.llm === undefined || own.tts === undefined) return undefined;
  const turn = {
    token,
    timeToFirstAudio: ms("convai_time_to_first_audio"),
    turnDetection: ms("convai_turn_detection_latency"),
    asr: ms("convai_asr_service_latency"),
    llm: ms("convai_llm_service_ttf_sentence"),
    tts: ms("convai_tts_service_ttfb"),
    own: { asr: own.asr, llm: own.llm, tts: own.tts },
  };
  return Number.isNaN(turn.timeToFirstAudio + turn.turnDetection + turn.asr + turn.llm + turn.tts)
    ? undefined
    : turn;
}

/** Reads the conversations back (waiting for each to be `done` with its audio) and their turns. */
export async function readStoredTurns(
  server: LiveServer,
  ids: string[],
  ownOf: (token: string) => ProviderTimes,
): Promise<StoredTurns> {
  const out: StoredTurns = { recorded: 0, withAudio: 0, problems: [], turns: [] };
  const queue = [...ids];
  const deadline = Date.now() + DEADLINE_MS;
  const reader = async () => {
    for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
      for (;;) {
        const response = await fetch(`${server.url}/v1/convai/conversations/${id}`, {
          headers: { "xi-api-key": server.apiKey },
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await response.json()) as Details;
        const audio =
          body.has_audio === true && body.has_user_audio === true && body.has_response_audio === true;
        if ((body.status === "done" && audio) || body.status === "failed" || Date.now() > deadline) {
          if (body.status === "done") out.recorded += 1;
          if (audio) out.withAudio += 1;
          else if (out.problems.length < 5)
            out.problems.push(
              `${id}: HTTP ${response.status}, status ${body.status}, has_audio ${body.has_audio}`,
            );
          for (const entry of body.transcript ?? []) {
            const turn = storedTurn(entry, ownOf);
            if (turn) out.turns.push(turn);
          }
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
  await Promise.all(Array.from({ length: READERS }, reader));
  return out;
}
