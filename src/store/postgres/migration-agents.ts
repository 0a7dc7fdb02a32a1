/**
 * Schema version 7: agents (the Agents API), the same table as SQLite's. `doc` is the agent's
 * document as the client wrote it (JSON text, kept as text so it comes back as it went in);
 * `search_name` is its name folded for search, matched with strpos (a plain substring test, as
 * SQLite's instr). `seq` orders the list (newest first).
 */
export const postgresAgentsMigration = `
  CREATE TABLE agents (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id TEXT COLLATE "C" NOT NULL UNIQUE,
    search_name TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  `;
