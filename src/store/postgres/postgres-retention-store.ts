import type pg from "pg";
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
import { toPgText } from "./pg-text.js";
import { inTransaction, withoutStatementTimeout } from "./pg-transaction.js";

/** An agent's rows: the index holds the hash of agent_id (migration 5), then the value is compared. */
const AGENT_IS = "hashtextextended(c.agent_id, 0) = hashtextextended($1::text, 0) AND c.agent_id = $1::text";

/** The keyset condition and order every find shares ($2/$3 the position after which, $4 the limit). */
const PAGE = `
  AND (c.start_time, c.conversation_id) > ($2::float8, $3::text)
  AND NOT EXISTS (SELECT 1 FROM live_sessions l WHERE l.conversation_id = c.conversation_id)
  ORDER BY c.start_time, c.conversation_id LIMIT $4`;

/** Ranges another rule governs ($7 agent ids, $8 their start times, -Infinity for all). */
const NOT_EXCEPTED = `
  AND NOT EXISTS (
    SELECT 1 FROM unnest($7::text[], $8::float8[]) AS e(agent_id, start_from)
    WHERE c.agent_id = e.agent_id AND c.start_time >= e.start_from)`;

interface PositionDbRow {
  conversation_id: string;
  start_time: number;
}

/**
 * The retention job's storage in PostgreSQL; every find walks an index on (…, start_time,
 * conversation_id). The finds run without the statement timeout (the job's own, never a
 * request's): one may walk many rows it leaves out (a full sweep reads every already trimmed
 * document) before it fills a page.
 */
export class PostgresRetentionStore implements RetentionStore {
  constructor(private readonly pool: pg.Pool) {}

  async listAgentMarks(): Promise<AgentPrivacyMark[]> {
    const result = await this.pool.query<MarkDbRow>("SELECT * FROM retention_agents ORDER BY agent_id");
    return result.rows.map(toMark);
  }

  async putAgentMark(mark: AgentPrivacyMark): Promise<void> {
    await this.pool.query(
      `INSERT INTO retention_agents (agent_id, settings, effective_at, swept_start_time, swept_conversation_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (agent_id) DO UPDATE SET settings = excluded.settings, effective_at = excluded.effective_at,
         swept_start_time = excluded.swept_start_time, swept_conversation_id = excluded.swept_conversation_id`,
      [
        toPgText(mark.agentId),
        toPgText(mark.settings),
        mark.effectiveAt,
        mark.sweptThrough?.startTime ?? null,
        toPgText(mark.sweptThrough?.conversationId ?? null),
      ],
    );
  }

  async deleteAgentMark(agentId: string): Promise<void> {
    await this.pool.query("DELETE FROM retention_agents WHERE agent_id = $1", [toPgText(agentId)]);
  }

  async findStartedBefore(query: StartedBeforeQuery): Promise<ConversationPosition[]> {
    const agent = query.agentId === null ? "$1::text IS NULL" : AGENT_IS;
    const result = await withoutStatementTimeout(this.pool, (client) =>
      client.query<PositionDbRow>(
        `SELECT c.conversation_id, c.start_time FROM conversations c
       WHERE ${agent} AND c.start_time >= $5::float8 AND c.start_time < $6::float8 AND ${SETTLED}
         ${NOT_EXCEPTED} ${PAGE}`,
        [
          toPgText(query.agentId),
          ...pageParams(query.after, query.limit),
          query.startFrom ?? Number.NEGATIVE_INFINITY,
          query.startBefore,
          ...exceptParams(query.except),
        ],
      ),
    );
    return result.rows.map(toPosition);
  }

  async findSettled(query: SettledQuery): Promise<ConversationPosition[]> {
    const result = await withoutStatementTimeout(this.pool, (client) =>
      client.query<PositionDbRow>(
        `SELECT c.conversation_id, c.start_time FROM conversations c
       WHERE ${AGENT_IS} AND c.start_time >= $5::float8 AND ${SETTLED} ${PAGE}`,
        [
          toPgText(query.agentId),
          ...pageParams(query.after, query.limit),
          query.startFrom ?? Number.NEGATIVE_INFINITY,
        ],
      ),
    );
    return result.rows.map(toPosition);
  }

  async findToTrim(query: TrimQuery): Promise<TrimCandidate[]> {
    const result = await withoutStatementTimeout(this.pool, (client) =>
      client.query<PositionDbRow & { ready: boolean }>(
        `SELECT c.conversation_id, c.start_time, (${SETTLED} AND ${NOT_LIVE}) AS ready FROM conversations c
       WHERE ${AGENT_IS} AND c.start_time >= $5::float8 AND c.start_time < $6::float8
         AND (c.start_time, c.conversation_id) > ($2::float8, $3::text)
         AND NOT ((NOT $7::boolean
             OR (c.doc::jsonb #> '{metadata,deletion_settings,delete_audio}') IS NOT DISTINCT FROM 'true'::jsonb)
           AND (NOT $8::boolean
             OR (c.doc::jsonb #> '{metadata,deletion_settings,delete_transcript_and_pii}')
               IS NOT DISTINCT FROM 'true'::jsonb))
       ORDER BY c.start_time, c.conversation_id LIMIT $4`,
        [
          toPgText(query.agentId),
          ...pageParams(query.after, query.limit),
          query.startFrom ?? Number.NEGATIVE_INFINITY,
          query.startBefore,
          query.audio,
          query.transcript,
        ],
      ),
    );
    return result.rows.map((row) => ({ ...toPosition(row), ready: row.ready }));
  }

  async removeAudio(conversationId: string): Promise<AudioInfo | null | undefined> {
    const id = toPgText(conversationId);
    return inTransaction(this.pool, async (client) => {
      const found = await client.query<AudioDbRow>(
        `SELECT ${audioColumns()} FROM conversations WHERE conversation_id = $1 FOR UPDATE`,
        [id],
      );
      const row = found.rows[0];
      if (!row) return undefined;
      const audio = toAudio(row);
      if (audio) {
        await client.query(
          `UPDATE conversations SET audio_key = NULL, audio_type = NULL, audio_size = NULL,
             user_audio_key = NULL, user_audio_size = NULL, agent_audio_key = NULL, agent_audio_size = NULL,
             updated_at = $2
           WHERE conversation_id = $1`,
          [id, Math.floor(Date.now() / 1000)],
        );
      }
      return audio;
    });
  }

  async removeTranscriptData(conversationId: string): Promise<string[]> {
    const id = toPgText(conversationId);
    return inTransaction(this.pool, async (client) => {
      await client.query("DELETE FROM sip_messages WHERE conversation_id = $1", [id]);
      await client.query("DELETE FROM message_embeddings WHERE conversation_id = $1", [id]);
      await client.query("DELETE FROM embedding_state WHERE conversation_id = $1", [id]);
      const files = await client.query<{ blob_key: string }>(
        "DELETE FROM conversation_files WHERE conversation_id = $1 RETURNING blob_key",
        [id],
      );
      return files.rows.map((f) => f.blob_key);
    });
  }
}

function toPosition(row: PositionDbRow): ConversationPosition {
  return { conversationId: row.conversation_id, startTime: Number(row.start_time) };
}

function toMark(row: MarkDbRow): AgentPrivacyMark {
  return {
    agentId: row.agent_id,
    settings: row.settings,
    effectiveAt: Number(row.effective_at),
    sweptThrough:
      row.swept_start_time === null || row.swept_conversation_id === null
        ? null
        : { startTime: Number(row.swept_start_time), conversationId: row.swept_conversation_id },
  };
}

/** $2, $3, $4: the position after which (from the first when null), and the limit. */
function pageParams(after: ConversationPosition | null, limit: number): [number, string, number] {
  return [after?.startTime ?? Number.NEGATIVE_INFINITY, toPgText(after?.conversationId ?? "") ?? "", limit];
}

/** $7, $8: the excepted ranges as two parallel arrays. */
function exceptParams(ranges: readonly AgentRange[]): [(string | null)[], number[]] {
  return [ranges.map((r) => toPgText(r.agentId)), ranges.map((r) => r.startFrom ?? Number.NEGATIVE_INFINITY)];
}
