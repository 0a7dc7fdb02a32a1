/**
 * Loads the conversations list page by page with the API's cursor: the first page when the query
 * changes (the previous request is abandoned), then the next on `loadMore`.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import type { ConversationListItem, ConversationListPage } from "./conversations-row";

/** What the list shows: the rows so far and how loading goes. */
export interface ConversationPages {
  items: ConversationListItem[];
  hasMore: boolean;
  /** True while a page (first or next) is on its way. */
  loading: boolean;
  error: string | null;
  loadMore: () => void;
  /** Loads the list again from its first page. */
  reload: () => void;
}

const LIST_PATH = "/v1/convai/conversations";

/** The list for `query` (the URL's query string, parameters named as the API names them). */
export function useConversationPages(query: string): ConversationPages {
  const [items, setItems] = useState<ConversationListItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  // The request in flight, so a new query abandons it and loadMore never runs twice at once.
  const inFlight = useRef<AbortController | null>(null);

  const fetchPage = useCallback(
    (after: string | null, append: boolean) => {
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      setLoading(true);
      setError(null);
      const params = new URLSearchParams(query);
      params.delete("cursor");
      if (after) params.set("cursor", after);
      api<ConversationListPage>("GET", `${LIST_PATH}?${params.toString()}`, {
        signal: controller.signal,
      }).then(
        (page) => {
          if (controller.signal.aborted) return;
          inFlight.current = null;
          setItems((before) => (append ? [...before, ...page.conversations] : page.conversations));
          setCursor(page.next_cursor);
          setHasMore(page.has_more && page.next_cursor !== null);
          setLoading(false);
        },
        (e: unknown) => {
          if (controller.signal.aborted) return;
          inFlight.current = null;
          setError(e instanceof Error ? e.message : String(e));
          setLoading(false);
        },
      );
    },
    [query],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: `generation` asks for the same query again.
  useEffect(() => {
    setItems([]);
    setCursor(null);
    setHasMore(false);
    fetchPage(null, false);
    return () => inFlight.current?.abort();
  }, [fetchPage, generation]);

  const loadMore = useCallback(() => {
    if (inFlight.current || !hasMore || !cursor) return;
    fetchPage(cursor, true);
  }, [fetchPage, hasMore, cursor]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  return { items, hasMore, loading, error, loadMore, reload };
}
