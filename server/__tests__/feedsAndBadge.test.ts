/**
 * history.rss / history.atom and the status badge, rendered from a snapshot body (no database).
 * Feeds are read back with a real feed parser (@rowanmanning/feed-parser) for structure, and
 * with fast-xml-parser for well-formedness and for the raw HTML inside CDATA, since the feed
 * parser entity-decodes HTML content and so cannot tell escaped text from markup.
 */
import { parseFeed } from "@rowanmanning/feed-parser";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { renderBadge } from "../src/public/badge.ts";
import { renderAtom, renderRss } from "../src/public/feeds.ts";
import type {
  ComponentJson,
  IncidentJson,
  IncidentUpdateJson,
  MaintenanceJson,
  SnapshotBody,
  StatusJson,
} from "../src/public/snapshot.ts";

const ORIGIN = "https://status.example.com";
const HOSTILE = `<script>alert(1)</script> R&D "quoted" 'single' ]]> and again ]]> 🚒🔥`;
const ORG_ID = "9f0c3e1a-6b7d-4c2e-8a51-0d3f6b2c9e11";
const OUTAGE_ID = "1d2f8a90-3c4b-4e5f-9a6b-7c8d9e0f1a2b";
const DEGRADED_ID = "2e3a9b01-4d5c-4f60-8b7c-8d9e0f1a2b3c";
const MAINT_ID = "3f4b0c12-5e6d-4071-9c8d-9e0f1a2b3c4d";

const api: ComponentJson = {
  id: "4a5c1d23-6f7e-4182-8d9e-0f1a2b3c4d5e",
  name: "API",
  status: "operational",
  created_at: "2024-01-01T00:00:00+00:00",
  updated_at: "2024-05-01T12:00:00+00:00",
  position: 1,
  description: null,
  showcase: true,
  start_date: null,
  group_id: null,
  page_id: ORG_ID,
  group: false,
  only_show_if_degraded: false,
};

function update(incidentId: string, n: number, status: string, body: string, at: string): IncidentUpdateJson {
  return {
    id: `${incidentId.slice(0, -2)}${String(n).padStart(2, "0")}`,
    incident_id: incidentId,
    status,
    body,
    created_at: at,
    updated_at: at,
    display_at: at,
    affected_components: null,
    deliver_notifications: true,
    custom_tweet: null,
    tweet_id: null,
  };
}

function incident(
  id: string,
  name: string,
  startedAt: string,
  updates: IncidentUpdateJson[],
  overrides: Partial<IncidentJson> = {},
): IncidentJson {
  return {
    id,
    name,
    status: updates[0]?.status ?? "investigating",
    impact: "major",
    created_at: startedAt,
    updated_at: updates[0]?.display_at ?? startedAt,
    started_at: startedAt,
    monitoring_at: null,
    resolved_at: null,
    shortlink: `/status/acme/incidents/${id}`,
    page_id: ORG_ID,
    incident_updates: updates,
    components: [api],
    ...overrides,
  };
}

// Started first but updated last: must come first in the feeds.
const outage = incident(OUTAGE_ID, HOSTILE, "2024-05-01T09:55:00+00:00", [
  update(OUTAGE_ID, 3, "resolved", "Fixed.\nThanks for your patience.", "2024-05-03T08:00:00+00:00"),
  update(OUTAGE_ID, 2, "identified", HOSTILE, "2024-05-01T10:30:00+00:00"),
  update(OUTAGE_ID, 1, "investigating", "We are looking into errors on the API.", "2024-05-01T10:00:00+00:00"),
]);
const degraded = incident(
  DEGRADED_ID,
  "Slow dashboard",
  "2024-05-02T14:00:00+00:00",
  [update(DEGRADED_ID, 1, "investigating", "Pages load slowly.", "2024-05-02T14:05:00+00:00")],
  { impact: "minor" },
);
const maintenance: MaintenanceJson = {
  ...incident(
    MAINT_ID,
    "Database upgrade",
    "2024-04-20T09:00:00+00:00",
    [
      update(MAINT_ID, 2, "in_progress", "Maintenance is in progress.", "2024-05-02T22:00:00+00:00"),
      update(MAINT_ID, 1, "scheduled", "Upgrading PostgreSQL.", "2024-04-20T09:00:00+00:00"),
    ],
    {
      impact: "maintenance",
      started_at: "2024-05-02T22:00:00+00:00",
      shortlink: `/status/acme/maintenance/${MAINT_ID}`,
    },
  ),
  scheduled_for: "2024-05-02T22:00:00+00:00",
  scheduled_until: "2024-05-02T23:00:00+00:00",
};

function snapshot(overrides: Partial<SnapshotBody> = {}): SnapshotBody {
  return {
    page: {
      id: ORG_ID,
      name: "Acme <b>Cloud</b> & Co",
      url: "/status/acme",
      time_zone: "Etc/UTC",
      updated_at: "2024-05-03T08:00:00+00:00",
    },
    status: { indicator: "none", description: "All Systems Operational" },
    components: [api],
    incidents: [],
    scheduled_maintenances: [maintenance],
    incident_history: [degraded, outage],
    maintenance_history: [maintenance],
    uptime: { days: 90, method: "per UTC day", components: [] },
    support_url: null,
    description: null,
    ...overrides,
  };
}

const xml = new XMLParser({ ignoreAttributes: false, cdataPropName: "#cdata", isArray: (name) => name === "item" });

/** Text of an escaped-HTML fragment, as a browser would show it. */
function htmlToText(html: string): string {
  return html
    .replace(/<br>/g, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

describe("history feeds", () => {
  it("RSS: channel title, absolute links, guids and dates, newest update first", () => {
    const rss = renderRss(snapshot(), ORIGIN);
    const feed = parseFeed(rss);
    expect(feed.meta.type).toBe("rss");
    expect(feed.title).toBe("Acme <b>Cloud</b> & Co status");
    expect(feed.url).toBe(`${ORIGIN}/status/acme`);
    expect(feed.self).toBe(`${ORIGIN}/status/acme/history.rss`);
    expect(feed.items.map((item) => item.url)).toEqual([
      `${ORIGIN}/status/acme/incidents/${OUTAGE_ID}`,
      `${ORIGIN}/status/acme/maintenance/${MAINT_ID}`,
      `${ORIGIN}/status/acme/incidents/${DEGRADED_ID}`,
    ]);
    expect(feed.items.map((item) => item.id)).toEqual([
      `urn:uuid:${OUTAGE_ID}`,
      `urn:uuid:${MAINT_ID}`,
      `urn:uuid:${DEGRADED_ID}`,
    ]);
    expect(feed.items[0]!.published?.toISOString()).toBe("2024-05-01T09:55:00.000Z");
    expect(rss).toContain('<guid isPermaLink="false">');
  });

  it("Atom: title, alternate and self links, ids, published and updated dates", () => {
    const feed = parseFeed(renderAtom(snapshot(), ORIGIN));
    expect(feed.meta.type).toBe("atom");
    expect(feed.title).toBe("Acme <b>Cloud</b> & Co status");
    expect(feed.url).toBe(`${ORIGIN}/status/acme`);
    expect(feed.self).toBe(`${ORIGIN}/status/acme/history.atom`);
    expect(feed.updated?.toISOString()).toBe("2024-05-03T08:00:00.000Z");
    const [first, second, third] = feed.items;
    expect(first!.id).toBe(`urn:uuid:${OUTAGE_ID}`);
    expect(first!.url).toBe(`${ORIGIN}/status/acme/incidents/${OUTAGE_ID}`);
    expect(first!.published?.toISOString()).toBe("2024-05-01T09:55:00.000Z");
    expect(first!.updated?.toISOString()).toBe("2024-05-03T08:00:00.000Z");
    // Maintenance is published when announced and updated when it started.
    expect(second!.id).toBe(`urn:uuid:${MAINT_ID}`);
    expect(second!.published?.toISOString()).toBe("2024-04-20T09:00:00.000Z");
    expect(second!.updated?.toISOString()).toBe("2024-05-02T22:00:00.000Z");
    expect(third!.title).toBe("Slow dashboard");
    expect(first!.categories.map((c) => c.term)).toEqual(["major", "resolved"]);
    expect(second!.categories.map((c) => c.term)).toContain("maintenance");
  });

  it.each([
    ["rss", renderRss],
    ["atom", renderAtom],
  ])("%s: a hostile incident name round-trips as text", (_kind, render) => {
    const feed = parseFeed(render(snapshot(), ORIGIN));
    expect(feed.items[0]!.title).toBe(HOSTILE);
  });

  it.each([
    ["rss", renderRss],
    ["atom", renderAtom],
  ])("%s: is well-formed XML with no markup from tenant text", (_kind, render) => {
    const out = render(snapshot(), ORIGIN);
    expect(XMLValidator.validate(out)).toBe(true);
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/<b>Cloud/);
    expect(out).toContain("&lt;script&gt;");
  });

  it("the update history is escaped HTML with status, time and body of each update", () => {
    const rssItem = xml.parse(renderRss(snapshot(), ORIGIN)).rss.channel.item[0];
    const atomEntry = xml.parse(renderAtom(snapshot(), ORIGIN)).feed.entry[0];
    const rssHtml: string = rssItem.description["#cdata"];
    const atomHtml: string = atomEntry.content["#cdata"];
    expect(atomEntry.content["@_type"]).toBe("html");
    for (const html of [rssHtml, atomHtml]) {
      expect(html).not.toMatch(/<script/i);
      expect(html).toContain("<strong>Identified</strong>");
      expect(html).toContain('<time datetime="2024-05-01T10:30:00+00:00">');
      const text = htmlToText(html);
      expect(text).toContain(HOSTILE);
      expect(text).toContain("Fixed.\nThanks for your patience.");
      // Newest update first.
      expect(text.indexOf("Resolved")).toBeLessThan(text.indexOf("Investigating"));
    }
  });

  it("maintenance items show their window and link to the maintenance page", () => {
    const entry = xml.parse(renderAtom(snapshot(), ORIGIN)).feed.entry[1];
    expect(entry.link["@_href"]).toBe(`${ORIGIN}/status/acme/maintenance/${MAINT_ID}`);
    const text = htmlToText(entry.content["#cdata"]);
    expect(text).toContain("Scheduled for 2024-05-02T22:00:00+00:00 until 2024-05-02T23:00:00+00:00");
    expect(text).toContain("In progress - Maintenance is in progress.");
  });

  it.each([
    ["rss", renderRss],
    ["atom", renderAtom],
  ])("%s: an empty history gives a valid, empty, deterministic feed", (_kind, render) => {
    const body = snapshot({ incident_history: [], maintenance_history: [] });
    body.page.updated_at = null;
    const out = render(body, ORIGIN);
    expect(XMLValidator.validate(out)).toBe(true);
    const feed = parseFeed(out);
    expect(feed.title).toBe("Acme <b>Cloud</b> & Co status");
    expect(feed.url).toBe(`${ORIGIN}/status/acme`);
    expect(feed.items).toEqual([]);
    // No "now" anywhere: unchanged pages keep their ETag.
    expect(render(body, ORIGIN)).toBe(out);
  });

  it("an origin with a trailing slash gives no double slashes; absolute URLs stay as they are", () => {
    const body = snapshot({ maintenance_history: [] });
    body.incident_history = [{ ...degraded, shortlink: `${ORIGIN}/status/acme/incidents/${DEGRADED_ID}` }];
    const feed = parseFeed(renderRss(body, `${ORIGIN}/`));
    expect(feed.url).toBe(`${ORIGIN}/status/acme`);
    expect(feed.items[0]!.url).toBe(`${ORIGIN}/status/acme/incidents/${DEGRADED_ID}`);
  });

  it("control characters in tenant text are dropped instead of breaking the XML", () => {
    const body = snapshot({ maintenance_history: [] });
    body.incident_history = [{ ...degraded, name: "Bad\u0001 \u0008name\uFFFE" }];
    for (const out of [renderRss(body, ORIGIN), renderAtom(body, ORIGIN)]) {
      expect(XMLValidator.validate(out)).toBe(true);
      expect(parseFeed(out).items[0]!.title).toBe("Bad name");
    }
  });
});

describe("status badge", () => {
  const badgeXml = new XMLParser({ ignoreAttributes: false });

  function badgeFor(status: StatusJson, name = "Acme"): string {
    const body = snapshot({ status });
    body.page.name = name;
    return renderBadge(body);
  }

  it("is well-formed SVG with the page name and the escaped description", () => {
    const svg = badgeFor({ indicator: "major", description: HOSTILE }, "Acme <b>Cloud</b> & Co");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).not.toMatch(/<script/i);
    expect(svg).not.toMatch(/<b>/);
    expect(svg).toContain("&lt;script&gt;alert(1)&lt;/script&gt; R&amp;D &quot;quoted&quot;");
    const parsed = badgeXml.parse(svg);
    expect(parsed.svg["@_xmlns"]).toBe("http://www.w3.org/2000/svg");
    // Overlong tenant text is cut (by code point) so the badge stays a badge.
    expect(parsed.svg.title).toBe(`Acme <b>Cloud</b> & Co: ${Array.from(HOSTILE).slice(0, 39).join("")}…`);
  });

  it.each([
    ["none", "All Systems Operational", "#4b0"],
    ["minor", "Minor Service Outage", "#d8b800"],
    ["major", "Partial System Outage", "#ea7233"],
    ["critical", "Major Service Outage", "#dd4343"],
    ["none", "Service Under Maintenance", "#007ec6"],
  ] as const)("indicator %s (%s) is coloured %s", (indicator, description, colour) => {
    const svg = badgeFor({ indicator, description });
    expect(svg).toContain(`fill="${colour}"`);
    for (const other of ["#4b0", "#d8b800", "#ea7233", "#dd4343", "#007ec6"].filter((c) => c !== colour)) {
      expect(svg).not.toContain(`fill="${other}"`);
    }
    expect(svg).toContain(description);
  });

  it('falls back to the label "status" and drops control characters', () => {
    const svg = badgeFor({ indicator: "minor", description: "Minor\u0001 Service Outage" }, "  \u0002 ");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(badgeXml.parse(svg).svg.title).toBe("status: Minor Service Outage");
  });
});
