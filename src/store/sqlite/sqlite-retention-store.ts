import type BetterSqlite3 from "better-sqlite3";
import { type AudioDbRow, audioColumns, toAudio } from "../audio-columns.js";
import type { AudioInfo } from "../audio-info.js";
import { type MarkDbRow, NOT_LIVE, SETTLED } from "../retention-sql.js";
import type {
  AgentPrivacyMark,
  AgentRange,
  ConversationPosition,
  RetentionStore,
  SettledQuery,
  StartedBeforeQuery,
  TrimCandidate,
  TrimQuery,
} from "../retention-store.js";

/** Stands for "no lower bound" in a REAL comparison (JSON, which carries the ranges, has no infinity). */
const NO_LOWER_BOUND = -1e308;

/** The keyset condition and order every find shares: after a position, in start-time order, not live. */
const PAGE = `
  AND (c.start_time, c.conversation_id) > (@afterStart, @afterId)
  AND NOT EXISTS (SELECT 1 FROM live_sessions l WHERE l.conversation_id = c.conversation_id)
  ORDER BY c.start_time, c.conversation_id LIMIT @limit`;

/** Ranges another rule governs, passed as one JSON array of [agent_id, start_from] pairs. */
const NOT_EXCEPTED = `
  AND NOT EXISTS (
    SELECT 1 FROM json_each(@except) e
    WHERE c.agent_id = json_extract(e.value, '$[0]') AND c.start_time >= json_extract(e.value, '$[1]'))`;

/** The retention job's storage in SQLite; every find walks an index on (…, start_time, conversation_id). */
export class SqliteRetentionStore implements RetentionStore {
  private readonly statements;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.statements = {
      listMarks: db.prepare("SELECT * FROM retention_agents ORDER BY agent_id"),
      putMark: db.prepare(
        `INSERT INTO retention_agents (agent_id, settings, effective_at, swept_start_time, swept_conversation_id)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (agent_id) DO UPDATE SET settings = excluded.settings, effective_at = excluded.effective_at,
           swept_start_time = excluded.swept_start_time, swept_conversation_id = excluded.swept_conversation_id`,
      ),
      deleteMark: db.prepare("DELETE FROM retention_agents WHERE agent_id = ?"),
      startedBefore: db.prepare(
        `SELECT c.conversation_id, c.start_time FROM conversations c INDEXED BY conversations_start
         WHERE c.start_time >= @startFrom AND c.start_time < @startBefore AND ${SETTLED}
         ${NOT_EXCEPTED} ${PAGE}`,
      ),
      agentStartedBefore: db.prepare(
        `SELECT c.conversation_id, c.start_time FROM conversations c INDEXED BY conversations_agent_start
         WHERE c.agent_id = @agentId AND c.start_time >= @startFrom AND c.start_time < @startBefore
           AND ${SETTLED} ${NOT_EXCEPTED} ${PAGE}`,
      ),
      settled: db.prepare(
        `SELECT c.conversation_id, c.start_time FROM conversations c INDEXED BY conversations_agent_start
         WHERE c.agent_id = @agentId AND c.start_time >= @startFrom AND ${SETTLED} ${PAGE}`,
      ),
      toTrim: db.prepare(
        `SELECT c.conversation_id, c.start_time, (${SETTLED} AND ${NOT_LIVE}) AS ready
         FROM conversations c INDEXED BY conversations_agent_start
         WHERE c.agent_id = @agentId AND c.start_time >= @startFrom AND c.start_time < @startBefore
           AND (c.start_time, c.conversation_id) > (@afterStart, @afterId)
           AND NOT ((@audio = 0 OR json_extract(c.doc, '$.metadata.deletion_settings.delete_audio') IS 1)
             AND (@transcript = 0
               OR json_extract(c.doc, '$.metadata.deletion_settings.delete_transcript_and_pii') IS 1))
         ORDER BY c.start_time, c.conversation_id LIMIT @limit`,
      ),
      getAudio: db.prepare(`SELECT ${audioColumns()} FROM conversations WHERE conversation_id = ?`),
      clearAudio: db.prepare(
        `UPDATE conversations SET audio_key = NULL, audio_type = NULL, audio_size = NULL,
           user_audio_key = NULL, user_audio_size = NULL, agent_audio_key = NULL, agent_audio_size = NULL,
           updated_at = ?
         WHERE conversation_id = ?`,
      ),
      deleteSip: db.prepare("DELETE FROM sip_messages WHERE conversation_id = ?"),
      deleteFiles: db.prepare("DELETE FROM conversation_files WHERE conversation_id = ? RETURNING blob_key"),
      deleteEmbeddings: db.prepare("DELETE FROM message_embeddings WHERE conversation_id = ?"),
      deleteEmbeddingState: db.prepare("DELETE FROM embedding_state WHERE conversation_id = ?"),
    };
  }

  async listAgentMarks(): Promise<AgentPrivacyMark[]> {
    return (this.statements.listMarks.all() as MarkDbRow[]).map(toMark);
  }

  async putAgentMark(mark: AgentPrivacyMark): Promise<void> {
    this.statements.putMark.run(
      mark.agentId,
      mark.settings,
      mark.effectiveAt,
      mark.sweptThrough?.startTime ?? null,
      mark.sweptThrough?.conversationId ?? null,
    );
  }

  async deleteAgentMark(agentId: string): Promise<void> {
    this.statements.deleteMark.run(agentId);
  }

  async findStartedBefore(query: StartedBeforeQuery): Promise<ConversationPosition[]> {
    const params = {
      ...pageParams(query.after, query.limit),
      startFrom: query.startFrom ?? NO_LOWER_BOUND,
      startBefore: query.startBefore,
      except: exceptJson(query.except),
    };
    const rows =
      query.agentId === null
        ? this.statements.startedBefore.all(params)
        : this.statements.agentStartedBefore.all({ ...params, agentId: query.agentId });
    return (rows as PositionDbRow[]).map(toPosition);
  }

  async findSettled(query: SettledQuery): Promise<ConversationPosition[]> {
    const rows = this.statements.settled.all({
      ...pageParams(query.after, query.limit),
      agentId: query.agentId,
      startFrom: query.startFrom ?? NO_LOWER_BOUND,
    }) as PositionDbRow[];
    return rows.map(toPosition);
  }

  async findToTrim(query: TrimQuery): Promise<TrimCandidate[]> {
    const rows = this.statements.toTrim.all({
      ...pageParams(query.after, query.limit),
      agentId: query.agentId,
      startFrom: query.startFrom ?? NO_LOWER_BOUND,
      startBefore: query.startBefore,
      audio: query.audio ? 1 : 0,
      transcript: query.transcript ? 1 : 0,
    }) as (PositionDbRow & { ready: number })[];
    return rows.map((row) => ({ ...toPosition(row), ready: row.ready === 1 }));
  }

  async removeAudio(conversationId: string): Promise<AudioInfo | null | undefined> {
    const s = this.statements;
    return this.db
      .transaction(() => {
        const row = s.getAudio.get(conversationId) as AudioDbRow | undefined;
        if (!row) return undefined;
        const audio = toAudio(row);
        if (audio) s.clearAudio.run(Math.floor(Date.now() / 1000), conversationId);
        return audio;
      })
      .immediate();
  }

  async removeTranscriptData(conversationId: string): Promise<string[]> {
    const s = this.statements;
    return this.db
      .transaction(() => {
        s.deleteSip.run(conversationId);
        s.deleteEmbeddings.run(conversationId);
        s.deleteEmbeddingState.run(conversationId);
        return (s.deleteFiles.all(conversationId) as { blob_key: string }[]).map((f) => f.blob_key);
      })
      .immediate();
  }
}

interface PositionDbRow {
  conversation_id: string;
  start_time: number;
}

function toPosition(row: PositionDbRow): ConversationPosition {
  return { conversationId: row.conversation_id, startTime: row.start_time };
}

function toMark(row: MarkDbRow): AgentPrivacyMark {
  return {
    agentId: row.agent_id,
    settings: row.settings,
    effectiveAt: row.effective_at,
    sweptThrough:
      row.swept_start_time === null || row.swept_conversation_id === null
        ? null
        : { startTime: row.swept_start_time, conversationId: row.swept_conversation_id },
  };
}

function pageParams(after: ConversationPosition | null, limit: number) {
  return { afterStart: after?.startTime ?? NO_LOWER_BOUND, afterId: after?.conversationId ?? "", limit };
}

function exceptJson(ranges: readonly AgentRange[]): string {
  return JSON.stringify(ranges.map((r) => [r.agentId, r.startFrom ?? NO_LOWER_BOUND]));
}
