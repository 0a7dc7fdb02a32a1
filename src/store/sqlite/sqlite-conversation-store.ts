import type BetterSqlite3 from "better-sqlite3";
import type { ConversationRecord } from "../../domain/conversation.js";
import type { ListPage, ListQuery } from "../../domain/list-query.js";
import { buildListSql, escapeLike, type ListSqlDialect } from "../list-sql.js";
import type { AudioInfo, ConversationStore, ListRow, StoredConversation, UpsertOutcome } from "../store.js";

interface ListDbRow {
  start_time: number;
  conversation_id: string;
  list_item: string;
  transcript_summary: string | null;
  eval_results: string | null;
  data_results: string | null;
}

interface AudioDbRow {
  audio_key: string | null;
  audio_type: string | null;
  audio_size: number | null;
}

function toAudio(row: AudioDbRow): AudioInfo | null {
  return row.audio_key !== null
    ? { blobKey: row.audio_key, contentType: row.audio_type ?? "audio/mpeg", size: row.audio_size ?? 0 }
    : null;
}

/** Quotes a token as an FTS5 string (a phrase the trigram tokenizer matches as a substring). */
function ftsPhrase(token: string): string {
  return `"${token.replace(/"/g, '""')}"`;
}

/** SQLite's list dialect: `?` placeholders and FTS5 trigram search (LIKE for tokens under 3 characters). */
export const sqliteListDialect: ListSqlDialect = {
  placeholder: () => "?",
  searchCondition(tokens, bind) {
    const long = tokens.filter((t) => [...t].length >= 3);
    const short = tokens.filter((t) => [...t].length < 3);
    const parts: string[] = [];
    if (long.length > 0) {
      parts.push(
        `c.seq IN (SELECT rowid FROM conversation_text WHERE conversation_text MATCH ${bind(long.map(ftsPhrase).join(" AND "))})`,
      );
    }
    for (const token of short) {
      // The trigram index cannot answer a pattern shorter than three characters; LIKE scans instead.
      parts.push(
        `EXISTS (SELECT 1 FROM conversation_text t WHERE t.rowid = c.seq AND t.body LIKE ${bind(`%${escapeLike(token)}%`)} ESCAPE '\\')`,
      );
    }
    return parts.join(" AND ");
  },
};

/** Conversations in SQLite: one row per conversation, facet rows for the multi-valued filters, FTS5 for search. */
export class SqliteConversationStore implements ConversationStore {
  private readonly statements;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.statements = {
      findSeq: db.prepare("SELECT seq FROM conversations WHERE conversation_id = ?"),
      insert: db.prepare(`INSERT INTO conversations (
          conversation_id, agent_id, status, start_time, duration, call_successful, user_id, branch_id, version_id,
          main_language, initiation_source, text_only, rating, has_feedback_comment, parent_conversation_id,
          conversation_product, doc, list_item, transcript_summary, eval_results, data_results, updated_at)
        VALUES (@conversationId, @agentId, @status, @startTime, @duration, @callSuccessful, @userId, @branchId, @versionId,
          @mainLanguage, @initiationSource, @textOnly, @rating, @hasFeedbackComment, @parentConversationId,
          @conversationProduct, @doc, @listItem, @transcriptSummary, @evalResults, @dataResults, @updatedAt)`),
      update: db.prepare(`UPDATE conversations SET
          agent_id = @agentId, status = @status, start_time = @startTime, duration = @duration,
          call_successful = @callSuccessful, user_id = @userId, branch_id = @branchId, version_id = @versionId,
          main_language = @mainLanguage, initiation_source = @initiationSource, text_only = @textOnly, rating = @rating,
          has_feedback_comment = @hasFeedbackComment, parent_conversation_id = @parentConversationId,
          conversation_product = @conversationProduct, doc = @doc, list_item = @listItem,
          transcript_summary = @transcriptSummary, eval_results = @evalResults, data_results = @dataResults,
          updated_at = @updatedAt
        WHERE seq = @seq`),
      deleteFacets: db.prepare("DELETE FROM facets WHERE seq = ?"),
      insertFacet: db.prepare(
        "INSERT OR IGNORE INTO facets (seq, kind, key, value, num) VALUES (?, ?, ?, ?, ?)",
      ),
      deleteText: db.prepare("DELETE FROM conversation_text WHERE rowid = ?"),
      insertText: db.prepare("INSERT INTO conversation_text (rowid, body) VALUES (?, ?)"),
      get: db.prepare(
        "SELECT doc, audio_key, audio_type, audio_size FROM conversations WHERE conversation_id = ?",
      ),
      getForDelete: db.prepare(
        "SELECT seq, audio_key, audio_type, audio_size FROM conversations WHERE conversation_id = ?",
      ),
      delete: db.prepare("DELETE FROM conversations WHERE seq = ?"),
      setAudio: db.prepare(
        "UPDATE conversations SET audio_key = ?, audio_type = ?, audio_size = ?, updated_at = ? WHERE conversation_id = ?",
      ),
      count: db.prepare("SELECT count(*) AS n FROM conversations"),
    };
  }

  async upsertConversations(records: readonly ConversationRecord[]): Promise<UpsertOutcome[]> {
    const s = this.statements;
    const write = this.db.transaction((batch: readonly ConversationRecord[]) => {
      const now = Math.floor(Date.now() / 1000);
      return batch.map((record): UpsertOutcome => {
        const i = record.index;
        const row = {
          ...i,
          textOnly: i.textOnly === null ? null : i.textOnly ? 1 : 0,
          hasFeedbackComment: i.hasFeedbackComment ? 1 : 0,
          doc: record.json,
          listItem: record.listItemJson,
          transcriptSummary: record.transcriptSummary,
          evalResults: record.evaluationResultsJson,
          dataResults: record.dataCollectionResultsJson,
          updatedAt: now,
        };
        const existing = s.findSeq.get(i.conversationId) as { seq: number } | undefined;
        let seq: number;
        if (existing) {
          seq = existing.seq;
          s.update.run({ ...row, seq });
          s.deleteFacets.run(seq);
          s.deleteText.run(seq);
        } else {
          seq = Number(s.insert.run(row).lastInsertRowid);
        }
        for (const f of record.facets) s.insertFacet.run(seq, f.kind, f.key, f.value, f.num);
        if (record.searchText.length > 0) s.insertText.run(seq, record.searchText);
        return existing ? "replaced" : "created";
      });
    });
    return write.immediate(records);
  }

  async getConversation(conversationId: string): Promise<StoredConversation | undefined> {
    const row = this.statements.get.get(conversationId) as (AudioDbRow & { doc: string }) | undefined;
    return row ? { json: row.doc, audio: toAudio(row) } : undefined;
  }

  async listConversations(query: ListQuery): Promise<ListPage<ListRow>> {
    const { sql, params } = buildListSql(query, sqliteListDialect);
    const rows = this.db.prepare(sql).all(...params) as ListDbRow[];
    const hasMore = rows.length > query.pageSize;
    const page = hasMore ? rows.slice(0, query.pageSize) : rows;
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        listItemJson: r.list_item,
        transcriptSummary: r.transcript_summary,
        evaluationResultsJson: r.eval_results,
        dataCollectionResultsJson: r.data_results,
      })),
      nextCursor:
        hasMore && last ? { startTime: last.start_time, conversationId: last.conversation_id } : null,
      hasMore,
    };
  }

  async deleteConversation(conversationId: string): Promise<{ audio: AudioInfo | null } | false> {
    const s = this.statements;
    return this.db
      .transaction(() => {
        const row = s.getForDelete.get(conversationId) as (AudioDbRow & { seq: number }) | undefined;
        if (!row) return false as const;
        s.deleteFacets.run(row.seq);
        s.deleteText.run(row.seq);
        s.delete.run(row.seq);
        return { audio: toAudio(row) };
      })
      .immediate();
  }

  async setAudio(conversationId: string, audio: AudioInfo): Promise<boolean> {
    const now = Math.floor(Date.now() / 1000);
    return (
      this.statements.setAudio.run(audio.blobKey, audio.contentType, audio.size, now, conversationId)
        .changes > 0
    );
  }

  async countConversations(): Promise<number> {
    return (this.statements.count.get() as { n: number }).n;
  }
}
