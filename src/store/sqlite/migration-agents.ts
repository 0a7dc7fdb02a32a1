/**
 * Schema version 6: agents (the Agents API). `doc` is the agent's document as the client wrote it
 * (JSON text); `search_name` is its name folded for search (`foldForSearch`), matched with instr
 * so the search is a plain substring test on every backend. `seq` orders the list (newest first).
 */
export const sqliteAgentsMigration = `
  CREATE TABLE agents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL UNIQUE,
    search_name TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `;
