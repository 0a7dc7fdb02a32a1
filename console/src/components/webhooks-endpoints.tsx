/**
 * The workspace's webhook endpoints (`/v1/workspace/webhooks`): the list with each one's state and
 * most recent failure, a form that creates one (its signing secret is shown once, with a copy
 * button), and per endpoint: edit, enable or disable, delete (after a confirmation).
 */
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { api } from "../api/client";
import { formatDateTime } from "../format";
import { ErrorLine } from "./status";

/** A webhook as `GET /v1/workspace/webhooks?include_usages=true` lists it. */
export interface Webhook {
  webhook_id: string;
  name: string;
  webhook_url: string;
  auth_type: string;
  is_disabled: boolean;
  is_auto_disabled: boolean;
  created_at_unix: number;
  most_recent_failure_error_code?: number;
  most_recent_failure_timestamp?: number;
  retry_enabled?: boolean;
  request_headers?: Record<string, string>;
  usage?: { usage_type: string }[];
}

/** The error of a failed call as a sentence to show. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface WebhookEndpointsProps {
  webhooks: Webhook[];
  /** Called after any change, so the page loads the list again. */
  onChanged: () => void;
}

/** The endpoints section: create form, the secret shown once, the table and its actions. */
export function WebhookEndpoints({ webhooks, onChanged }: WebhookEndpointsProps) {
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [confirmingDelete, setConfirmingDelete] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const section = useRef<HTMLElement>(null);
  // Where focus goes once a pressed control has gone: the row's Edit button, or (the row gone too)
  // the section's heading. Applied after the render that removed the control.
  const [focusAfter, setFocusAfter] = useState<{ webhookId: string | null } | null>(null);
  useEffect(() => {
    if (!focusAfter) return;
    const root = section.current;
    const edit = [...(root?.querySelectorAll<HTMLButtonElement>("button[data-edit-id]") ?? [])].find(
      (b) => b.dataset.editId === focusAfter.webhookId,
    );
    (edit ?? root?.querySelector<HTMLElement>("h2"))?.focus();
    setFocusAfter(null);
  }, [focusAfter]);

  async function run(action: () => Promise<string>) {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      setStatus(await action());
      onChanged();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }

  function toggle(webhook: Webhook) {
    // `is_disabled: false` also clears the server's auto-disable (after repeated failures).
    const enable = isOff(webhook);
    void run(async () => {
      await api("PATCH", `/v1/workspace/webhooks/${encodeURIComponent(webhook.webhook_id)}`, {
        json: { name: webhook.name, is_disabled: !enable },
      });
      return enable
        ? `Webhook “${webhook.name}” enabled: its waiting deliveries go out now.`
        : `Webhook “${webhook.name}” disabled: its deliveries wait until it is enabled again.`;
    });
  }

  function remove(webhook: Webhook) {
    void run(async () => {
      await api("DELETE", `/v1/workspace/webhooks/${encodeURIComponent(webhook.webhook_id)}`);
      setConfirmingDelete(null);
      setFocusAfter({ webhookId: null });
      return `Webhook “${webhook.name}” deleted. Its deliveries not yet sent were cancelled.`;
    });
  }

  const editedWebhook = webhooks.find((w) => w.webhook_id === editing);

  return (
    <section ref={section} aria-labelledby="webhooks-endpoints-heading" className="webhooks-section">
      <h2 id="webhooks-endpoints-heading" tabIndex={-1}>
        Endpoints
      </h2>
      <CreateWebhookForm onCreated={onChanged} />
      <div role="status" className="webhooks-status">
        {status}
      </div>
      <ErrorLine error={error} />
      {webhooks.length === 0 ? (
        <p className="muted">No webhooks yet. Create one above to receive post-call events.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Webhook endpoints</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">URL</th>
                <th scope="col">Auth</th>
                <th scope="col">State</th>
                <th scope="col">Most recent failure</th>
                <th scope="col">Used by</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {webhooks.map((w) => (
                <tr key={w.webhook_id}>
                  <th scope="row">{w.name}</th>
                  <td className="webhooks-url">{w.webhook_url}</td>
                  <td>{w.auth_type.toUpperCase()}</td>
                  <td>
                    <WebhookState webhook={w} />
                  </td>
                  <td>
                    {w.most_recent_failure_timestamp !== undefined ? (
                      <>
                        {w.most_recent_failure_error_code !== undefined && (
                          <span className="badge failure">{w.most_recent_failure_error_code}</span>
                        )}{" "}
                        <span className="muted">{formatDateTime(w.most_recent_failure_timestamp)}</span>
                      </>
                    ) : (
                      <span className="muted">None</span>
                    )}
                  </td>
                  <td>
                    {w.usage && w.usage.length > 0 ? (
                      w.usage.map((u) => u.usage_type).join(", ")
                    ) : (
                      <span className="muted">Nothing</span>
                    )}
                  </td>
                  <td>
                    <div className="webhooks-actions">
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`Edit ${w.name}`}
                        data-edit-id={w.webhook_id}
                        onClick={() => {
                          setConfirmingDelete(null);
                          setEditing(w.webhook_id);
                        }}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        className="secondary"
                        disabled={busy}
                        aria-label={`${isOff(w) ? "Enable" : "Disable"} ${w.name}`}
                        onClick={() => toggle(w)}
                      >
                        {isOff(w) ? "Enable" : "Disable"}
                      </button>
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`Delete ${w.name}`}
                        onClick={() => {
                          setEditing(null);
                          setConfirmingDelete(w.webhook_id);
                        }}
                      >
                        Delete
                      </button>
                    </div>
                    {confirmingDelete === w.webhook_id && (
                      <fieldset className="webhooks-confirm">
                        <legend className="visually-hidden">Confirm deleting {w.name}</legend>
                        <p>Delete “{w.name}”? Its deliveries not yet sent are cancelled; the log stays.</p>
                        <button type="button" className="danger" disabled={busy} onClick={() => remove(w)}>
                          Delete webhook
                        </button>{" "}
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => {
                            setConfirmingDelete(null);
                            setFocusAfter({ webhookId: w.webhook_id });
                          }}
                        >
                          Keep it
                        </button>
                      </fieldset>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editedWebhook && (
        <EditWebhookForm
          key={editedWebhook.webhook_id}
          webhook={editedWebhook}
          onDone={(message) => {
            setEditing(null);
            setFocusAfter({ webhookId: editedWebhook.webhook_id });
            if (message) {
              setError(null);
              setStatus(message);
              onChanged();
            }
          }}
        />
      )}
    </section>
  );
}

/** True when the webhook sends nothing: disabled by hand or by the server after repeated failures. */
function isOff(webhook: Webhook): boolean {
  return webhook.is_disabled || webhook.is_auto_disabled;
}

/** Enabled, disabled, or disabled by the server after repeated failures. */
function WebhookState({ webhook }: { webhook: Webhook }) {
  if (webhook.is_auto_disabled) {
    return (
      <span
        className="badge failure"
        title="Disabled after repeated failures: fix the receiver, then enable it"
      >
        Auto-disabled
      </span>
    );
  }
  return webhook.is_disabled ? (
    <span className="badge warning">Disabled</span>
  ) : (
    <span className="badge success">Enabled</span>
  );
}

/** Creates a webhook; the answer's secret is shown once, with a copy button. */
function CreateWebhookForm({ onCreated }: { onCreated: () => void }) {
  const id = useId();
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const secretInput = useRef<HTMLInputElement>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  // The secret is shown once: focus goes to it (selected, its explanation read out) when it appears.
  useEffect(() => {
    if (created) secretInput.current?.focus();
  }, [created]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim() || !url.trim()) {
      setError("Give the webhook a name and the URL of its receiver (https://…).");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ webhook_id: string; webhook_secret: string }>(
        "POST",
        "/v1/workspace/webhooks",
        {
          json: { settings: { auth_type: "hmac", name: name.trim(), webhook_url: url.trim() } },
        },
      );
      setCreated({ name: name.trim(), secret: answer.webhook_secret });
      setCopied(null);
      setName("");
      setUrl("");
      onCreated();
    } catch (e) {
      setError(`${messageOf(e)} Correct it and create the webhook again.`);
    } finally {
      setBusy(false);
    }
  }

  async function copy(secret: string) {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("Secret copied to the clipboard.");
    } catch {
      setCopied("The browser did not allow copying: select the secret and copy it yourself.");
    }
  }

  return (
    <>
      <form className="toolbar webhooks-create" onSubmit={submit} noValidate aria-label="Create a webhook">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            ref={nameInput}
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={256}
          />
        </div>
        <div className="field webhooks-url-field">
          <label htmlFor={`${id}-url`}>URL</label>
          <input
            id={`${id}-url`}
            type="url"
            inputMode="url"
            placeholder="https://example.com/hooks/convai"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            maxLength={2048}
          />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create webhook"}
        </button>
      </form>
      <ErrorLine error={error} />
      {created && (
        <section className="notice webhooks-secret" aria-label="New webhook created">
          <p id={`${id}-secret-note`}>
            Webhook “{created.name}” created. Its deliveries are signed with this secret; give it to the
            receiver now. <strong>It will not be shown again.</strong>
          </p>
          <div className="webhooks-secret-row">
            <label htmlFor={`${id}-secret`}>Signing secret</label>
            <input
              id={`${id}-secret`}
              ref={secretInput}
              readOnly
              aria-describedby={`${id}-secret-note`}
              value={created.secret}
              spellCheck={false}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" onClick={() => void copy(created.secret)}>
              Copy secret
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setCreated(null);
                nameInput.current?.focus();
              }}
            >
              I have stored it
            </button>
          </div>
          <p role="status" className="webhooks-status">
            {copied}
          </p>
        </section>
      )}
    </>
  );
}

/** Edits a webhook's name, state and retries (PATCH). `onDone(message)` with a message when saved. */
function EditWebhookForm({ webhook, onDone }: { webhook: Webhook; onDone: (message?: string) => void }) {
  const id = useId();
  const [name, setName] = useState(webhook.name);
  const [enabled, setEnabled] = useState(!isOff(webhook));
  const [retry, setRetry] = useState(webhook.retry_enabled ?? true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) {
      setError("Give the webhook a name.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api("PATCH", `/v1/workspace/webhooks/${encodeURIComponent(webhook.webhook_id)}`, {
        // `is_disabled: false` also clears an auto-disable; an auto-disabled webhook left unticked
        // stays off (as disabled by hand: the API has no way to keep the auto-disable alone).
        json: { name: name.trim(), is_disabled: !enabled, retry_enabled: retry },
      });
      onDone(`Webhook “${name.trim()}” saved.`);
    } catch (e) {
      setError(`${messageOf(e)} Correct it and save again.`);
      setBusy(false);
    }
  }

  return (
    <form className="card webhooks-edit" onSubmit={submit} noValidate aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Edit “{webhook.name}”</h3>
      <p className="muted webhooks-url">{webhook.webhook_url}</p>
      <div className="field">
        <label htmlFor={`${id}-name`}>Webhook name</label>
        <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={256} />
      </div>
      <div className="webhooks-check">
        <input
          id={`${id}-enabled`}
          type="checkbox"
          checked={enabled}
          onChange={(e) => setEnabled(e.target.checked)}
        />
        <label htmlFor={`${id}-enabled`}>Enabled (a disabled webhook's deliveries wait)</label>
      </div>
      <div className="webhooks-check">
        <input
          id={`${id}-retry`}
          type="checkbox"
          checked={retry}
          onChange={(e) => setRetry(e.target.checked)}
        />
        <label htmlFor={`${id}-retry`}>Retry failed deliveries</label>
      </div>
      <ErrorLine error={error} />
      <div className="webhooks-actions">
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Save webhook"}
        </button>
        <button type="button" className="secondary" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
    </form>
  );
}
