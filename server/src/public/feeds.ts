/**
 * RSS 2.0 and Atom 1.0 feeds of a status page's public history (`history.rss`, `history.atom`),
 * built from the snapshot body so they show exactly what the public JSON shows.
 *
 * The XML is produced by the `feed` package; everything tenant-controlled is escaped here
 * first, because the library does not do it for us:
 * - item titles and bodies go out as CDATA that readers treat as HTML (Atom says
 *   `type="html"`), so they must be HTML-escaped text, never markup;
 * - its CDATA writer only splits the first `]]>`, so a second one would end the section —
 *   HTML-escaping turns every `>` into `&gt;`, so no `]]>` reaches it;
 * - its text writer first turns `&amp;` back into `&` (to avoid double escaping), which
 *   would change a literal "&amp;"; `plainText` compensates;
 * - characters XML 1.0 forbids (most C0 controls) would make the whole feed unparsable.
 */
import { Feed, type Item } from "feed";
import type { IncidentJson, MaintenanceJson, SnapshotBody } from "./snapshot.ts";

type FeedKind = "rss" | "atom";

export function renderRss(body: SnapshotBody, origin: string): string {
  return buildFeed(body, origin, "rss").rss2();
}

export function renderAtom(body: SnapshotBody, origin: string): string {
  return buildFeed(body, origin, "atom").atom1();
}

// Control characters XML 1.0 cannot carry at all (not even as references), and lone surrogates.
const XML_INVALID =
  // Matching control characters is the point here.
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Tenant text minus what XML 1.0 forbids (shared with the badge). */
export function xmlSafe(text: string): string {
  return text.replace(XML_INVALID, "");
}

/** For values the library writes as CDATA read as HTML: the text, escaped so it stays text. */
export function escapeHtml(text: string): string {
  return xmlSafe(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** For values the library writes as XML text: undo its `&amp;` → `&` step in advance. */
function plainText(text: string): string {
  return xmlSafe(text).replace(/&amp;/g, "&amp;amp;");
}

/** Snapshot URLs are page-relative ("/status/acme/…"); feeds need absolute ones. */
function absolute(origin: string, path: string): string {
  return new URL(path, origin.endsWith("/") ? origin : `${origin}/`).toString();
}

function time(value: string | null | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** When the item first appeared: incidents from their start, maintenance from its announcement. */
function publishedAt(incident: IncidentJson, isMaintenance: boolean): number {
  const preferred = isMaintenance ? incident.created_at : (incident.started_at ?? incident.created_at);
  return time(preferred) ?? time(incident.created_at) ?? 0;
}

/** Latest public update, or the start when there is none yet: orders the feed and dates `updated`. */
function lastChangedAt(incident: IncidentJson, isMaintenance: boolean): number {
  const times = (incident.incident_updates ?? []).map((u) => time(u.display_at) ?? time(u.created_at) ?? 0);
  return Math.max(publishedAt(incident, isMaintenance), ...times);
}

function humanStatus(status: string): string {
  const words = status.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Simple escaped HTML, Statuspage style: one paragraph per public update, newest first. */
function updatesHtml(incident: IncidentJson, maintenance: MaintenanceJson | null): string {
  const parts: string[] = [];
  if (maintenance) {
    const from = escapeHtml(maintenance.scheduled_for);
    const until = escapeHtml(maintenance.scheduled_until);
    parts.push(
      `<p><small>Scheduled for <time datetime="${from}">${from}</time>` +
        ` until <time datetime="${until}">${until}</time></small></p>`,
    );
  }
  for (const update of incident.incident_updates ?? []) {
    const at = escapeHtml(update.display_at ?? update.created_at);
    const bodyHtml = escapeHtml(update.body).replace(/\r?\n/g, "<br>");
    parts.push(
      `<p><small><time datetime="${at}">${at}</time></small><br>` +
        `<strong>${escapeHtml(humanStatus(update.status))}</strong> - ${bodyHtml}</p>`,
    );
  }
  return parts.join("\n");
}

interface Entry {
  incident: IncidentJson;
  maintenance: MaintenanceJson | null;
  sortKey: number;
}

function entries(body: SnapshotBody): Entry[] {
  const seen = new Set<string>();
  const all: Entry[] = [];
  const add = (incident: IncidentJson, maintenance: MaintenanceJson | null) => {
    // Incidents and maintenance live in different tables; their shortlinks tell them apart.
    if (seen.has(incident.shortlink)) return;
    seen.add(incident.shortlink);
    all.push({ incident, maintenance, sortKey: lastChangedAt(incident, maintenance !== null) });
  };
  for (const incident of body.incident_history ?? []) add(incident, null);
  for (const window of body.maintenance_history ?? []) add(window, window);
  // Newest first; ties broken by id so the output (and so its ETag) is deterministic.
  return all.sort((a, b) => b.sortKey - a.sortKey || a.incident.id.localeCompare(b.incident.id));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function buildFeed(body: SnapshotBody, origin: string, kind: FeedKind): Feed {
  const pageUrl = absolute(origin, body.page.url);
  const items = entries(body);
  const pageName = body.page.name || "Status page";
  // Never "now": an unchanged page must render byte-identical feeds for ETags and caches.
  const updated = new Date(Math.max(time(body.page.updated_at) ?? 0, items[0]?.sortKey ?? 0));

  const feed = new Feed({
    id: pageUrl,
    // Atom's feed title is plain text; RSS readers commonly treat channel text as plain text too.
    title: plainText(`${pageName} status`),
    description: plainText(body.description || `Incidents and maintenance for ${pageName}`),
    link: pageUrl,
    updated,
    generator: "IncidentPulse",
    language: "en",
    feedLinks: {
      rss: `${pageUrl.replace(/\/$/, "")}/history.rss`,
      atom: `${pageUrl.replace(/\/$/, "")}/history.atom`,
    },
  });

  for (const { incident, maintenance, sortKey } of items) {
    const link = absolute(origin, incident.shortlink);
    const html = updatesHtml(incident, maintenance);
    // Categories land in XML attributes that the library escapes only partly; impact and
    // status are enum words, so anything else is simply left out.
    const category = [incident.impact, incident.status]
      .filter((word) => /^[a-z_]+$/.test(word))
      .map((word) => ({ name: word, term: word }));
    const item: Item = {
      title: escapeHtml(incident.name),
      // Stable across origins and renames; shortlinks are the fallback for non-uuid ids.
      id: UUID.test(incident.id) ? `urn:uuid:${incident.id.toLowerCase()}` : link,
      link,
      date: new Date(sortKey),
      published: new Date(publishedAt(incident, maintenance !== null)),
      category,
    };
    // RSS readers read <description>; Atom readers read <content>. One each, no duplicates.
    if (kind === "rss") item.description = html;
    else item.content = html;
    feed.addItem(item);
  }
  return feed;
}
