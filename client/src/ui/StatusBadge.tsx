import { humanize } from "../lib/format.ts";

/**
 * A status as a word with a colour (never colour alone): incident statuses, severities,
 * service statuses, maintenance states, deliveries, integrations and subscribers share one
 * palette keyed by tone.
 */
const TONES: Record<string, "ok" | "info" | "warn" | "bad" | "critical" | "muted"> = {
  operational: "ok",
  succeeded: "ok",
  enabled: "ok",
  confirmed: "ok",
  resolved: "ok",
  completed: "ok",
  none: "ok",
  low: "info",
  monitoring: "info",
  scheduled: "info",
  pending: "info",
  under_maintenance: "info",
  in_progress: "info",
  identified: "warn",
  medium: "warn",
  minor: "warn",
  degraded_performance: "warn",
  investigating: "bad",
  failed: "bad",
  failing: "bad",
  high: "bad",
  major: "bad",
  partial_outage: "bad",
  critical: "critical",
  major_outage: "critical",
  canceled: "muted",
  disabled: "muted",
  unsubscribed: "muted",
  internal: "muted",
};

export function StatusBadge({ value, label }: { value: string; label?: string }) {
  return <span className={`badge badge--${TONES[value] ?? "muted"}`}>{label ?? humanize(value)}</span>;
}
