/**
 * A conversation's facts: when it started and how long it lasted, why it ended, its language and
 * cost; the dynamic variables it was started with; the caller's feedback.
 */
import { formatDateTime, formatDuration } from "../format";
import { type ConversationDoc, displayValue } from "./conversation-doc";

function Row({ name, value }: { name: string; value: unknown }) {
  if (value === null || value === undefined || value === "") return null;
  return (
    <>
      <dt>{name}</dt>
      <dd>{displayValue(value)}</dd>
    </>
  );
}

/** The metadata as a definition list (only what the document has). */
export function ConversationMetadata({ doc }: { doc: ConversationDoc }) {
  const m = doc.metadata ?? {};
  const phone = m.phone_call as { direction?: string; external_number?: string } | null | undefined;
  return (
    <dl className="facts">
      <Row name="Conversation ID" value={doc.conversation_id} />
      <Row name="Agent" value={doc.agent_name ? `${doc.agent_name} (${doc.agent_id})` : doc.agent_id} />
      <Row name="Status" value={doc.status} />
      <Row name="Started" value={m.start_time_unix_secs ? formatDateTime(m.start_time_unix_secs) : null} />
      <Row
        name="Duration"
        value={m.call_duration_secs !== undefined ? formatDuration(m.call_duration_secs) : null}
      />
      <Row name="Ended because" value={m.termination_reason} />
      <Row name="Language" value={m.main_language} />
      <Row name="Time zone" value={m.timezone} />
      <Row name="Source" value={m.conversation_initiation_source} />
      <Row name="User ID" value={doc.user_id} />
      <Row
        name="Phone call"
        value={phone ? [phone.direction, phone.external_number].filter(Boolean).join(" ") : null}
      />
      <Row name="Cost (credits)" value={typeof m.cost === "number" ? m.cost.toLocaleString() : null} />
      <Row name="LLM charge" value={m.charging?.llm_charge} />
      <Row name="Text only" value={m.text_only ? "yes" : null} />
      <Row name="Error" value={m.error ? `${m.error.code ?? ""} ${m.error.reason ?? ""}`.trim() : null} />
      <Row name="Warnings" value={m.warnings?.length ? m.warnings.join("; ") : null} />
    </dl>
  );
}

/** The dynamic variables the conversation was started with. */
export function ConversationVariables({ doc }: { doc: ConversationDoc }) {
  const variables = Object.entries(doc.conversation_initiation_client_data?.dynamic_variables ?? {});
  if (variables.length === 0) return <p className="muted">No dynamic variables.</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Dynamic variables</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {variables.map(([name, value]) => (
            <tr key={name}>
              <td>
                <code>{name}</code>
              </td>
              <td className="variable-value">{displayValue(value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The caller's feedback on the call. */
export function ConversationFeedback({ doc }: { doc: ConversationDoc }) {
  const f = doc.metadata?.feedback;
  const any =
    f &&
    (f.overall_score ||
      (f.rating !== null && f.rating !== undefined) ||
      (f.likes ?? 0) > 0 ||
      (f.dislikes ?? 0) > 0 ||
      f.comment);
  if (!f || !any) return <p className="muted">No feedback was given.</p>;
  return (
    <dl className="facts">
      <Row name="Rating" value={typeof f.rating === "number" ? `${f.rating} of 5` : null} />
      <Row name="Overall score" value={f.overall_score} />
      <Row name="Likes" value={f.likes ?? 0} />
      <Row name="Dislikes" value={f.dislikes ?? 0} />
      <Row name="Comment" value={f.comment} />
    </dl>
  );
}
