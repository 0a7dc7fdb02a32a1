/**
 * A small local OpenAI-compatible speech server for tests: `POST /v1/audio/transcriptions`
 * (multipart, parsed here so tests can check every field and the uploaded file's bytes) and
 * `POST /v1/audio/speech` (JSON; answers a tone as raw 16-bit PCM, or WAV, in chunks). What it
 * answers is scripted per request; failure modes: an HTTP error, a hang, a dropped connection,
 * a malformed body.
 *
 * ```ts
 * const speech = await startFakeSpeechServer();
 * speech.setTranscription(() => ({ text: " Hello.", format: "verbose_json", language: "english" }));
 * speech.setSpeech(() => ({ msPerCharacter: 10, chunkBytes: 4801, chunkDelayMs: 5 }));
 * speech.transcriptions; // [{ fields: { model, language, response_format }, file: { filename, contentType, bytes }, authorization }]
 * speech.speeches;       // [{ body: { model, input, voice, response_format }, authorization, sent: Buffer }]
 * await speech.close();
 * ```
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** A file part of a multipart form. */
export interface UploadedFile {
  filename: string | undefined;
  contentType: string | undefined;
  bytes: Buffer;
}

/**
 * Parses a `multipart/form-data` body (RFC 7578): the parts between `--boundary` lines, each
 * with its headers; a part with a `filename` is a file, the others text fields.
 */
export function parseMultipart(
  body: Buffer,
  contentType: string,
): { fields: Record<string, string>; files: Record<string, UploadedFile> } {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!/^multipart\/form-data/i.test(contentType) || !boundary) {
    throw new Error(`not a multipart/form-data body: ${contentType}`);
  }
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const fields: Record<string, string> = {};
  const files: Record<string, UploadedFile> = {};
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new Error("multipart body without its closing boundary");
    // A part is CRLF, headers, CRLF CRLF, content, CRLF (before the next delimiter).
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, split).toString("utf8");
    const content = part.subarray(split + 4);
    const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(headers)?.[1];
    const filename = /content-disposition:[^\r\n]*;\s*filename="([^"]*)"/i.exec(headers)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim();
    if (name === undefined) throw new Error(`multipart part without a name: ${headers}`);
    if (filename !== undefined || type !== undefined) {
      files[name] = { filename, contentType: type, bytes: Buffer.from(content) };
    } else fields[name] = content.toString("utf8");
    at = next;
  }
  return { fields, files };
}

/** One transcription request, as received. */
export interface RecordedTranscription {
  /** The text fields of the form (`model`, `language`, `response_format`…). */
  fields: Record<string, string>;
  /** The `file` part; undefined when the form had none. */
  file: UploadedFile | undefined;
  authorization: string | undefined;
  contentType: string | undefined;
}

/** One speech request, as received, and the audio bytes answered so far. */
export interface RecordedSpeech {
  body: Record<string, unknown>;
  authorization: string | undefined;
  /** The bytes of the answer written (headers of a WAV included). */
  sent: Buffer;
  /** Whether the whole answer was written. */
  finished: boolean;
}

/** Failure modes both endpoints share. */
interface FailureScript {
  /** Answer this HTTP status with an OpenAI error body (`{error: {message}}`). */
  status?: number;
  errorMessage?: string;
  /** Wait before the status line. */
  delayMs?: number;
  /** Never answer (until the client gives up or the server closes). */
  hang?: boolean;
  /** Destroy the connection without an answer. */
  drop?: boolean;
  /** Answer 200 with this body and content type instead. */
  raw?: { body: string | Buffer; contentType: string };
}

/** What the fake answers to one transcription. */
export interface FakeTranscriptionScript extends FailureScript {
  text?: string;
  /** `json` (default): `{text}`; `verbose_json`: with `language`, `duration` and a segment; `text`: text/plain. */
  format?: "json" | "verbose_json" | "text";
  language?: string;
  durationSeconds?: number;
  /** Send the status line, then hang before the body. */
  hangAfterHeaders?: boolean;
}

/** What the fake answers to one speech request. */
export interface FakeSpeechScript extends FailureScript {
  /** Milliseconds of tone per input character (default 20). */
  msPerCharacter?: number;
  /** The tone's rate (default 24000). */
  sampleRate?: number;
  /** Answer a WAV file (RIFF header with `sampleRate`) instead of raw PCM. */
  wav?: boolean;
  /** Bytes per written chunk (default 4800; odd sizes split samples). */
  chunkBytes?: number;
  /** Wait between chunks. */
  chunkDelayMs?: number;
  /** Send the status line, then wait this long before the first audio byte. */
  firstByteDelayMs?: number;
  /** Destroy the connection after this many bytes of the answer. */
  dropAfterBytes?: number;
}

/** A running fake speech server. */
export interface FakeSpeechServer {
  /** The base URL, ending in `/v1`. */
  url: string;
  transcriptions: RecordedTranscription[];
  speeches: RecordedSpeech[];
  /** How many answers the client closed before their end. */
  disconnects: () => number;
  setTranscription(reply: (request: RecordedTranscription) => FakeTranscriptionScript): void;
  setSpeech(reply: (request: RecordedSpeech) => FakeSpeechScript): void;
  close(): Promise<void>;
}

/** The audio the fake answers for `input`: a 440 Hz tone, `msPerCharacter` a character, 16-bit LE mono. */
export function renderTone(input: string, script: FakeSpeechScript = {}): Buffer {
  const rate = script.sampleRate ?? 24_000;
  const count = Math.round((input.length * (script.msPerCharacter ?? 20) * rate) / 1000);
  const pcm = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  }
  return pcm;
}

/** A 44-byte WAV header for 16-bit mono PCM; `dataBytes` 0xFFFFFFFF is what streaming servers write. */
export function wavHeader(sampleRate: number, dataBytes: number): Buffer {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(dataBytes === 0xffffffff ? 0xffffffff : 36 + dataBytes, 4);
  header.write("WAVEfmt ", 8, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** A minimal check that bytes are a RIFF/WAVE file with a `fmt ` chunk first (what the tests need, not a parser). */
export function isRiffWave(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes.subarray(0, 16)).toString("latin1");
  return bytes.byteLength >= 44 && text.startsWith("RIFF") && text.slice(8, 16) === "WAVEfmt ";
}

/** Waits `ms`, or less when the response closes first (so a closed server leaves no timers behind). */
function wait(ms: number, response: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      response.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    response.on("close", done);
  });
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Answers a failure mode when the script names one; true when it did (or the client left). */
async function answerFailure(script: FailureScript, response: ServerResponse): Promise<boolean> {
  if (script.delayMs) await wait(script.delayMs, response);
  if (response.destroyed) return true;
  if (script.hang) return true;
  if (script.drop) {
    response.socket?.destroy();
    return true;
  }
  if (script.status !== undefined) {
    response.writeHead(script.status, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { message: script.errorMessage ?? "fake provider error" } }));
    return true;
  }
  if (script.raw) {
    response.writeHead(200, { "content-type": script.raw.contentType });
    response.end(script.raw.body);
    return true;
  }
  return false;
}

async function answerTranscription(script: FakeTranscriptionScript, response: ServerResponse): Promise<void> {
  if (await answerFailure(script, response)) return;
  const text = script.text ?? "Hello there.";
  if (script.format === "text") {
    response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    response.end(text);
    return;
  }
  const body =
    script.format === "verbose_json"
      ? {
          task: "transcribe",
          language: script.language ?? "english",
          duration: script.durationSeconds ?? 1.5,
          text,
          segments: [{ id: 0, start: 0, end: script.durationSeconds ?? 1.5, text }],
        }
      : { text };
  response.writeHead(200, { "content-type": "application/json" });
  if (script.hangAfterHeaders) {
    response.flushHeaders();
    return;
  }
  response.end(JSON.stringify(body));
}

async function answerSpeech(
  script: FakeSpeechScript,
  record: RecordedSpeech,
  response: ServerResponse,
): Promise<void> {
  if (await answerFailure(script, response)) return;
  const pcm = renderTone(String(record.body.input ?? ""), script);
  const rate = script.sampleRate ?? 24_000;
  const audio = script.wav ? Buffer.concat([wavHeader(rate, 0xffffffff), pcm]) : pcm;
  response.writeHead(200, { "content-type": script.wav ? "audio/wav" : "audio/pcm" });
  response.flushHeaders();
  if (script.firstByteDelayMs) await wait(script.firstByteDelayMs, response);
  const size = script.chunkBytes ?? 4800;
  for (let at = 0; at < audio.length; at += size) {
    if (at > 0 && script.chunkDelayMs) await wait(script.chunkDelayMs, response);
    if (response.destroyed) return;
    let chunk = audio.subarray(at, at + size);
    const drop = script.dropAfterBytes !== undefined && at + chunk.length >= script.dropAfterBytes;
    if (drop) chunk = chunk.subarray(0, (script.dropAfterBytes ?? 0) - at);
    record.sent = Buffer.concat([record.sent, chunk]);
    if (chunk.length > 0) response.write(chunk);
    if (drop) {
      // Let the bytes leave before the connection goes.
      await wait(20, response);
      response.socket?.destroy();
      return;
    }
  }
  record.finished = true;
  response.end();
}

/** Starts the fake on a free port of 127.0.0.1 (default answers: "Hello there." and a tone). */
export async function startFakeSpeechServer(): Promise<FakeSpeechServer> {
  let transcription: (request: RecordedTranscription) => FakeTranscriptionScript = () => ({});
  let speech: (request: RecordedSpeech) => FakeSpeechScript = () => ({});
  let disconnects = 0;
  const transcriptions: RecordedTranscription[] = [];
  const speeches: RecordedSpeech[] = [];
  const server: Server = createServer((request, response) => {
    response.on("close", () => {
      if (!response.writableFinished) disconnects += 1;
    });
    void (async () => {
      const body = await readBody(request);
      const authorization = request.headers.authorization;
      if (request.method === "POST" && request.url === "/v1/audio/transcriptions") {
        const contentType = request.headers["content-type"];
        const form = parseMultipart(body, contentType ?? "");
        const record = { fields: form.fields, file: form.files.file, authorization, contentType };
        transcriptions.push(record);
        await answerTranscription(transcription(record), response);
      } else if (request.method === "POST" && request.url === "/v1/audio/speech") {
        const parsed = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
        const record: RecordedSpeech = {
          body: parsed,
          authorization,
          sent: Buffer.alloc(0),
          finished: false,
        };
        speeches.push(record);
        await answerSpeech(speech(record), record, response);
      } else {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: `no route ${request.method} ${request.url}` } }));
      }
    })().catch((error: unknown) => {
      if (response.headersSent) return void response.destroy();
      response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: `fake server failed: ${(error as Error).message}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    transcriptions,
    speeches,
    disconnects: () => disconnects,
    setTranscription: (reply) => {
      transcription = reply;
    },
    setSpeech: (reply) => {
      speech = reply;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
