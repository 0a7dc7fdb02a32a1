import type BetterSqlite3 from "better-sqlite3";
import { type SyncStateDbRow, toSyncState } from "../db-rows.js";
import type { SyncState, SyncStateStore } from "../sync-state-store.js";

/** Sync high-water marks in SQLite. */
export class SqliteSyncStateStore implements SyncStateStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  async getSyncState(source: string): Promise<SyncState | undefined> {
    const r = this.db.prepare("SELECT * FROM sync_state WHERE source = ?").get(source) as
      | SyncStateDbRow
      | undefined;
    return r ? toSyncState(r) : undefined;
  }

  async putSyncState(state: SyncState): Promise<void> {
    this.db
      .prepare(
        "INSERT INTO sync_state (source, high_water, last_run) VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE SET high_water = excluded.high_water, last_run = excluded.last_run",
      )
      .run(state.source, state.highWaterUnixSecs, state.lastRunUnixSecs);
  }
}
