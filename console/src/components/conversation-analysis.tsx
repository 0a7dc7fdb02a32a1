/**
 * A conversation's analysis: the summary and its title, whether the call succeeded, each
 * evaluation criterion's verdict with its rationale, and the data collected with its rationale.
 */

import { type ConversationDoc, displayValue } from "./conversation-doc";
import { SuccessBadge } from "./status";

export function ConversationAnalysis({ analysis }: { analysis: ConversationDoc["analysis"] }) {
  if (!analysis) return <p className="muted">This conversation has not been analysed.</p>;
  const evaluations = Object.entries(analysis.evaluation_criteria_results ?? {});
  const collected = Object.entries(analysis.data_collection_results ?? {});
  return (
    <div className="analysis">
      <p className="analysis-outcome">
        Call outcome: <SuccessBadge value={analysis.call_successful} />
      </p>
      {analysis.call_summary_title && <p className="analysis-title">{analysis.call_summary_title}</p>}
      {analysis.transcript_summary ? (
        <p className="analysis-summary">{analysis.transcript_summary}</p>
      ) : (
        <p className="muted">No summary.</p>
      )}
      <h3>Evaluation</h3>
      {evaluations.length === 0 ? (
        <p className="muted">No evaluation criteria.</p>
      ) : (
        <ul className="result-list" aria-label="Evaluation results">
          {evaluations.map(([id, result]) => (
            <li key={id} className="result">
              <span className="result-name">{result.criteria_id ?? id}</span>{" "}
              <SuccessBadge value={result.result} />
              {result.rationale && <p className="result-rationale">{result.rationale}</p>}
            </li>
          ))}
        </ul>
      )}
      <h3>Data collected</h3>
      {collected.length === 0 ? (
        <p className="muted">No data collected.</p>
      ) : (
        <ul className="result-list" aria-label="Data collected">
          {collected.map(([id, result]) => (
            <li key={id} className="result">
              <span className="result-name">{result.data_collection_id ?? id}</span>:{" "}
              <span className="result-value">{displayValue(result.value)}</span>
              {result.rationale && <p className="result-rationale">{result.rationale}</p>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
