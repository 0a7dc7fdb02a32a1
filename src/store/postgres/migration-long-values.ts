/**
 * Schema version 5: values of any length in the indexed columns.
 *
 * A btree entry holds at most about 2.7 KB, and documents may carry longer agent ids, user ids,
 * tool names, tags, data-collection values or dynamic variables. The indexes that held such a
 * value now hold its 64-bit hash (`hashtextextended`), and every query compares the hash (so the
 * index serves it) and then the value itself (so a hash collision never matches). The facet
 * rows lose their primary key, whose value column was the same problem: the store writes each
 * facet once, as SQLite's primary key does. Topic ids are unique per agent because the ingest
 * route checks them; an index over both ids could not hold two long ones.
 */
export const postgresLongValuesMigration = `
  DROP INDEX conversations_agent_start;
  CREATE INDEX conversations_agent_start
    ON conversations (hashtextextended(agent_id, 0), start_time, conversation_id);
  DROP INDEX conversations_user_start;
  CREATE INDEX conversations_user_start
    ON conversations (hashtextextended(user_id, 0), start_time, conversation_id) WHERE user_id IS NOT NULL;
  DROP INDEX conversations_branch_start;
  CREATE INDEX conversations_branch_start
    ON conversations (hashtextextended(branch_id, 0), start_time) WHERE branch_id IS NOT NULL;
  DROP INDEX conversations_version_start;
  CREATE INDEX conversations_version_start
    ON conversations (hashtextextended(version_id, 0), start_time) WHERE version_id IS NOT NULL;
  DROP INDEX conversations_parent;
  CREATE INDEX conversations_parent
    ON conversations (hashtextextended(parent_conversation_id, 0)) WHERE parent_conversation_id IS NOT NULL;

  ALTER TABLE facets DROP CONSTRAINT facets_pkey;
  DROP INDEX facets_lookup;
  CREATE INDEX facets_seq ON facets (seq, kind, hashtextextended(key, 0));
  CREATE INDEX facets_lookup
    ON facets (kind, hashtextextended(key, 0), hashtextextended(value, 0), seq);

  ALTER TABLE agent_topics DROP CONSTRAINT IF EXISTS agent_topics_agent_id_topic_id_key;
  `;
