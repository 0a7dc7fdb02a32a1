/**
 * Conversation feedback as `POST /v1/convai/conversations/{id}/feedback` records it in the
 * document's `metadata.feedback` (upstream's ConversationHistoryFeedbackCommonModel).
 */

/** A validated feedback request: a key that is present sets that part (null clears it). */
export interface FeedbackChange {
  /** Thumbs: `like` or `dislike`, becoming `overall_score`. */
  feedback?: string | null;
  /** A 1–5 rating (the browser client's rating form). */
  rating?: number | null;
  /** A free-text comment (the browser client's rating form). */
  comment?: string | null;
}

/**
 * Applies a change to the stored feedback object and returns the new one. `type` follows what
 * the feedback now holds: `rating` when there is a rating, `thumbs` when there is only a thumbs
 * score; `likes` and `dislikes` (counts of in-call feedback) are kept as they are.
 */
export function applyFeedback(
  current: Record<string, unknown> | undefined,
  change: FeedbackChange,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...(current ?? {}) };
  if ("feedback" in change) next.overall_score = change.feedback ?? null;
  if ("rating" in change) next.rating = change.rating ?? null;
  if ("comment" in change) next.comment = change.comment ?? null;
  const hasRating = typeof next.rating === "number";
  const hasScore = typeof next.overall_score === "string";
  if (hasRating) next.type = "rating";
  else if (hasScore) next.type = "thumbs";
  return next;
}
