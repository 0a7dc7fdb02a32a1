/** The Overview's headline figures of the period: conversations, success rate, average and p90 duration. */
import { formatCount, formatDuration, formatPercent } from "../format";
import type { OverviewFigures } from "./overview-types";

function Stat({ label, value, detail }: { label: string; value: string; detail: string }) {
  return (
    <div className="card overview-stat">
      <dt>{label}</dt>
      <dd className="overview-stat-value">{value}</dd>
      <dd className="overview-stat-detail muted">{detail}</dd>
    </div>
  );
}

export function OverviewCards({ totals }: { totals: OverviewFigures }) {
  const decided = totals.successful + totals.failed;
  return (
    <dl className="cards overview-stats">
      <Stat
        label="Conversations"
        value={formatCount(totals.conversations)}
        detail={`${formatCount(totals.successful)} successful, ${formatCount(totals.failed)} failed, ${formatCount(totals.unknown)} unknown`}
      />
      <Stat
        label="Success rate"
        value={formatPercent(totals.success_rate)}
        detail={
          decided === 0
            ? "No successful or failed conversation"
            : `${formatCount(totals.successful)} of ${formatCount(decided)} with a result`
        }
      />
      <Stat
        label="Average duration"
        value={formatDuration(totals.average_duration_secs)}
        detail="Mean call length"
      />
      <Stat
        label="p90 duration"
        value={formatDuration(totals.p90_duration_secs)}
        detail="9 in 10 calls were this long or shorter"
      />
    </dl>
  );
}
