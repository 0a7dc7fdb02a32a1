import type pg from "pg";
import { type SyncStateDbRow, toSyncState } from "../db-rows.js";
import type { SyncState, SyncStateStore } from "../sync-state-store.js";

/** Sync high-water marks in PostgreSQL. */
export class PostgresSyncStateStore implements SyncStateStore {
  constructor(private readonly pool: pg.Pool) {}

  async getSyncState(source: string): Promise<SyncState | undefined> {
    const result = await this.pool.query<SyncStateDbRow>("SELECT * FROM sync_state WHERE source = $1", [
      source,
    ]);
    const r = result.rows[0];
    return r ? toSyncState(r) : undefined;
  }

  async putSyncState(state: SyncState): Promise<void> {
    await this.pool.query(
      "INSERT INTO sync_state (source, high_water, last_run) VALUES ($1, $2, $3) ON CONFLICT (source) DO UPDATE SET high_water = excluded.high_water, last_run = excluded.last_run",
      [state.source, state.highWaterUnixSecs, state.lastRunUnixSecs],
    );
  }
}
