/** How a day of uptime is shown: its colour class and its words. */
import type { UptimeDayJson } from "./types.ts";

export type DayTone = "none" | "ok" | "minor" | "partial" | "major" | "maintenance";

export function dayTone(day: UptimeDayJson | null): DayTone {
  if (!day || day.uptime_percent === null) return "none";
  if (day.major_outage_seconds > 0) return "major";
  if (day.partial_outage_seconds > 0) return "partial";
  if (day.degraded_seconds > 0) return "minor";
  if (day.maintenance_seconds > 0) return "maintenance";
  return "ok";
}

function minutes(seconds: number): string {
  const value = Math.round(seconds / 60);
  return `${value} min`;
}

export function describeDay(day: UptimeDayJson | null): string {
  if (!day || day.uptime_percent === null) return "No data";
  const parts = [`${formatPercent(day.uptime_percent)} uptime`];
  if (day.major_outage_seconds > 0) parts.push(`major outage ${minutes(day.major_outage_seconds)}`);
  if (day.partial_outage_seconds > 0) parts.push(`partial outage ${minutes(day.partial_outage_seconds)}`);
  if (day.degraded_seconds > 0) parts.push(`degraded ${minutes(day.degraded_seconds)}`);
  if (day.maintenance_seconds > 0) parts.push(`maintenance ${minutes(day.maintenance_seconds)}`);
  if (parts.length === 1) parts.push("no incidents");
  return parts.join(", ");
}

export function formatPercent(value: number | null): string {
  if (value === null) return "—";
  // Two decimals, but never round an imperfect day up to 100%.
  const text = (Math.floor(value * 100) / 100).toFixed(2);
  return `${text}%`;
}

/** The last `count` UTC days ending today, oldest first, as YYYY-MM-DD. */
export function lastDays(count: number, today = new Date()): string[] {
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Array.from({ length: count }, (_, index) =>
    new Date(end - (count - 1 - index) * 86_400_000).toISOString().slice(0, 10),
  );
}

/** One entry per day of the window, with null for days the service has no record of (all, for a new one). */
export function alignDays(
  days: UptimeDayJson[] | null,
  count: number,
  today = new Date(),
): { date: string; day: UptimeDayJson | null }[] {
  const byDate = new Map((days ?? []).map((day) => [day.date, day]));
  return lastDays(count, today).map((date) => ({ date, day: byDate.get(date) ?? null }));
}
