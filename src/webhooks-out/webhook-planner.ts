/**
 * Which post-call webhooks a conversation queues: the workspace's ConvAI settings (`webhooks`),
 * with the agent's `platform_settings.workspace_overrides.webhooks` winning field by field, pick
 * the webhooks (`post_call_webhook_id` and the `post_call_webhook_ids` extension) and the events;
 * each event becomes one delivery per webhook. The conversation write queues what is planned here
 * in its own transaction; a failed call start is queued here directly.
 */
import { randomUUID } from "node:crypto";
import { isJsonObject } from "../agents/agent-document.js";
import type { WebhooksOutConfig } from "../config/webhooks-out-config.js";
import type {
  ConversationRef,
  InitiationFailure,
  InitiationFailureReporter,
  PostCallWebhooks,
  WebhookOrigin,
} from "../conversations/post-call-webhooks.js";
import type { AgentStore } from "../store/agent-store.js";
import type {
  NewOutgoingDelivery,
  OutgoingEventType,
  OutgoingWebhookStore,
  WorkspaceWebhook,
} from "../store/outgoing-webhook-store.js";

/** How long the settings, the webhooks and an agent's overrides are reused (an import batch reads them once). */
const CACHE_MS = 1000;

/** The most agents whose overrides are held at once (beyond it the cache starts over). */
const MAX_CACHED_AGENTS = 1000;

/** `call_initiation_failure` reports queued per agent and reason a minute, per node (the rest are dropped and counted). */
export const FAILURE_REPORTS_PER_MINUTE = 20;
/** And in all, per node. */
export const MAX_FAILURE_REPORTS_PER_MINUTE = 200;

/** At most `perKey` events a key and `total` in all in any minute (fixed one-minute windows). */
class MinuteRate {
  private windowStart = 0;
  private total = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly perKey: number,
    private readonly max: number,
  ) {}

  admit(key: string, nowMs: number): boolean {
    if (nowMs - this.windowStart >= 60_000) {
      this.windowStart = nowMs;
      this.total = 0;
      this.counts.clear();
    }
    const count = this.counts.get(key) ?? 0;
    if (count >= this.perKey || this.total >= this.max) return false;
    this.counts.set(key, count + 1);
    this.total += 1;
    return true;
  }
}

/** Where the planner reports a failure: pino's shape (a context object first, then a message). */
export interface PlannerLog {
  warn(context: object, message: string): void;
}

/** What the planner uses. */
export interface WebhookPlannerDeps {
  store: OutgoingWebhookStore;
  agents: AgentStore;
  config: Pick<WebhooksOutConfig, "relay" | "retryScheduleMs">;
  now?: () => number;
  /** Wakes the delivery loop (a failure report queued deliveries). */
  notify?: () => void;
  logger?: PlannerLog;
}

/** The post-call webhook settings that apply to one agent's conversations. */
export interface EffectiveWebhookSettings {
  /** The webhooks named (`post_call_webhook_id` first, then the extension list), each once. */
  webhookIds: string[];
  /** The events sent; without `events`, `transcript` (and `audio` when `send_audio`). */
  events: ReadonlySet<string>;
  transcriptFormat: "json" | "opentelemetry";
  /** JSON transcription webhooks leave the turns out. */
  excludeTranscript: boolean;
}

/** The ids a `webhooks` settings object names: `post_call_webhook_id` and the `post_call_webhook_ids` extension. */
export function namedWebhookIds(webhooks: unknown): string[] {
  if (!isJsonObject(webhooks)) return [];
  const ids: string[] = [];
  if (typeof webhooks.post_call_webhook_id === "string") ids.push(webhooks.post_call_webhook_id);
  if (Array.isArray(webhooks.post_call_webhook_ids)) {
    for (const id of webhooks.post_call_webhook_ids) if (typeof id === "string") ids.push(id);
  }
  return [...new Set(ids)];
}

/** An agent's `platform_settings.workspace_overrides.webhooks`, from its stored JSON; undefined if it has none. */
export function agentWebhookOverrides(agentJson: string): Record<string, unknown> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(agentJson);
  } catch {
    return undefined;
  }
  const platform = isJsonObject(doc) ? doc.platform_settings : undefined;
  const overrides = isJsonObject(platform) ? platform.workspace_overrides : undefined;
  const webhooks = isJsonObject(overrides) ? overrides.webhooks : undefined;
  return isJsonObject(webhooks) ? webhooks : undefined;
}

/** The fields of a `webhooks` object that are set (null is "not set": the other level's value stands). */
function setFields(webhooks: unknown): [string, unknown][] {
  return isJsonObject(webhooks) ? Object.entries(webhooks).filter(([, value]) => value !== null) : [];
}

/**
 * The settings for an agent's conversations: the workspace's `webhooks` with the agent's
 * overrides winning field by field.
 */
export function resolveWebhookSettings(workspace: unknown, overrides: unknown): EffectiveWebhookSettings {
  const fields = Object.fromEntries([...setFields(workspace), ...setFields(overrides)]);
  const events = Array.isArray(fields.events)
    ? fields.events.filter((e): e is string => typeof e === "string")
    : ["transcript", ...(fields.send_audio === true ? ["audio"] : [])];
  return {
    webhookIds: namedWebhookIds(fields),
    events: new Set(events),
    transcriptFormat: fields.transcript_format === "opentelemetry" ? "opentelemetry" : "json",
    excludeTranscript: fields.exclude_transcript === true,
  };
}

/** The workspace's settings and webhooks, as read together. */
interface Workspace {
  webhooks: unknown;
  byId: Map<string, WorkspaceWebhook>;
}

/** A value read at `at`, reused for CACHE_MS. */
interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/** A plan for one conversation: the settings that apply and the webhooks they name that exist. */
interface Plan {
  settings: EffectiveWebhookSettings;
  targets: WorkspaceWebhook[];
}

/** Plans post-call deliveries and queues call initiation failures, from the settings in the store. */
export class WebhookPlanner implements PostCallWebhooks, InitiationFailureReporter {
  private readonly failureReports = new MinuteRate(
    FAILURE_REPORTS_PER_MINUTE,
    MAX_FAILURE_REPORTS_PER_MINUTE,
  );
  private droppedReports = 0;
  private readonly now: () => number;
  private workspace: Cached<Workspace> | undefined;
  private readonly agentOverrides = new Map<string, Cached<Record<string, unknown> | undefined>>();

  constructor(private readonly deps: WebhookPlannerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Relay mode is on: conversations from elsewhere queue webhooks too. */
  get relay(): boolean {
    return this.deps.config.relay;
  }

  /** Forgets what was cached (the settings or the webhooks changed on this node). */
  forget(): void {
    this.workspace = undefined;
    this.agentOverrides.clear();
  }

  /** A finished conversation's deliveries: per webhook, its transcription, then (expected) its audio. */
  async planFinished(
    conversation: ConversationRef,
    origin: WebhookOrigin,
    options: { expectAudio?: boolean } = {},
  ): Promise<NewOutgoingDelivery[]> {
    if (origin === "relay" && !this.deps.config.relay) return [];
    const { settings, targets } = await this.plan(conversation.agentId);
    const otel = settings.transcriptFormat === "opentelemetry";
    const out: NewOutgoingDelivery[] = [];
    for (const webhook of targets) {
      if (settings.events.has("transcript")) {
        out.push(
          this.delivery(
            webhook,
            otel ? "post_call_transcription_otel" : "post_call_transcription",
            conversation,
            {
              // Ignored for OpenTelemetry, as upstream documents.
              excludeTranscript: !otel && settings.excludeTranscript,
            },
          ),
        );
      }
      // After the transcription: deliveries of one conversation to one webhook go out in queue order.
      if (options.expectAudio && settings.events.has("audio")) {
        out.push(this.delivery(webhook, "post_call_audio", conversation));
      }
    }
    return out;
  }

  /** A relayed conversation's audio deliveries (relay mode only), one per webhook with the audio event. */
  async planAudio(conversation: ConversationRef, origin: WebhookOrigin): Promise<NewOutgoingDelivery[]> {
    // A live call's audio is planned with its transcription (planFinished, expectAudio).
    if (origin !== "relay" || !this.deps.config.relay) return [];
    const { settings, targets } = await this.plan(conversation.agentId);
    if (!settings.events.has("audio")) return [];
    return targets.map((webhook) => this.delivery(webhook, "post_call_audio", conversation));
  }

  /** Wakes the delivery loop: a write queued what was planned. */
  notify(): void {
    this.deps.notify?.();
  }

  /** Queues a `call_initiation_failure` per webhook when the event is on, then wakes the sender; never throws. */
  async report(failure: InitiationFailure): Promise<void> {
    // Refusals need no key: without a bound, anyone could fill the outbox and the receiver.
    if (!this.failureReports.admit(`${failure.agentId ?? ""}\u0000${failure.failureReason}`, this.now())) {
      this.droppedReports += 1;
      if (this.droppedReports === 1 || this.droppedReports % 1000 === 0) {
        this.deps.logger?.warn(
          { dropped: this.droppedReports, perMinute: FAILURE_REPORTS_PER_MINUTE },
          "call_initiation_failure webhooks over their rate were not queued",
        );
      }
      return;
    }
    try {
      const { settings, targets } = await this.plan(failure.agentId);
      if (!settings.events.has("call_initiation_failure") || targets.length === 0) return;
      const conversation = { conversationId: failure.conversationId, agentId: failure.agentId };
      const payload = JSON.stringify({
        agent_id: failure.agentId,
        conversation_id: failure.conversationId,
        failure_reason: failure.failureReason,
        metadata: failure.metadata,
      });
      await this.deps.store.enqueue(
        targets.map((webhook) =>
          this.delivery(webhook, "call_initiation_failure", conversation, { payload }),
        ),
      );
      this.notify();
    } catch (error) {
      // The reason only: the error of a store can quote what it was given.
      this.deps.logger?.warn(
        {
          agentId: failure.agentId,
          conversationId: failure.conversationId,
          failureReason: failure.failureReason,
          error: error instanceof Error ? error.name : typeof error,
        },
        "could not queue the call_initiation_failure webhooks",
      );
    }
  }

  /** One delivery of an event to a webhook, due now. */
  private delivery(
    webhook: WorkspaceWebhook,
    eventType: OutgoingEventType,
    conversation: { conversationId: string | null; agentId: string | null },
    extra: { excludeTranscript?: boolean; payload?: string } = {},
  ): NewOutgoingDelivery {
    const now = this.now();
    return {
      deliveryId: randomUUID(),
      webhookId: webhook.webhookId,
      eventType,
      conversationId: conversation.conversationId,
      agentId: conversation.agentId,
      eventTimestamp: Math.floor(now / 1000),
      payload: extra.payload ?? null,
      excludeTranscript: extra.excludeTranscript ?? false,
      maxAttempts: webhook.retryEnabled ? this.deps.config.retryScheduleMs.length : 1,
      createdAtMs: now,
    };
  }

  /** The settings for an agent's conversations and the webhooks they name that exist. */
  private async plan(agentId: string | null): Promise<Plan> {
    const [workspace, overrides] = await Promise.all([
      this.readWorkspace(),
      agentId === null ? undefined : this.readAgentOverrides(agentId),
    ]);
    const settings = resolveWebhookSettings(workspace.webhooks, overrides);
    const targets = settings.webhookIds
      .map((id) => workspace.byId.get(id))
      .filter((webhook): webhook is WorkspaceWebhook => webhook !== undefined);
    return { settings, targets };
  }

  /** The workspace's `webhooks` settings and its webhooks (cached for CACHE_MS). */
  private readWorkspace(): Promise<Workspace> {
    const now = this.now();
    if (this.workspace && now - this.workspace.at < CACHE_MS) return this.workspace.value;
    const entry: Cached<Workspace> = { at: now, value: this.loadWorkspace() };
    this.workspace = entry;
    // A failed read is not reused.
    entry.value.catch(() => {
      if (this.workspace === entry) this.workspace = undefined;
    });
    return entry.value;
  }

  private async loadWorkspace(): Promise<Workspace> {
    const [json, webhooks] = await Promise.all([
      this.deps.store.getSettings(),
      this.deps.store.listWebhooks(),
    ]);
    const settings: unknown = json === undefined ? {} : JSON.parse(json);
    return {
      webhooks: isJsonObject(settings) ? settings.webhooks : undefined,
      byId: new Map(webhooks.map((webhook) => [webhook.webhookId, webhook])),
    };
  }

  /** An agent's webhook overrides (cached for CACHE_MS); undefined for an agent without any, or unknown here. */
  private readAgentOverrides(agentId: string): Promise<Record<string, unknown> | undefined> {
    const now = this.now();
    const cached = this.agentOverrides.get(agentId);
    if (cached && now - cached.at < CACHE_MS) return cached.value;
    if (this.agentOverrides.size >= MAX_CACHED_AGENTS) this.agentOverrides.clear();
    const entry = {
      at: now,
      value: this.deps.agents
        .getAgent(agentId)
        .then((row) => (row ? agentWebhookOverrides(row.json) : undefined)),
    };
    this.agentOverrides.set(agentId, entry);
    entry.value.catch(() => {
      if (this.agentOverrides.get(agentId) === entry) this.agentOverrides.delete(agentId);
    });
    return entry.value;
  }
}
