/** Schema version 2: tags, feedback, files and SIP messages. */
export const sqliteConversationResourceMigration = "SELECT 1";
