/**
 * What can be done with a conversation as a whole: download its recording (MP3) or its document
 * (JSON), both fetched with the API key and handed to the browser as a Blob; and delete it, after
 * a confirmation in a modal <dialog>.
 */
import { useRef, useState } from "react";
import { useNavigate } from "react-router";
import { api, apiFetch } from "../api/client";

/** Hands `blob` to the browser as a download named `name`. */
function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL; it can go once the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

interface Props {
  conversationId: string;
  hasAudio: boolean;
}

export function ConversationActions({ conversationId, hasAudio }: Props) {
  const navigate = useNavigate();
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const base = `/v1/convai/conversations/${encodeURIComponent(conversationId)}`;

  async function download(what: "audio" | "json") {
    setBusy(what);
    setError(null);
    try {
      if (what === "audio") {
        const response = await apiFetch("GET", `${base}/audio`);
        saveBlob(await response.blob(), `${conversationId}.mp3`);
      } else {
        const response = await apiFetch("GET", base);
        const text = await response.text();
        saveBlob(new Blob([text], { type: "application/json" }), `${conversationId}.json`);
      }
    } catch (e) {
      setError(`The download failed: ${e instanceof Error ? e.message : String(e)} Try again.`);
    } finally {
      setBusy(null);
    }
  }

  async function remove() {
    setBusy("delete");
    setDeleteError(null);
    try {
      await api("DELETE", base);
      dialog.current?.close();
      navigate("/conversations", { state: { notice: `Conversation ${conversationId} was deleted.` } });
    } catch (e) {
      setDeleteError(`It was not deleted: ${e instanceof Error ? e.message : String(e)} Try again.`);
      setBusy(null);
    }
  }

  return (
    <div className="conversation-actions">
      {hasAudio && (
        <button
          type="button"
          className="secondary"
          disabled={busy !== null}
          onClick={() => download("audio")}
        >
          Download audio
        </button>
      )}
      <button type="button" className="secondary" disabled={busy !== null} onClick={() => download("json")}>
        Download JSON
      </button>
      <button
        type="button"
        className="danger"
        disabled={busy !== null}
        onClick={() => {
          setDeleteError(null);
          dialog.current?.showModal();
        }}
      >
        Delete conversation
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <dialog
        ref={dialog}
        className="confirm-dialog"
        aria-labelledby="delete-title"
        aria-describedby="delete-text"
      >
        <h2 id="delete-title">Delete this conversation?</h2>
        <p id="delete-text">
          The transcript, analysis and recording of <code>{conversationId}</code> are removed for good.
        </p>
        {deleteError && (
          <p className="error" role="alert">
            {deleteError}
          </p>
        )}
        <div className="dialog-buttons">
          <button
            type="button"
            className="secondary"
            // biome-ignore lint/a11y/noAutofocus: the dialog opens on the safe choice.
            autoFocus
            onClick={() => dialog.current?.close()}
          >
            Cancel
          </button>
          <button type="button" className="danger" disabled={busy === "delete"} onClick={remove}>
            Delete
          </button>
        </div>
      </dialog>
    </div>
  );
}
