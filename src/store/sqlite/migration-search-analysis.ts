/** Schema version 4: message embeddings and analysis settings. */
export const sqliteSearchAnalysisMigration = "SELECT 1";
