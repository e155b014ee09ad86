/**
 * What every sender's format becomes before the database sees it: one alert, identified by a
 * fingerprint, firing or resolved. `app_hidden.receive_alerts` applies a list of these.
 */
import { createHash } from "node:crypto";

export type IncidentSeverity = "low" | "medium" | "high" | "critical";

export interface NormalizedAlert {
  /** The sender's identity of the alert: the same alert firing again has the same one. */
  fingerprint: string;
  status: "firing" | "resolved";
  title: string;
  /** NULL: the source's default severity. */
  severity: IncidentSeverity | null;
  /** A service's id or name in the organization; NULL: the source's default service. */
  service: string | null;
  message: string | null;
  /** ISO 8601: when the alert started (firing) or ended (resolved). */
  occurred_at: string | null;
}

/** A payload the sender can fix: answered 400 INVALID_PAYLOAD with these details. */
export class InvalidPayloadError extends Error {
  constructor(
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** Largest number of alerts one request may carry. */
export const MAX_ALERTS_PER_REQUEST = 200;

const TITLE_LENGTH = 200;
const MESSAGE_LENGTH = 10_000;

/**
 * Severity words monitoring tools and teams use, mapped onto ours. Unknown words give NULL, so
 * the source's default applies rather than a guess.
 */
const SEVERITY_WORDS: Record<string, IncidentSeverity> = {
  critical: "critical",
  crit: "critical",
  fatal: "critical",
  emergency: "critical",
  emerg: "critical",
  alert: "critical",
  disaster: "critical",
  page: "critical",
  p1: "critical",
  sev1: "critical",
  high: "high",
  error: "high",
  err: "high",
  major: "high",
  p2: "high",
  sev2: "high",
  medium: "medium",
  moderate: "medium",
  warning: "medium",
  warn: "medium",
  average: "medium",
  p3: "medium",
  sev3: "medium",
  low: "low",
  minor: "low",
  info: "low",
  informational: "low",
  notice: "low",
  debug: "low",
  none: "low",
  p4: "low",
  p5: "low",
  sev4: "low",
  sev5: "low",
};

export function severityFromWord(word: string | null | undefined): IncidentSeverity | null {
  if (!word) return null;
  return (
    SEVERITY_WORDS[
      word
        .trim()
        .toLowerCase()
        .replace(/[\s_-]+/g, "")
    ] ?? null
  );
}

export const truncate = (text: string, length: number) =>
  text.length <= length ? text : `${text.slice(0, length - 1)}…`;

export const clampTitle = (title: string) => truncate(title.trim(), TITLE_LENGTH);
export const clampMessage = (message: string | null | undefined) =>
  message && message.trim() ? truncate(message.trim(), MESSAGE_LENGTH) : null;

/** A stable fingerprint for senders that give none: the same inputs always give the same one. */
export function derivedFingerprint(...parts: (string | null | undefined)[]): string {
  return createHash("sha256")
    .update(parts.map((part) => part ?? "").join("\u0000"))
    .digest("hex")
    .slice(0, 32);
}

/** Go's zero time: Alertmanager and Grafana send it as endsAt while an alert fires. */
const ZERO_TIME_YEAR = 1;

/** Beyond it PostgreSQL's timestamptz input refuses ISO 8601's expanded years (+010000-…). */
const LAST_STORABLE_YEAR = 9999;

/** An RFC 3339 time as ISO 8601, or NULL for a missing, unreadable, zero or unstorable time. */
export function isoTime(value: string | null | undefined): string | null {
  if (!value) return null;
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) return null;
  const year = time.getUTCFullYear();
  if (year <= ZERO_TIME_YEAR || year > LAST_STORABLE_YEAR) return null;
  return time.toISOString();
}
