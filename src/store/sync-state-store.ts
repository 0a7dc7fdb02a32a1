/** Where `openconvai sync` has got to for one source. */
export interface SyncState {
  /** Identifies the source: its base URL without credentials, plus the agent filter. */
  source: string;
  /**
   * The high-water mark: every conversation of the source that started before this time (unix
   * seconds) has been stored. Null until a first run completes.
   */
  highWaterUnixSecs: number | null;
  /** When the last run completed (unix seconds). */
  lastRunUnixSecs: number | null;
}

/** The sync high-water marks, one per source. */
export interface SyncStateStore {
  /** The state of a source; undefined if it was never synced. */
  getSyncState(source: string): Promise<SyncState | undefined>;
  /** Creates or replaces the state of a source. */
  putSyncState(state: SyncState): Promise<void>;
}
