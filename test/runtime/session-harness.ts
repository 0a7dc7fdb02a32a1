import { GetConversationResponseModel } from "@elevenlabs/elevenlabs-js/serialization/index.js";
import { checkIncomingDocument } from "../../src/conversations/document-validator.js";
import { InvalidInputError, NotFoundError } from "../../src/domain/errors.js";
import type { Brain, BrainContext, BrainOutput, BrainTurn } from "../../src/runtime/brain.js";
import type { ClientEvent } from "../../src/runtime/client-frames.js";
import type { Clock } from "../../src/runtime/clock.js";
import type { ConversationWriter } from "../../src/runtime/conversation-recorder.js";
import { ConversationSession, type SessionDeps } from "../../src/runtime/conversation-session.js";
import type { ServerFrame } from "../../src/runtime/server-frames.js";

/** A clock that moves only when told to, running the timers that fall due. */
export class ManualClock implements Clock {
  private timers: { at: number; run: () => void }[] = [];
  constructor(private ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
  setTimer(ms: number, run: () => void): () => void {
    const timer = { at: this.ms + ms, run };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }
  /** Moves time forward, running each timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.ms + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.ms = due.at;
      due.run();
    }
    this.ms = until;
  }
}

/** One scripted model response: outputs in order, or a generator that may wait (and sees the abort signal). */
export type Script = BrainOutput[] | ((signal: AbortSignal) => AsyncIterable<BrainOutput>);

/** A brain that answers each `respond` with the next script and keeps what it was asked. */
export class ScriptedBrain implements Brain {
  /** The transcript each `respond` saw, copied. */
  readonly asked: BrainTurn[][] = [];
  readonly contexts: BrainContext[] = [];
  constructor(
    private readonly scripts: Script[],
    private readonly opening = "",
  ) {}
  openingMessage(): string {
    return this.opening;
  }
  async *respond(context: BrainContext, signal: AbortSignal): AsyncIterable<BrainOutput> {
    this.asked.push([...context.transcript]);
    this.contexts.push(context);
    const script = this.scripts.shift() ?? [];
    if (typeof script === "function") yield* script(signal);
    else yield* script;
  }
}

/** Builders of brain outputs: a piece of text, a tool call. */
export const text = (value: string): BrainOutput => ({ type: "text", text: value });
export const toolCall = (
  toolName: string,
  toolCallId: string,
  parameters: Record<string, unknown> = {},
): BrainOutput => ({
  type: "tool_call",
  toolName,
  toolCallId,
  parameters,
});

export const TIMINGS = { pingIntervalMs: 60_000, initiationTimeoutMs: 5_000, greetingDelayMs: 0 };
export const INIT: ClientEvent = {
  type: "conversation_initiation_client_data",
  // Text only: these suites test the text path (a session without it is a voice session).
  conversation_config_override: { conversation: { text_only: true } },
};

type Json = Record<string, unknown>;

/** A session over a recording transport and an in-memory writer, with a scripted brain. */
export function startSession(
  options: {
    conversationConfig?: Json;
    brain?: Brain;
    scripts?: Script[];
    opening?: string;
    /** Makes a write fail while it returns true. */
    writeFails?: () => boolean;
    /** Each write waits for what this returns (to hold writes back); it sees the document written. */
    writeWaits?: (body: Json) => Promise<void>;
    /** Validates each write with the server's write-path check, as the real service does. */
    validate?: boolean;
    /** The agent's platform settings (default none). */
    platformSettings?: Json;
  } & Partial<
    Pick<SessionDeps, "runWebhookTool" | "postCall" | "lifecycle" | "storeRecording" | "speech">
  > = {},
) {
  const clock = new ManualClock();
  const frames: ServerFrame[] = [];
  const closes: { code: number; reason: string }[] = [];
  const written: Json[] = [];
  const errors: unknown[] = [];
  /** The stored document as the fake store holds it; tests change it as another writer would. */
  const store: { doc: Json | undefined; deleted: boolean } = { doc: undefined, deleted: false };
  const check = (body: Json) => {
    if (!options.validate) return;
    const checked = checkIncomingDocument(body, undefined);
    if (!checked.ok) throw new InvalidInputError(checked.issues);
  };
  const writer: ConversationWriter = {
    putConversation: async (input) => {
      // Copied at once, as a real store serializes what it is given before its first await.
      const body = structuredClone(input as Json);
      await options.writeWaits?.(body);
      if (options.writeFails?.()) throw new Error("The store is unavailable");
      check(body);
      written.push(body);
      store.doc = structuredClone(body);
      store.deleted = false;
      return {} as Awaited<ReturnType<ConversationWriter["putConversation"]>>;
    },
    changeConversation: async (conversationId, change) => {
      if (store.deleted || !store.doc) throw new NotFoundError("conversation", conversationId);
      const next = structuredClone(change(structuredClone(store.doc) as never)) as unknown as Json;
      await options.writeWaits?.(next);
      if (options.writeFails?.()) throw new Error("The store is unavailable");
      if (store.deleted) throw new NotFoundError("conversation", conversationId);
      check(next);
      written.push(next);
      store.doc = structuredClone(next);
      return {} as Awaited<ReturnType<ConversationWriter["changeConversation"]>>;
    },
  };
  const brain = options.brain ?? new ScriptedBrain(options.scripts ?? [], options.opening);
  const session = new ConversationSession({
    agent: {
      agentId: "agent_unit",
      name: "Unit",
      conversationConfig: options.conversationConfig ?? {},
      platformSettings: options.platformSettings ?? null,
    },
    brain,
    writer,
    clock,
    timings: TIMINGS,
    transport: {
      send: (frame) => frames.push(frame),
      close: (code, reason) => closes.push({ code, reason }),
    },
    onError: (error) => errors.push(error),
    ...(options.runWebhookTool ? { runWebhookTool: options.runWebhookTool } : {}),
    ...(options.postCall ? { postCall: options.postCall } : {}),
    ...(options.lifecycle ? { lifecycle: options.lifecycle } : {}),
    ...(options.storeRecording ? { storeRecording: options.storeRecording } : {}),
    ...(options.speech ? { speech: options.speech } : {}),
  });
  /** The frames of one type, their payloads. */
  const sent = <T extends ServerFrame["type"]>(type: T) =>
    frames.filter((f): f is Extract<ServerFrame, { type: T }> => f.type === type);
  return {
    session,
    clock,
    frames,
    closes,
    written,
    errors,
    brain,
    sent,
    store,
    last: () => written.at(-1) as Json,
  };
}

/** Lets pending promises run until `check` holds; fails naming `what` when it never does. */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`Never happened: ${what}`);
}

/**
 * Checks a recorded document the way readers do: the server's own write-path validation, and the
 * official SDK's parser of GET /v1/convai/conversations/{id} (with the keys the server adds on read).
 * Returns the SDK's problems and the validator's issues (both empty when the document passes).
 */
export function schemaProblems(doc: Json): unknown[] {
  const read = {
    has_audio: false,
    has_user_audio: false,
    has_response_audio: false,
    has_auxiliary_audio: false,
    ...doc,
  };
  const parsed = GetConversationResponseModel.parse(read, {
    unrecognizedObjectKeys: "passthrough",
    allowUnrecognizedUnionMembers: true,
    allowUnrecognizedEnumValues: true,
  });
  const checked = checkIncomingDocument(doc, undefined);
  return [...(parsed.ok ? [] : parsed.errors), ...(checked.ok ? [] : checked.issues)];
}

/** The recorded transcript of a document. */
export const transcriptOf = (doc: Json) => doc.transcript as Json[];
