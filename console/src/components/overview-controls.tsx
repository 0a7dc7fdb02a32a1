/**
 * The Overview's filters: the period (last 7, 30 or 90 days, or any days from–to) and the agent.
 * They are the page's URL query (`?agent_id=&date_from=&date_to=`); this component only reports
 * what the user picked.
 */
import { useId } from "react";

/** The agents the select offers. */
export interface AgentChoice {
  agentId: string;
  name: string;
}

/** The period presets, in days ending today. */
export const PRESET_DAYS = [7, 30, 90] as const;

export interface OverviewControlsProps {
  dateFrom: string;
  dateTo: string;
  /** Today (UTC), `YYYY-MM-DD`: the end of the presets and the latest day to pick. */
  today: string;
  agentId: string;
  agents: AgentChoice[];
  /** Set when the agents could not be listed. */
  agentsError: string | null;
  onPeriod: (dateFrom: string, dateTo: string) => void;
  onAgent: (agentId: string) => void;
}

/** The day `days` days before `date` (`YYYY-MM-DD`, UTC); "" when `date` is not a day. */
export function daysBefore(date: string, days: number): string {
  const ms = Date.parse(`${date}T00:00:00Z`) - days * 86_400_000;
  if (!Number.isFinite(ms)) return "";
  return new Date(ms).toISOString().slice(0, 10);
}

export function OverviewControls(props: OverviewControlsProps) {
  const { dateFrom, dateTo, today, agentId, agents, agentsError, onPeriod, onAgent } = props;
  const ids = { from: useId(), to: useId(), agent: useId(), agentHint: useId() };
  const listed = agents.some((a) => a.agentId === agentId);

  return (
    <div className="toolbar overview-controls">
      <fieldset className="overview-presets">
        <legend>Period</legend>
        {PRESET_DAYS.map((days) => {
          const from = daysBefore(today, days - 1);
          const pressed = dateTo === today && dateFrom === from;
          return (
            <button
              key={days}
              type="button"
              className={pressed ? undefined : "secondary"}
              aria-pressed={pressed}
              onClick={() => onPeriod(from, today)}
            >
              Last {days} days
            </button>
          );
        })}
      </fieldset>
      <div className="field">
        <label htmlFor={ids.from}>From</label>
        <input
          id={ids.from}
          type="date"
          value={dateFrom}
          max={dateTo || today}
          onChange={(e) => onPeriod(e.target.value, dateTo)}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.to}>To</label>
        <input
          id={ids.to}
          type="date"
          value={dateTo}
          min={dateFrom || undefined}
          onChange={(e) => onPeriod(dateFrom, e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.agent}>Agent</label>
        <select
          id={ids.agent}
          value={agentId}
          onChange={(e) => onAgent(e.target.value)}
          aria-describedby={agentsError ? ids.agentHint : undefined}
        >
          <option value="">All agents</option>
          {agents.map((a) => (
            <option key={a.agentId} value={a.agentId}>
              {a.name}
            </option>
          ))}
          {agentId && !listed ? <option value={agentId}>{agentId}</option> : null}
        </select>
        {agentsError ? (
          <span className="hint" id={ids.agentHint}>
            The agents could not be listed ({agentsError}); reload the page to try again.
          </span>
        ) : null}
      </div>
    </div>
  );
}
