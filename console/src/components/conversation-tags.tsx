/**
 * A conversation's tags: those assigned (each removable), assigning one of the workspace's tags,
 * and creating a new tag that is assigned at once. Uses `/v1/convai/tags` and
 * `/v1/convai/conversations/{id}/tags`.
 */
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { api } from "../api/client";
import type { ConversationTag } from "./conversation-doc";

/** How many pages of tags are read at most (100 each). */
const MAX_TAG_PAGES = 10;

async function loadAllTags(signal: AbortSignal): Promise<ConversationTag[]> {
  const all: ConversationTag[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_TAG_PAGES; page++) {
    const answer: { conversation_tags: ConversationTag[]; next_cursor: string | null; has_more: boolean } =
      await api("GET", "/v1/convai/tags", { query: { page_size: 100, cursor }, signal });
    all.push(...answer.conversation_tags);
    if (!answer.has_more || !answer.next_cursor) break;
    cursor = answer.next_cursor;
  }
  return all;
}

interface Props {
  conversationId: string;
  initialTagIds: string[];
}

export function ConversationTags({ conversationId, initialTagIds }: Props) {
  const [tagIds, setTagIds] = useState(initialTagIds);
  const [tags, setTags] = useState<ConversationTag[]>([]);
  const [choice, setChoice] = useState("");
  const [title, setTitle] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  // After a remove, the position of the pressed button: focus goes to the next remove button there
  // (or, none left after it, to the tag select) once the list has rendered again.
  const [focusRemoval, setFocusRemoval] = useState<number | null>(null);
  const list = useRef<HTMLUListElement>(null);
  const select = useRef<HTMLSelectElement>(null);
  const selectId = useId();
  const titleId = useId();
  const path = `/v1/convai/conversations/${encodeURIComponent(conversationId)}/tags`;

  useEffect(() => {
    const controller = new AbortController();
    loadAllTags(controller.signal).then(setTags, (e: unknown) => {
      if (!controller.signal.aborted) {
        setError(
          `The tags could not be loaded: ${e instanceof Error ? e.message : String(e)} Reload the page to try again.`,
        );
      }
    });
    return () => controller.abort();
  }, []);

  useEffect(() => {
    if (focusRemoval === null || busy) return;
    const buttons = list.current?.querySelectorAll<HTMLButtonElement>("button.tag-remove");
    (buttons?.[focusRemoval] ?? select.current)?.focus();
    setFocusRemoval(null);
  }, [focusRemoval, busy]);

  const titleOf = (id: string) => tags.find((t) => t.tag_id === id)?.title ?? id;
  const assignable = tags.filter((t) => !tagIds.includes(t.tag_id));

  async function run(action: () => Promise<string>) {
    setBusy(true);
    setError(null);
    setStatus("");
    try {
      setStatus(await action());
    } catch (e) {
      setError(`${e instanceof Error ? e.message : String(e)} Try again.`);
    } finally {
      setBusy(false);
    }
  }

  const assign = (tagId: string) =>
    api<{ tag_ids: string[] }>("POST", path, { json: { tag_ids: [tagId] } }).then((answer) => {
      setTagIds(answer.tag_ids);
    });

  function onAssign(event: FormEvent) {
    event.preventDefault();
    if (!choice) return;
    void run(async () => {
      await assign(choice);
      setChoice("");
      return `Assigned ${titleOf(choice)}.`;
    });
  }

  function onCreate(event: FormEvent) {
    event.preventDefault();
    const wanted = title.trim();
    if (!wanted) {
      setError("Type a title for the new tag.");
      return;
    }
    void run(async () => {
      const tag = await api<ConversationTag>("POST", "/v1/convai/tags", { json: { title: wanted } });
      setTags((current) => [...current, tag]);
      await assign(tag.tag_id);
      setTitle("");
      return `Created and assigned ${tag.title}.`;
    });
  }

  function onRemove(tagId: string) {
    const index = tagIds.indexOf(tagId);
    void run(async () => {
      const answer = await api<{ tag_ids: string[] }>("DELETE", `${path}/${encodeURIComponent(tagId)}`);
      setTagIds(answer.tag_ids);
      return `Removed ${titleOf(tagId)}.`;
    }).then(() => setFocusRemoval(index));
  }

  return (
    <div className="conversation-tags">
      {tagIds.length === 0 ? (
        <p className="muted">No tags.</p>
      ) : (
        <ul ref={list} className="tag-list" aria-label="Assigned tags">
          {tagIds.map((id) => (
            <li key={id} className="tag">
              <span>{titleOf(id)}</span>
              <button
                type="button"
                className="secondary tag-remove"
                aria-label={`Remove tag ${titleOf(id)}`}
                disabled={busy}
                onClick={() => onRemove(id)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="tag-form" onSubmit={onAssign}>
        <div className="field">
          <label htmlFor={selectId}>Assign a tag</label>
          <select
            ref={select}
            id={selectId}
            value={choice}
            onChange={(event) => setChoice(event.target.value)}
          >
            <option value="">{assignable.length === 0 ? "No other tags" : "Choose a tag"}</option>
            {assignable.map((t) => (
              <option key={t.tag_id} value={t.tag_id}>
                {t.title}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={busy || !choice}>
          Assign
        </button>
      </form>
      <form className="tag-form" onSubmit={onCreate}>
        <div className="field">
          <label htmlFor={titleId}>New tag</label>
          <input
            id={titleId}
            value={title}
            maxLength={200}
            onChange={(event) => setTitle(event.target.value)}
          />
        </div>
        <button type="submit" className="secondary" disabled={busy}>
          Create and assign
        </button>
      </form>
      <p className="visually-hidden" role="status">
        {status}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
