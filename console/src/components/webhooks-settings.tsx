/**
 * The workspace's post-call settings (`/v1/convai/settings`, its `webhooks` object): which webhook
 * receives post-call events, which events, the transcript format and the older `send_audio`.
 */
import { type FormEvent, useEffect, useId, useState } from "react";
import { api } from "../api/client";
import { ErrorLine, Loading } from "./status";
import { useApi } from "./use-api";
import { messageOf, type Webhook } from "./webhooks-endpoints";

/** The `webhooks` object of the ConvAI settings, as GET answers it. */
interface ConvaiWebhooks {
  post_call_webhook_id?: string | null;
  events?: string[] | null;
  transcript_format?: "json" | "opentelemetry" | null;
  send_audio?: boolean | null;
}

/** The post-call events that send something here, with their labels. */
const EVENTS: readonly { value: string; label: string }[] = [
  { value: "transcript", label: "Transcript" },
  { value: "audio", label: "Audio" },
  { value: "call_initiation_failure", label: "Call initiation failure" },
];

/** What is sent when no events are set: the transcript, and the audio with `send_audio`. */
function defaultEvents(sendAudio: boolean): string[] {
  return sendAudio ? ["transcript", "audio"] : ["transcript"];
}

export function WebhookSettings({ webhooks, onSaved }: { webhooks: Webhook[]; onSaved: () => void }) {
  const loaded = useApi(
    (signal) => api<{ webhooks?: ConvaiWebhooks }>("GET", "/v1/convai/settings", { signal }),
    [],
  );
  return (
    <section aria-labelledby="webhooks-settings-heading" className="webhooks-section">
      <h2 id="webhooks-settings-heading">Post-call settings</h2>
      {loaded.error ? (
        <ErrorLine error={`${loaded.error} Reload the page to try again.`} />
      ) : loaded.data === undefined ? (
        <Loading what="the post-call settings" />
      ) : (
        <SettingsForm initial={loaded.data.webhooks ?? {}} webhooks={webhooks} onSaved={onSaved} />
      )}
    </section>
  );
}

function SettingsForm({
  initial,
  webhooks,
  onSaved,
}: {
  initial: ConvaiWebhooks;
  webhooks: Webhook[];
  onSaved: () => void;
}) {
  const id = useId();
  const [webhookId, setWebhookId] = useState(initial.post_call_webhook_id ?? "");
  const [sendAudio, setSendAudio] = useState(initial.send_audio === true);
  const eventsSet = Array.isArray(initial.events);
  const [events, setEvents] = useState<string[]>(
    Array.isArray(initial.events) ? initial.events : defaultEvents(initial.send_audio === true),
  );
  const [eventsTouched, setEventsTouched] = useState(false);
  const [format, setFormat] = useState(initial.transcript_format ?? "json");
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // While events are not set, the defaults follow send_audio.
  useEffect(() => {
    if (!eventsSet && !eventsTouched) setEvents(defaultEvents(sendAudio));
  }, [sendAudio, eventsSet, eventsTouched]);

  function toggleEvent(value: string, on: boolean) {
    setEventsTouched(true);
    setEvents((current) =>
      on ? [...current.filter((e) => e !== value), value] : current.filter((e) => e !== value),
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setStatus(null);
    const patch: ConvaiWebhooks = {
      post_call_webhook_id: webhookId || null,
      transcript_format: format,
      send_audio: sendAudio,
    };
    if (eventsSet || eventsTouched)
      patch.events = EVENTS.map((e) => e.value).filter((v) => events.includes(v));
    try {
      await api("PATCH", "/v1/convai/settings", { json: { webhooks: patch } });
      setStatus("Post-call settings saved.");
      onSaved();
    } catch (e) {
      setError(`${messageOf(e)} Correct the settings and save again.`);
    } finally {
      setBusy(false);
    }
  }

  const selectedMissing = webhookId !== "" && !webhooks.some((w) => w.webhook_id === webhookId);

  return (
    <form className="card webhooks-settings" onSubmit={submit} noValidate aria-label="Post-call settings">
      <div className="field">
        <label htmlFor={`${id}-webhook`}>Post-call webhook</label>
        <select id={`${id}-webhook`} value={webhookId} onChange={(e) => setWebhookId(e.target.value)}>
          <option value="">None (no post-call webhooks)</option>
          {webhooks.map((w) => (
            <option key={w.webhook_id} value={w.webhook_id}>
              {w.name}
              {w.is_disabled ? " (disabled)" : ""}
            </option>
          ))}
          {selectedMissing && <option value={webhookId}>{webhookId} (not found)</option>}
        </select>
        <span className="hint">The endpoint that receives each conversation when it ends.</span>
      </div>
      <fieldset className="webhooks-events">
        <legend>Events</legend>
        {EVENTS.map((e) => (
          <div className="webhooks-check" key={e.value}>
            <input
              id={`${id}-event-${e.value}`}
              type="checkbox"
              checked={events.includes(e.value)}
              onChange={(change) => toggleEvent(e.value, change.target.checked)}
            />
            <label htmlFor={`${id}-event-${e.value}`}>{e.label}</label>
          </div>
        ))}
        {!eventsSet && !eventsTouched && (
          <p className="hint muted">
            Not chosen yet: the transcript is sent (and the audio with “Send audio”).
          </p>
        )}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-format`}>Transcript format</label>
        <select
          id={`${id}-format`}
          value={format}
          onChange={(e) => setFormat(e.target.value as "json" | "opentelemetry")}
        >
          <option value="json">JSON (the conversation as the API serves it)</option>
          <option value="opentelemetry">OpenTelemetry (an OTLP JSON trace)</option>
        </select>
      </div>
      <div className="webhooks-check">
        <input
          id={`${id}-audio`}
          type="checkbox"
          checked={sendAudio}
          onChange={(e) => setSendAudio(e.target.checked)}
        />
        <label htmlFor={`${id}-audio`}>Send audio (older setting, used while no events are chosen)</label>
      </div>
      <ErrorLine error={error} />
      <p role="status" className="webhooks-status">
        {status}
      </p>
      <button type="submit" disabled={busy}>
        {busy ? "Saving…" : "Save settings"}
      </button>
    </form>
  );
}
