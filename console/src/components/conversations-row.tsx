/**
 * One row of the conversations table. Rows are memoised and hold no handlers of their own (the
 * table delegates keys and clicks), so a page of a hundred re-renders only what changed.
 */
import { memo } from "react";
import { Link } from "react-router";
import { formatDateTime, formatDuration } from "../format";
import { SuccessBadge } from "./status";

/** A list item of `GET /v1/convai/conversations` (ConversationSummaryResponseModel), the keys the table reads. */
export interface ConversationListItem {
  conversation_id: string;
  agent_id: string;
  agent_name?: string;
  start_time_unix_secs: number;
  call_duration_secs: number;
  message_count: number;
  status: string;
  call_successful: string;
  call_summary_title?: string;
  rating?: number;
  tag_ids?: string[];
}

/** A page of the list. */
export interface ConversationListPage {
  conversations: ConversationListItem[];
  has_more: boolean;
  next_cursor: string | null;
}

/** The table's column headings, in order. */
export const CONVERSATION_COLUMNS = [
  "Agent",
  "Start",
  "Duration",
  "Messages",
  "Status",
  "Success",
  "Rating",
  "Tags",
] as const;

/** A row; `tagNames` maps tag ids to titles (an unknown id shows as itself). */
export const ConversationRow = memo(function ConversationRow({
  item,
  index,
  focusable,
  tagNames,
}: {
  item: ConversationListItem;
  index: number;
  /** The one row in the tab order (roving tabindex). */
  focusable: boolean;
  tagNames: ReadonlyMap<string, string>;
}) {
  const href = `/conversations/${encodeURIComponent(item.conversation_id)}`;
  return (
    <tr tabIndex={focusable ? 0 : -1} data-index={index} data-href={href}>
      <td>
        <Link to={href} tabIndex={-1}>
          {item.agent_name ?? item.agent_id}
        </Link>
        {item.call_summary_title ? (
          <div className="conversations-title muted">{item.call_summary_title}</div>
        ) : null}
      </td>
      <td className="conversations-nowrap">{formatDateTime(item.start_time_unix_secs)}</td>
      <td>{formatDuration(item.call_duration_secs)}</td>
      <td>{item.message_count}</td>
      <td>{item.status}</td>
      <td>
        <SuccessBadge value={item.call_successful} />
      </td>
      <td>{item.rating !== undefined ? `${item.rating}/5` : "—"}</td>
      <td>
        {(item.tag_ids ?? []).map((id) => (
          <span key={id} className="badge conversations-tag">
            {tagNames.get(id) ?? id}
          </span>
        ))}
      </td>
    </tr>
  );
});
