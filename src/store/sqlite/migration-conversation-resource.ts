/**
 * Schema version 2: conversation tags, uploaded files, SIP messages and agent topics.
 *
 * Tag assignments and feedback are not tables: they live in the conversation document
 * (`tag_ids`, `metadata.feedback`), so the list filters keep reading them from the facets and
 * index columns that every document write maintains. Rows that belong to a conversation go with
 * it (ON DELETE CASCADE); the delete path also collects file blob keys in the same transaction.
 */
export const sqliteConversationResourceMigration = `
  CREATE TABLE conversation_tags (
    seq INTEGER PRIMARY KEY,
    tag_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT,
    owner_user_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE conversation_files (
    file_id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    blob_key TEXT NOT NULL,
    file_name TEXT,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX conversation_files_conversation ON conversation_files (conversation_id);

  CREATE TABLE sip_messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
  ) WITHOUT ROWID;

  CREATE TABLE agent_topics (
    agent_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    topic_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, position),
    UNIQUE (agent_id, topic_id)
  );
  `;
