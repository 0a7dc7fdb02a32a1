import type pg from "pg";
import { type TagDbRow, toTag } from "../db-rows.js";
import type { NewTag, TagChange, TagRow, TagStore } from "../tag-store.js";
import { toPgText } from "./pg-text.js";
import { inTransaction } from "./pg-transaction.js";

/** Conversation tags in PostgreSQL. */
export class PostgresTagStore implements TagStore {
  constructor(private readonly pool: pg.Pool) {}

  async createTag(tag: NewTag): Promise<TagRow> {
    const result = await this.pool.query<TagDbRow>(
      "INSERT INTO conversation_tags (tag_id, title, description, owner_user_id, workspace_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
      [tag.tagId, tag.title, tag.description, tag.ownerUserId, tag.workspaceId, tag.createdAtUnixSecs].map(
        toPgText,
      ),
    );
    return toTag(result.rows[0] as TagDbRow);
  }

  async getTag(tagId: string): Promise<TagRow | undefined> {
    const result = await this.pool.query<TagDbRow>("SELECT * FROM conversation_tags WHERE tag_id = $1", [
      toPgText(tagId),
    ]);
    const row = result.rows[0];
    return row ? toTag(row) : undefined;
  }

  async findExistingTagIds(tagIds: readonly string[]): Promise<Set<string>> {
    if (tagIds.length === 0) return new Set();
    const result = await this.pool.query<{ tag_id: string }>(
      "SELECT tag_id FROM conversation_tags WHERE tag_id = ANY($1::text[])",
      [tagIds.map(toPgText)],
    );
    const found = new Set(result.rows.map((r) => r.tag_id));
    // Answered in the caller's spelling (an id with U+0000 is stored with U+FFFD).
    return new Set(tagIds.filter((id) => found.has(toPgText(id))));
  }

  async listTags(beforeSeq: number | null, limit: number): Promise<TagRow[]> {
    const result = await this.pool.query<TagDbRow>(
      "SELECT * FROM conversation_tags WHERE ($1::bigint IS NULL OR seq < $1) ORDER BY seq DESC LIMIT $2",
      [beforeSeq, limit],
    );
    return result.rows.map(toTag);
  }

  async updateTag(tagId: string, change: TagChange): Promise<TagRow | undefined> {
    // One statement: an absent key keeps the stored value.
    const result = await this.pool.query<TagDbRow>(
      `UPDATE conversation_tags SET
         title = CASE WHEN $2 THEN $3 ELSE title END,
         description = CASE WHEN $4 THEN $5 ELSE description END
       WHERE tag_id = $1 RETURNING *`,
      [
        toPgText(tagId),
        change.title !== undefined,
        toPgText(change.title ?? null),
        "description" in change,
        toPgText(change.description ?? null),
      ],
    );
    const row = result.rows[0];
    return row ? toTag(row) : undefined;
  }

  async restoreTag(tag: TagRow): Promise<TagRow> {
    return inTransaction(this.pool, async (client) => {
      // Restores take turns, so two of them never pick the same free seq.
      await client.query("LOCK TABLE conversation_tags IN SHARE ROW EXCLUSIVE MODE");
      const result = await client.query<TagDbRow>(
        `INSERT INTO conversation_tags (seq, tag_id, title, description, owner_user_id, workspace_id, created_at)
         OVERRIDING SYSTEM VALUE
         VALUES (CASE WHEN EXISTS (SELECT 1 FROM conversation_tags WHERE seq = $1)
                   THEN nextval(pg_get_serial_sequence('conversation_tags', 'seq')) ELSE $1 END,
                 $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tag_id) DO UPDATE SET title = excluded.title, description = excluded.description,
           owner_user_id = excluded.owner_user_id, workspace_id = excluded.workspace_id, created_at = excluded.created_at
         RETURNING *`,
        [
          tag.seq,
          ...[tag.tagId, tag.title, tag.description, tag.ownerUserId, tag.workspaceId].map(toPgText),
          tag.createdAtUnixSecs,
        ],
      );
      // Tags created later must come after every restored one.
      await client.query(
        `SELECT setval(s, GREATEST((SELECT max(seq) FROM conversation_tags), COALESCE(pg_sequence_last_value(s), 1)))
         FROM (SELECT pg_get_serial_sequence('conversation_tags', 'seq')::regclass AS s) q`,
      );
      return toTag(result.rows[0] as TagDbRow);
    });
  }

  async deleteTag(tagId: string): Promise<TagRow | undefined> {
    const result = await this.pool.query<TagDbRow>(
      "DELETE FROM conversation_tags WHERE tag_id = $1 RETURNING *",
      [toPgText(tagId)],
    );
    const row = result.rows[0];
    return row ? toTag(row) : undefined;
  }
}
