import { createHash } from "node:crypto";
import type { BlobStore } from "../blobs/blob-store.js";
import type { ConversationDoc } from "../domain/conversation.js";
import { buildConversationTrace } from "../domain/trace/conversation-trace.js";
import type { AudioInfo } from "../store/audio-info.js";
import type { OutgoingDelivery } from "../store/outgoing-webhook-store.js";
import type { ConversationStore } from "../store/store.js";

/**
 * A delivery's request body. `bytes`: held whole and sent with Content-Length. `stream`: produced
 * in pieces, never held whole (audio); each `open` is a new pass over the same bytes, one to sign
 * and one to send (with `Transfer-Encoding: chunked`).
 */
export type RequestBody =
  | { kind: "bytes"; bytes: Buffer }
  | { kind: "stream"; open: () => AsyncIterable<Buffer> };

/**
 * What building a body came to: `ready`; `not_ready` (an audio delivery whose recording is not
 * stored yet: tried again later without counting an attempt); `final` (it can never be sent, such
 * as a conversation deleted since: the delivery fails with `error`).
 */
export type BuiltBody =
  | { status: "ready"; body: RequestBody }
  | { status: "not_ready"; reason: string }
  | { status: "final"; error: string };

/** Where bodies are built from. */
export interface DeliveryBodyDeps {
  conversations: ConversationStore;
  blobs: BlobStore;
}

/** A second pass over an audio blob read other bytes than the first (the signature would not match). */
export class AudioChangedError extends Error {
  constructor() {
    super("the conversation's audio changed while it was being sent");
  }
}

/** How often the audio row is read again when its blob vanished (replaced by a newer recording) meanwhile. */
const AUDIO_OPEN_ATTEMPTS = 3;

/** `{"type":…,"event_timestamp":…,"data":` : the envelope up to its data. */
function envelopeHead(delivery: OutgoingDelivery): string {
  return `{"type":${JSON.stringify(delivery.eventType)},"event_timestamp":${Math.trunc(delivery.eventTimestamp)},"data":`;
}

/** The envelope around `data` (JSON bytes), as one buffer. */
function envelope(delivery: OutgoingDelivery, data: Buffer | string): Buffer {
  const head = Buffer.from(envelopeHead(delivery));
  const body = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([head, body, Buffer.from("}")], head.length + body.length + 1);
}

/** The conversation a delivery is about is gone: nothing can be sent for it, ever. */
function gone(conversationId: string): BuiltBody {
  return {
    status: "final",
    error: `conversation ${conversationId} no longer exists (deleted before the webhook was delivered)`,
  };
}

/** The delivery's conversation id, or the reason it has none. */
function conversationOf(delivery: OutgoingDelivery): string | BuiltBody {
  if (delivery.conversationId !== null) return delivery.conversationId;
  return { status: "final", error: `a ${delivery.eventType} delivery names no conversation` };
}

/** `post_call_transcription`: the GET conversation body, with `transcript: []` when it is left out. */
async function transcriptionBody(delivery: OutgoingDelivery, deps: DeliveryBodyDeps): Promise<BuiltBody> {
  const id = conversationOf(delivery);
  if (typeof id !== "string") return id;
  const stored = await deps.conversations.getServedConversationBytes(id);
  if (!stored) return gone(id);
  const served = stored.bytes;
  if (!delivery.excludeTranscript) {
    return { status: "ready", body: { kind: "bytes", bytes: envelope(delivery, served) } };
  }
  // The key stays where it is (and required, so receivers can still parse data as a GET body).
  const doc = JSON.parse(served.toString("utf8")) as ConversationDoc;
  doc.transcript = [];
  return { status: "ready", body: { kind: "bytes", bytes: envelope(delivery, JSON.stringify(doc)) } };
}

/** `post_call_transcription_otel`: the OTLP JSON trace that GET `?format=opentelemetry` serves in `otlp_traces`. */
async function otelBody(delivery: OutgoingDelivery, deps: DeliveryBodyDeps): Promise<BuiltBody> {
  const id = conversationOf(delivery);
  if (typeof id !== "string") return id;
  const stored = await deps.conversations.getConversation(id);
  if (!stored) return gone(id);
  const trace = buildConversationTrace(JSON.parse(stored.json) as ConversationDoc);
  return { status: "ready", body: { kind: "bytes", bytes: envelope(delivery, JSON.stringify(trace)) } };
}

/** `call_initiation_failure`: the payload stored when it was queued, as it is. */
function failureBody(delivery: OutgoingDelivery): BuiltBody {
  if (delivery.payload === null) {
    return { status: "final", error: "a call_initiation_failure delivery has no stored payload" };
  }
  return { status: "ready", body: { kind: "bytes", bytes: envelope(delivery, delivery.payload) } };
}

/** Base64 of a byte stream, in pieces cut at multiples of 3 bytes (so the pieces join into one base64 text). */
async function* encodeBase64(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    const bytes = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    const whole = bytes.length - (bytes.length % 3);
    if (whole > 0) yield Buffer.from(bytes.subarray(0, whole).toString("base64"), "latin1");
    rest = Buffer.from(bytes.subarray(whole));
  }
  if (rest.length > 0) yield Buffer.from(rest.toString("base64"), "latin1");
}

/** What a pass over an audio blob read: compared between the signing pass and the sending one. */
interface PassDigest {
  size: number;
  sha256: string;
}

/** The raw blob bytes of one pass, measured as they go by; `done` gets the measure at the end. */
async function* measured(
  source: AsyncIterable<Buffer>,
  done: (digest: PassDigest) => void,
): AsyncGenerator<Buffer> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    size += chunk.length;
    yield chunk;
  }
  done({ size, sha256: hash.digest("hex") });
}

/**
 * The audio envelope as a stream over the blob: the head, the base64 of the recording, the tail.
 * The tail goes out only once the pass has read the same bytes as the first one (the signed ones),
 * so a receiver never gets a whole body that its signature does not cover.
 */
function audioStream(head: Buffer, blobs: BlobStore, blobKey: string): RequestBody {
  let first: PassDigest | undefined;
  async function* pass(): AsyncGenerator<Buffer> {
    const blob = await blobs.get(blobKey);
    if (!blob) throw new Error("the conversation's audio is missing from the blob store");
    let digest: PassDigest | undefined;
    yield head;
    yield* encodeBase64(
      measured(blob, (d) => {
        digest = d;
      }),
    );
    if (first === undefined) first = digest;
    else if (digest?.size !== first.size || digest.sha256 !== first.sha256) throw new AudioChangedError();
    yield Buffer.from('"}}');
  }
  return { kind: "stream", open: pass };
}

/** Reads the audio row until its blob is there (a newer recording may replace it, and delete it, meanwhile). */
async function findAudio(
  id: string,
  deps: DeliveryBodyDeps,
): Promise<{ bytes: Buffer; audio: AudioInfo | null } | "gone" | "missing"> {
  for (let attempt = 1; attempt <= AUDIO_OPEN_ATTEMPTS; attempt++) {
    const stored = await deps.conversations.getServedConversationBytes(id);
    if (!stored) return "gone";
    if (!stored.audio || (await deps.blobs.size(stored.audio.blobKey)) !== undefined) return stored;
  }
  return "missing";
}

/** `post_call_audio`: `{"agent_id","conversation_id","full_audio"}`, the recording in base64, streamed. */
async function audioBody(delivery: OutgoingDelivery, deps: DeliveryBodyDeps): Promise<BuiltBody> {
  const id = conversationOf(delivery);
  if (typeof id !== "string") return id;
  const stored = await findAudio(id, deps);
  if (stored === "gone") return gone(id);
  if (stored === "missing") {
    return { status: "final", error: `the audio of conversation ${id} is missing from the blob store` };
  }
  if (!stored.audio) return { status: "not_ready", reason: "the conversation has no audio yet" };
  const agentId =
    delivery.agentId ??
    (JSON.parse(stored.bytes.toString("utf8")) as { agent_id?: unknown }).agent_id ??
    null;
  const head = Buffer.from(
    `${envelopeHead(delivery)}{"agent_id":${JSON.stringify(agentId)},"conversation_id":${JSON.stringify(id)},"full_audio":"`,
  );
  return { status: "ready", body: audioStream(head, deps.blobs, stored.audio.blobKey) };
}

/**
 * Builds a delivery's body from what is stored now: the envelope `{"type","event_timestamp","data"}`
 * with the event's data. Rebuilt at each attempt, so it always carries the conversation as it is.
 */
export async function buildDeliveryBody(
  delivery: OutgoingDelivery,
  deps: DeliveryBodyDeps,
): Promise<BuiltBody> {
  switch (delivery.eventType) {
    case "post_call_transcription":
      return transcriptionBody(delivery, deps);
    case "post_call_transcription_otel":
      return otelBody(delivery, deps);
    case "post_call_audio":
      return audioBody(delivery, deps);
    case "call_initiation_failure":
      return failureBody(delivery);
  }
}
