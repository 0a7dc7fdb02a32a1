/** A conversation tag as stored (upstream's ConversationTagResponseModel, in camelCase). */
export interface TagRow {
  /** Insertion order: newer tags have larger values (the list's order and cursor). */
  seq: number;
  tagId: string;
  title: string;
  description: string | null;
  ownerUserId: string;
  workspaceId: string;
  createdAtUnixSecs: number;
}

/** A tag to create; `seq` is assigned by the store. */
export type NewTag = Omit<TagRow, "seq">;

/** Changes to a tag: a key that is present replaces the stored value. */
export interface TagChange {
  title?: string;
  description?: string | null;
}

/** The workspace's conversation tags (their definitions; assignments live in the documents' `tag_ids`). */
export interface TagStore {
  /** Adds a tag and returns it as stored. */
  createTag(tag: NewTag): Promise<TagRow>;
  /** The tag; undefined if there is none with that id. */
  getTag(tagId: string): Promise<TagRow | undefined>;
  /** Which of the given ids name existing tags. */
  findExistingTagIds(tagIds: readonly string[]): Promise<Set<string>>;
  /** Tags newest first, starting after `beforeSeq` (exclusive) when given; at most `limit`. */
  listTags(beforeSeq: number | null, limit: number): Promise<TagRow[]>;
  /** Applies a change and returns the updated tag; undefined (nothing written) if it does not exist. */
  updateTag(tagId: string, change: TagChange): Promise<TagRow | undefined>;
  /** Removes a tag's definition and returns it; undefined if it does not exist. */
  deleteTag(tagId: string): Promise<TagRow | undefined>;
  /**
   * Adds a tag as a backup holds it, or replaces the one with its id (keeping that one's place);
   * a new tag takes `seq` when no other tag holds it, else the next place. Returns it as stored.
   */
  restoreTag(tag: TagRow): Promise<TagRow>;
}
