/**
 * The voice benchmark's speech providers: a small OpenAI-compatible server, run as its own process
 * (the benchmark starts it twice, once as the recognizer and once as the voice), that answers at once.
 *
 * - `POST …/audio/transcriptions` (a multipart form with the turn as a WAV file): JSON
 *   `{"text": "Bench speech, ref lt-<process>-<n>."}`, a new benchmark token per request, so the
 *   token travels on to the model (bench/live-model-server.ts names it in its reply) and to the
 *   voice, and each provider's own time can be matched to the turn.
 * - `POST …/audio/speech` (`{model, input, voice, response_format}`): raw 24 kHz 16-bit PCM
 *   (a soft tone), 60 ms per character of `input`, in up to three writes.
 *
 * Each records, per token, its own time: from the request's arrival to the last byte handed to the
 * socket (a speech request without a token, the greeting, is counted but not timed).
 *
 *   node --import tsx bench/voice-speech-server.ts   (prints its port on stdout)
 *   GET /timings → {"requests", "invalid", "timings": {"<token>": ms, …}}
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

const TOKEN = /lt-\d+-\d+/g;
/** A turn of at most 60 s at 16 kHz, as a WAV in a form, fits; anything larger is refused. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_INPUT_CHARS = 4096;
const SPEECH_RATE = 24_000;
const MS_PER_CHARACTER = 60;
const WRITES = 3;
/** One second of the voice's tone; longer speech repeats it (a whole number of periods: no click). */
const TONE = (() => {
  const samples = new Int16Array(SPEECH_RATE);
  for (let n = 0; n < samples.length; n++)
    samples[n] = Math.round(4000 * Math.sin((2 * Math.PI * 200 * n) / SPEECH_RATE));
  return Buffer.from(samples.buffer);
})();
/** This process's number in its tokens (its pid: the two instances never hand out the same token). */
const instance = process.pid;

const timings: Record<string, number> = {};
let requests = 0;
let invalid = 0;
let transcriptions = 0;

function fail(response: ServerResponse, status: number, message: string): void {
  invalid += 1;
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify({ error: { message } }));
}

/** Answers a transcription: the body must hold a WAV file (a RIFF/WAVE header). */
function transcribe(body: Buffer, response: ServerResponse, arrived: number): void {
  const riff = body.indexOf("RIFF");
  if (riff < 0 || body.toString("latin1", riff + 8, riff + 12) !== "WAVE") {
    fail(response, 400, "the form holds no WAV file");
    return;
  }
  transcriptions += 1;
  const token = `lt-${instance}-${transcriptions}`;
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify({ text: `Bench speech, ref ${token}.` }));
  timings[token] = performance.now() - arrived;
}

/** Answers a synthesis with raw PCM of a length that fits the text. */
function speak(body: Buffer, response: ServerResponse, arrived: number): void {
  let input = "";
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { input?: unknown };
    input = typeof parsed.input === "string" ? parsed.input : "";
  } catch {
    // refused below
  }
  if (input === "" || input.length > MAX_INPUT_CHARS) {
    fail(response, 400, `send {"input": "…"} of 1 to ${MAX_INPUT_CHARS} characters`);
    return;
  }
  const bytes = Math.round((input.length * MS_PER_CHARACTER * SPEECH_RATE) / 1000) * 2;
  const audio = Buffer.allocUnsafe(bytes);
  for (let at = 0; at < bytes; at += TONE.length) TONE.copy(audio, at, 0, Math.min(TONE.length, bytes - at));
  response.writeHead(200, { "content-type": "audio/pcm", "content-length": String(bytes) });
  const part = Math.ceil(bytes / WRITES / 2) * 2;
  for (let at = 0; at < bytes; at += part) response.write(audio.subarray(at, Math.min(bytes, at + part)));
  response.end();
  const token = input.match(TOKEN)?.at(-1);
  if (token) timings[token] = performance.now() - arrived;
}

function route(request: IncomingMessage, response: ServerResponse, body: Buffer, arrived: number): void {
  requests += 1;
  const url = request.url ?? "";
  if (url.endsWith("/audio/transcriptions")) transcribe(body, response, arrived);
  else if (url.endsWith("/audio/speech")) speak(body, response, arrived);
  else fail(response, 404, "POST …/audio/transcriptions or …/audio/speech");
}

const server = createServer((request, response) => {
  const arrived = performance.now();
  if (request.method === "GET" && request.url === "/timings") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ requests, invalid, timings }));
    return;
  }
  if (request.method !== "POST") {
    fail(response, 404, "POST …/audio/transcriptions or …/audio/speech");
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on("data", (data: Buffer) => {
    size += data.length;
    if (size > MAX_BODY_BYTES) request.destroy();
    else chunks.push(data);
  });
  request.on("end", () => route(request, response, Buffer.concat(chunks), arrived));
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
