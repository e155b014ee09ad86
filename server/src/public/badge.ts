/**
 * The status badge (an SVG for READMEs and dashboards), rendered with shields.io's own
 * `badge-maker` so it looks like every other badge next to it. badge-maker escapes the five
 * XML specials in label and message; we additionally drop characters XML 1.0 cannot carry,
 * since one control character in a page name would make the whole image unparsable.
 */
import { makeBadge } from "badge-maker";
import { xmlSafe } from "./feeds.ts";
import type { SnapshotBody, StatusJson } from "./snapshot.ts";

// Shields' named colours, resolved to its palette by badge-maker.
const COLOURS: Record<StatusJson["indicator"], string> = {
  none: "brightgreen",
  minor: "yellow",
  major: "orange",
  critical: "red",
};

// Statuspage has no "maintenance" indicator (strict readers reject it): maintenance with
// nothing else wrong is indicator "none" with this description, and deserves its own colour.
const MAINTENANCE_DESCRIPTION = "Service Under Maintenance";

/** Tenant text for the badge: XML-legal, single-line, and short enough to stay a badge. */
function badgeText(text: string, max: number): string {
  const clean = xmlSafe(text).replace(/\s+/g, " ").trim();
  const chars = Array.from(clean); // by code point, so an emoji is never cut in half
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : clean;
}

export function badgeColour(status: StatusJson): string {
  if (status.indicator === "none" && status.description === MAINTENANCE_DESCRIPTION) return "blue";
  return COLOURS[status.indicator] ?? "lightgrey";
}

export function renderBadge(body: SnapshotBody): string {
  return makeBadge({
    label: badgeText(body.page.name, 40) || "status",
    message: badgeText(body.status.description, 40) || "unknown",
    color: badgeColour(body.status),
    style: "flat",
  });
}
