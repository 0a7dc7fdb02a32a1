/** One conversation as a source lists it: what sync needs to decide whether to fetch it. */
export interface SourceListItem {
  conversationId: string;
  startTimeUnixSecs: number;
  status: string;
}

/** One page of a source's conversation list (newest first). */
export interface SourcePage {
  items: SourceListItem[];
  nextCursor: string | null;
  hasMore: boolean;
}

/** What to list. */
export interface SourceListQuery {
  cursor?: string;
  agentId?: string;
  /** Only conversations that started strictly after this time (unix seconds). */
  startAfterUnixSecs?: number;
  pageSize: number;
}

/** A recording as fetched from a source. */
export interface SourceAudio {
  bytes: Buffer;
  contentType: string;
}

/** Somewhere conversations can be mirrored from: the ElevenLabs API or anything that speaks it. */
export interface ConversationSource {
  /** Names the source for the high-water mark: no credentials. */
  readonly key: string;
  listConversations(query: SourceListQuery, signal?: AbortSignal): Promise<SourcePage>;
  /** The conversation document as the source serves it (GET /v1/convai/conversations/{id}). */
  getConversation(conversationId: string, signal?: AbortSignal): Promise<Record<string, unknown>>;
  /** The recording, or undefined when the source has none. */
  getAudio(conversationId: string, signal?: AbortSignal): Promise<SourceAudio | undefined>;
}

/** A source answered with an error that retrying will not fix (a 4xx other than 408 and 429). */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "SourceError";
  }
}
