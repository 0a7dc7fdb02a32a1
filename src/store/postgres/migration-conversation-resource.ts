/**
 * Schema version 2: conversation tags, uploaded files, SIP messages and agent topics (the same
 * tables as SQLite's version 2; ids that take part in ordering or references use the "C" collation).
 */
export const postgresConversationResourceMigration = `
  CREATE TABLE conversation_tags (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tag_id TEXT COLLATE "C" NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT,
    owner_user_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE conversation_files (
    file_id TEXT COLLATE "C" PRIMARY KEY,
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    blob_key TEXT NOT NULL,
    file_name TEXT,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX conversation_files_conversation ON conversation_files (conversation_id);

  CREATE TABLE sip_messages (
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
  );

  CREATE TABLE agent_topics (
    agent_id TEXT COLLATE "C" NOT NULL,
    position INTEGER NOT NULL,
    topic_id TEXT COLLATE "C" NOT NULL,
    topic TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (agent_id, position),
    UNIQUE (agent_id, topic_id)
  );
  `;
