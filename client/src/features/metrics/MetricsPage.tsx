/**
 * Response metrics: MTTA and MTTR for a chosen period, incident counts by severity and by
 * service, and the last weeks' trend (one incidentMetrics per week, in a single request).
 */
import { useMemo, useState } from "react";
import { gql } from "urql";
import { formatDuration, humanize } from "../../lib/format.ts";
import { BarChart } from "../../ui/BarChart.tsx";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { useLiveQuery } from "../live/LiveUpdates.tsx";

const DAY = 86_400_000;
const WEEKS = 8;
const PERIODS = [7, 30, 90];

interface Metric {
  incidentCount: number | null;
  acknowledgedCount: number | null;
  resolvedCount: number | null;
  mttaMeanSeconds: number | null;
  mttaMedianSeconds: number | null;
  mttrMeanSeconds: number | null;
  mttrMedianSeconds: number | null;
}

const METRIC_FIELDS =
  "incidentCount acknowledgedCount resolvedCount mttaMeanSeconds mttaMedianSeconds mttrMeanSeconds mttrMedianSeconds";
const weekVariables = Array.from({ length: WEEKS }, (_, i) => `$s${i}: Datetime!, $e${i}: Datetime!`).join(", ");
const weekFields = Array.from(
  { length: WEEKS },
  (_, i) => `w${i}: incidentMetrics(periodStart: $s${i}, periodEnd: $e${i}) { ${METRIC_FIELDS} }`,
).join("\n");

const MetricsQuery = gql(`
  query Metrics($start: Datetime!, $end: Datetime!, ${weekVariables}) {
    period: incidentMetrics(periodStart: $start, periodEnd: $end) { ${METRIC_FIELDS} }
    incidentCountsBySeverity(periodStart: $start, periodEnd: $end) { nodes { severity incidentCount } }
    incidentCountsByService(periodStart: $start, periodEnd: $end) { nodes { serviceId serviceName incidentCount } }
    ${weekFields}
  }
`);

type MetricsData = {
  period: Metric | null;
  incidentCountsBySeverity: { nodes: { severity: string; incidentCount: number | null }[] } | null;
  incidentCountsByService: { nodes: { serviceId: string; serviceName: string; incidentCount: number | null }[] } | null;
} & Record<string, Metric | null>;

const hours = (seconds: number) => formatDuration(seconds);

/** Week boundaries ending now, oldest first. */
function weeks(now: number): { start: Date; end: Date; label: string }[] {
  return Array.from({ length: WEEKS }, (_, i) => {
    const end = new Date(now - (WEEKS - 1 - i) * 7 * DAY);
    const start = new Date(end.getTime() - 7 * DAY);
    return { start, end, label: start.toLocaleDateString(undefined, { month: "short", day: "numeric" }) };
  });
}

function Stat({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div className="stat card">
      <p className="stat__label">{label}</p>
      <p className="stat__value">{value}</p>
      {detail && <p className="muted">{detail}</p>}
    </div>
  );
}

export function MetricsPage() {
  const [days, setDays] = useState(30);
  // Fixed per mount and period, so re-renders do not make new variables (and new requests).
  const [now] = useState(() => Date.now());
  const ranges = useMemo(() => weeks(now), [now]);
  const variables = useMemo(() => {
    const vars: Record<string, string> = {
      start: new Date(now - days * DAY).toISOString(),
      end: new Date(now).toISOString(),
    };
    ranges.forEach((range, i) => {
      vars[`s${i}`] = range.start.toISOString();
      vars[`e${i}`] = range.end.toISOString();
    });
    return vars;
  }, [days, now, ranges]);
  const [{ data, fetching, error }] = useLiveQuery<MetricsData>({ query: MetricsQuery, variables });

  const period = data?.period;
  const trend = ranges.map((range, i) => ({ range, metric: data?.[`w${i}`] ?? null }));
  return (
    <>
      <PageHeader
        title="Metrics"
        actions={
          <div className="filters__select">
            <label htmlFor="metrics-period">Period</label>
            <select id="metrics-period" value={days} onChange={(e) => setDays(Number(e.target.value))}>
              {PERIODS.map((value) => (
                <option key={value} value={value}>
                  Last {value} days
                </option>
              ))}
            </select>
          </div>
        }
      />
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : (
        <>
          <div className="stats">
            <Stat
              label="Incidents"
              value={String(period?.incidentCount ?? 0)}
              detail={`${period?.resolvedCount ?? 0} resolved`}
            />
            <Stat
              label="Mean time to acknowledge"
              value={formatDuration(period?.mttaMeanSeconds)}
              detail={`median ${formatDuration(period?.mttaMedianSeconds)}`}
            />
            <Stat
              label="Mean time to resolve"
              value={formatDuration(period?.mttrMeanSeconds)}
              detail={`median ${formatDuration(period?.mttrMedianSeconds)}`}
            />
          </div>
          <div className="charts">
            <BarChart
              title="Incidents by severity"
              bars={(data?.incidentCountsBySeverity?.nodes ?? []).map((row) => ({
                label: humanize(row.severity),
                value: row.incidentCount ?? 0,
              }))}
            />
            <BarChart
              title="Incidents by service"
              bars={(data?.incidentCountsByService?.nodes ?? []).map((row) => ({
                label: row.serviceName,
                value: row.incidentCount ?? 0,
              }))}
            />
            <BarChart
              title="Incidents per week"
              bars={trend.map(({ range, metric }) => ({ label: range.label, value: metric?.incidentCount ?? 0 }))}
            />
            <BarChart
              title="Mean time to acknowledge per week"
              format={hours}
              bars={trend.map(({ range, metric }) => ({ label: range.label, value: metric?.mttaMeanSeconds ?? null }))}
            />
            <BarChart
              title="Mean time to resolve per week"
              format={hours}
              bars={trend.map(({ range, metric }) => ({ label: range.label, value: metric?.mttrMeanSeconds ?? null }))}
            />
          </div>
        </>
      )}
    </>
  );
}
