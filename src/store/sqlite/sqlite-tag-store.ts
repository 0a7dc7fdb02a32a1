import type BetterSqlite3 from "better-sqlite3";
import { type TagDbRow, toTag } from "../db-rows.js";
import type { NewTag, TagChange, TagRow, TagStore } from "../tag-store.js";

/** Conversation tags in SQLite. */
export class SqliteTagStore implements TagStore {
  private readonly statements;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.statements = {
      insert: db.prepare(
        "INSERT INTO conversation_tags (tag_id, title, description, owner_user_id, workspace_id, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
      ),
      get: db.prepare("SELECT * FROM conversation_tags WHERE tag_id = ?"),
      listFirst: db.prepare("SELECT * FROM conversation_tags ORDER BY seq DESC LIMIT ?"),
      listBefore: db.prepare("SELECT * FROM conversation_tags WHERE seq < ? ORDER BY seq DESC LIMIT ?"),
      update: db.prepare(
        "UPDATE conversation_tags SET title = ?, description = ? WHERE tag_id = ? RETURNING *",
      ),
      delete: db.prepare("DELETE FROM conversation_tags WHERE tag_id = ? RETURNING *"),
      // A NULL seq is given the next free one; on a tag_id conflict the stored tag keeps its seq.
      restore: db.prepare(
        `INSERT INTO conversation_tags (seq, tag_id, title, description, owner_user_id, workspace_id, created_at)
         VALUES (CASE WHEN EXISTS (SELECT 1 FROM conversation_tags WHERE seq = @seq) THEN NULL ELSE @seq END,
           @tagId, @title, @description, @ownerUserId, @workspaceId, @createdAtUnixSecs)
         ON CONFLICT (tag_id) DO UPDATE SET title = excluded.title, description = excluded.description,
           owner_user_id = excluded.owner_user_id, workspace_id = excluded.workspace_id, created_at = excluded.created_at
         RETURNING *`,
      ),
    };
  }

  async createTag(tag: NewTag): Promise<TagRow> {
    const row = this.statements.insert.get(
      tag.tagId,
      tag.title,
      tag.description,
      tag.ownerUserId,
      tag.workspaceId,
      tag.createdAtUnixSecs,
    ) as TagDbRow;
    return toTag(row);
  }

  async getTag(tagId: string): Promise<TagRow | undefined> {
    const row = this.statements.get.get(tagId) as TagDbRow | undefined;
    return row ? toTag(row) : undefined;
  }

  async findExistingTagIds(tagIds: readonly string[]): Promise<Set<string>> {
    if (tagIds.length === 0) return new Set();
    const rows = this.db
      .prepare(`SELECT tag_id FROM conversation_tags WHERE tag_id IN (${tagIds.map(() => "?").join(", ")})`)
      .all(...tagIds) as { tag_id: string }[];
    return new Set(rows.map((r) => r.tag_id));
  }

  async listTags(beforeSeq: number | null, limit: number): Promise<TagRow[]> {
    const rows = (
      beforeSeq === null
        ? this.statements.listFirst.all(limit)
        : this.statements.listBefore.all(beforeSeq, limit)
    ) as TagDbRow[];
    return rows.map(toTag);
  }

  async updateTag(tagId: string, change: TagChange): Promise<TagRow | undefined> {
    return this.db
      .transaction(() => {
        const current = this.statements.get.get(tagId) as TagDbRow | undefined;
        if (!current) return undefined;
        const title = change.title ?? current.title;
        const description = "description" in change ? (change.description ?? null) : current.description;
        return toTag(this.statements.update.get(title, description, tagId) as TagDbRow);
      })
      .immediate();
  }

  async deleteTag(tagId: string): Promise<TagRow | undefined> {
    const row = this.statements.delete.get(tagId) as TagDbRow | undefined;
    return row ? toTag(row) : undefined;
  }

  async restoreTag(tag: TagRow): Promise<TagRow> {
    const row = this.statements.restore.get({ ...tag }) as TagDbRow;
    return toTag(row);
  }
}
