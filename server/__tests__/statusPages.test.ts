/**
 * The public read path of status pages over HTTP: the Statuspage v2 files validated against a
 * JSON Schema written from reference/statuspage-v2.md, caching headers, 404s that reveal
 * nothing, what must never be public, server-sent events (live, catch-up, across two server
 * processes on one database), and the single-tenant root aliases. Snapshots are rebuilt by
 * the real worker, so every wait polls with a deadline.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServerConfig } from "../src/config.ts";
import { startServer, type RunningServer } from "../src/start.ts";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { SseClient, type SseEvent } from "./helpers/sse.ts";
import { graphql, register, startTestServer, TEST_JWT_SECRET, type TestServer } from "./helpers/testServer.ts";

// ---------------------------------------------------------------------------------------------
// JSON Schema of the Statuspage v2 files

const ISO_TIME = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$";
const time = { type: "string", pattern: ISO_TIME };
const nullableTime = { anyOf: [time, { type: "null" }] };
const absoluteUrl = { type: "string", pattern: "^https?://" };
const COMPONENT_STATUS = ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"];

const schemas = {
  $id: "statuspage",
  definitions: {
    page: {
      type: "object",
      required: ["id", "name", "url", "time_zone", "updated_at"],
      properties: {
        id: { type: "string" },
        name: { type: "string" },
        url: absoluteUrl,
        time_zone: { type: "string", minLength: 1 },
        updated_at: nullableTime,
      },
    },
    status: {
      type: "object",
      additionalProperties: false,
      required: ["indicator", "description"],
      properties: {
        indicator: { enum: ["none", "minor", "major", "critical"] },
        description: {
          enum: [
            "All Systems Operational",
            "Minor Service Outage",
            "Partial System Outage",
            "Major Service Outage",
            "Service Under Maintenance",
          ],
        },
      },
    },
    component: {
      type: "object",
      required: [
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
      ],
      properties: {
        id: { type: "string" },
        name: { type: "string" },
        status: { enum: COMPONENT_STATUS },
        created_at: time,
        updated_at: time,
        position: { type: "integer" },
        description: { type: ["string", "null"] },
        showcase: { type: "boolean" },
        start_date: { anyOf: [{ type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$" }, { type: "null" }] },
        group_id: { type: ["string", "null"] },
        page_id: { type: "string" },
        group: { type: "boolean" },
        only_show_if_degraded: { type: "boolean" },
        components: { type: "array", items: { type: "string" } },
      },
    },
    incidentUpdate: {
      type: "object",
      required: [
        "id",
        "incident_id",
        "status",
        "body",
        "created_at",
        "updated_at",
        "display_at",
        "affected_components",
        "deliver_notifications",
        "custom_tweet",
        "tweet_id",
      ],
      properties: {
        id: { type: "string" },
        incident_id: { type: "string" },
        status: { type: "string" },
        body: { type: "string" },
        created_at: time,
        updated_at: time,
        display_at: time,
        affected_components: {
          anyOf: [
            { type: "null" },
            {
              type: "array",
              items: {
                type: "object",
                required: ["code", "name", "old_status", "new_status"],
                properties: {
                  code: { type: "string" },
                  name: { type: "string" },
                  old_status: { enum: COMPONENT_STATUS },
                  new_status: { enum: COMPONENT_STATUS },
                },
              },
            },
          ],
        },
        deliver_notifications: { type: "boolean" },
        custom_tweet: { type: "null" },
        tweet_id: { type: "null" },
      },
    },
    incidentBase: {
      type: "object",
      required: [
        "id",
        "name",
        "status",
        "impact",
        "created_at",
        "updated_at",
        "started_at",
        "monitoring_at",
        "resolved_at",
        "shortlink",
        "page_id",
        "incident_updates",
        "components",
      ],
      properties: {
        id: { type: "string" },
        name: { type: "string" },
        created_at: time,
        updated_at: time,
        started_at: nullableTime,
        monitoring_at: nullableTime,
        resolved_at: nullableTime,
        shortlink: absoluteUrl,
        page_id: { type: "string" },
        incident_updates: { type: "array", items: { $ref: "#/definitions/incidentUpdate" } },
        components: { type: "array", items: { $ref: "#/definitions/component" } },
      },
    },
    incident: {
      allOf: [{ $ref: "#/definitions/incidentBase" }],
      properties: {
        status: { enum: ["investigating", "identified", "monitoring", "resolved", "postmortem"] },
        impact: { enum: ["none", "minor", "major", "critical"] },
      },
    },
    maintenance: {
      allOf: [{ $ref: "#/definitions/incidentBase" }],
      required: ["scheduled_for", "scheduled_until"],
      properties: {
        status: { enum: ["scheduled", "in_progress", "verifying", "completed"] },
        impact: { enum: ["none", "minor", "major", "critical", "maintenance"] },
        scheduled_for: time,
        scheduled_until: time,
      },
    },
  },
};

const fileSchema = (properties: Record<string, object>) => ({
  type: "object",
  additionalProperties: false,
  required: ["page", ...Object.keys(properties)],
  properties: { page: { $ref: "statuspage#/definitions/page" }, ...properties },
});
const list = (name: string) => ({ type: "array", items: { $ref: `statuspage#/definitions/${name}` } });
const statusRef = { $ref: "statuspage#/definitions/status" };

const FILES = {
  "summary.json": fileSchema({
    status: statusRef,
    components: list("component"),
    incidents: list("incident"),
    scheduled_maintenances: list("maintenance"),
  }),
  "status.json": fileSchema({ status: statusRef }),
  "components.json": fileSchema({ components: list("component") }),
  "incidents.json": fileSchema({ incidents: list("incident") }),
  "incidents/unresolved.json": fileSchema({ incidents: list("incident") }),
  "scheduled-maintenances.json": fileSchema({ scheduled_maintenances: list("maintenance") }),
  "scheduled-maintenances/upcoming.json": fileSchema({ scheduled_maintenances: list("maintenance") }),
  "scheduled-maintenances/active.json": fileSchema({ scheduled_maintenances: list("maintenance") }),
};
type FileName = keyof typeof FILES;
const FILE_NAMES = Object.keys(FILES) as FileName[];

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(schemas);
const validators = Object.fromEntries(FILE_NAMES.map((file) => [file, ajv.compile(FILES[file])])) as Record<
  FileName,
  ValidateFunction
>;

// ---------------------------------------------------------------------------------------------
// Helpers

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

interface Fetched {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const summaryOf = (event: SseEvent) =>
  JSON.parse(event.data) as { incidents: { name: string }[] } & Record<string, any>;

// ---------------------------------------------------------------------------------------------
// Fixtures

const SECRETS = ["SECRET-NOTE-7f3a", "SECRET-INCIDENT-91bc", "Secret Ledger 44e1"];

let server: TestServer;
let acme: OrganizationMembers;
let page: string;
const ids: Record<string, string> = {};

async function mutate(query: string, variables: Record<string, unknown>, token = acme.tokens.admin) {
  const result = await graphql(server.url, query, variables, { token });
  expect(result.errors).toBeUndefined();
  return result.data!;
}

const CREATE_SERVICE = `mutation S($service: ServiceInput!) { createService(input: { service: $service }) { service { rowId } } }`;
const CREATE_INCIDENT = `mutation I($incident: IncidentInput!) { createIncident(input: { incident: $incident }) { incident { rowId } } }`;
const POST_UPDATE = `mutation U($input: PostIncidentUpdateInput!) { postIncidentUpdate(input: $input) { incidentUpdate { rowId } } }`;
const CREATE_WINDOW = `mutation W($w: MaintenanceWindowInput!) { createMaintenanceWindow(input: { maintenanceWindow: $w }) { maintenanceWindow { rowId } } }`;
const LINK_WINDOW = `mutation L($m: UUID!, $s: UUID!) { createMaintenanceService(input: { maintenanceService: { maintenanceWindowId: $m, serviceId: $s } }) { clientMutationId } }`;

async function createService(service: Record<string, unknown>): Promise<string> {
  return (await mutate(CREATE_SERVICE, { service })).createService.service.rowId;
}
async function createIncident(incident: Record<string, unknown>): Promise<string> {
  return (await mutate(CREATE_INCIDENT, { incident }, acme.tokens.editor)).createIncident.incident.rowId;
}
async function postUpdate(input: Record<string, unknown>) {
  await mutate(POST_UPDATE, { input }, acme.tokens.editor);
}
const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

const summary = () => get(`${page}/api/v2/summary.json`);

beforeAll(async () => {
  server = await startTestServer({
    MULTI_TENANT_ENABLED: "true",
    WORKER_ENABLED: "true",
    STATUS_STREAM_HEARTBEAT_MS: "200",
    STATUS_STREAMS_PER_ADDRESS: "8",
  });
  acme = await organizationWithMembers(server, "acme");
  page = `${server.url}/status/acme`;

  ids.api = await createService({ name: "API", position: 1 });
  ids.web = await createService({ name: "Website", position: 2 });
  ids.ledger = await createService({ name: SECRETS[2], hidden: true, position: 3 });

  ids.outage = await createIncident({ title: "Elevated API errors", severity: "high" });
  await postUpdate({
    incidentId: ids.outage,
    status: "identified",
    body: "We found the faulty deploy.",
    serviceStatuses: [{ serviceId: ids.api, status: "partial_outage" }],
  });
  await postUpdate({ incidentId: ids.outage, status: "identified", body: SECRETS[0], isPublic: false });
  ids.internal = await createIncident({ title: SECRETS[1], visibility: "internal" });
  await postUpdate({
    incidentId: ids.internal,
    status: "identified",
    body: `${SECRETS[1]} details`,
    serviceStatuses: [{ serviceId: ids.ledger, status: "major_outage" }],
  });

  ids.upcoming = (
    await mutate(
      CREATE_WINDOW,
      { w: { title: "Database upgrade", startsAt: minutesFromNow(60), endsAt: minutesFromNow(120) } },
      acme.tokens.editor,
    )
  ).createMaintenanceWindow.maintenanceWindow.rowId;
  await mutate(LINK_WINDOW, { m: ids.upcoming, s: ids.web }, acme.tokens.editor);
  ids.active = (
    await mutate(
      CREATE_WINDOW,
      { w: { title: "Network work", startsAt: minutesFromNow(-1), endsAt: minutesFromNow(60) } },
      acme.tokens.editor,
    )
  ).createMaintenanceWindow.maintenanceWindow.rowId;
  await mutate(LINK_WINDOW, { m: ids.active, s: ids.web }, acme.tokens.editor);

  // Everything above has reached the snapshot.
  const ready = await eventually(summary, (r) => {
    const body = r.json;
    return (
      r.status === 200 &&
      body.incidents.some((i: any) => i.incident_updates.length >= 1) &&
      body.scheduled_maintenances.some((m: any) => m.status === "in_progress") &&
      body.scheduled_maintenances.some((m: any) => m.status === "scheduled")
    );
  });
  expect(ready.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------

describe("the Statuspage v2 files", () => {
  it("serve every file in the reference's shape, with public caching headers", async () => {
    for (const file of FILE_NAMES) {
      const response = await get(`${page}/api/v2/${file}`);
      expect(response.status, file).toBe(200);
      const valid = validators[file](response.json);
      expect(valid ? [] : validators[file].errors, file).toEqual([]);
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      expect(response.headers.get("cache-control")).toBe("public, max-age=5, stale-while-revalidate=30");
      expect(response.headers.get("etag")).toMatch(/^"[^"]+"$/);
      expect(response.json.page).toMatchObject({
        id: acme.organizationId,
        name: "acme",
        url: page,
        time_zone: "Etc/UTC",
      });
    }
  });

  it("put the right things in each file, with absolute links", async () => {
    const files = Object.fromEntries(
      await Promise.all(FILE_NAMES.map(async (file) => [file, (await get(`${page}/api/v2/${file}`)).json])),
    ) as Record<FileName, any>;
    const sum = files["summary.json"];
    expect(sum.status).toEqual({ indicator: "major", description: "Partial System Outage" });
    expect(files["status.json"]).toEqual({ page: sum.page, status: sum.status });
    expect(files["components.json"]).toEqual({ page: sum.page, components: sum.components });
    expect(sum.components.map((c: any) => c.name)).toEqual(["API", "Website"]);
    expect(sum.components.find((c: any) => c.name === "API").status).toBe("partial_outage");

    expect(files["incidents/unresolved.json"].incidents).toEqual(sum.incidents);
    expect(sum.incidents.map((i: any) => i.name)).toEqual(["Elevated API errors"]);
    const [outage] = sum.incidents;
    expect(outage.shortlink).toBe(`${page}/incidents/${ids.outage}`);
    expect(outage.impact).toBe("major");
    expect(outage.incident_updates.map((u: any) => u.body)).toEqual(["We found the faulty deploy."]);
    expect(outage.incident_updates[0].affected_components).toEqual([
      { code: ids.api, name: "API", old_status: "operational", new_status: "partial_outage" },
    ]);
    expect(files["incidents.json"].incidents.map((i: any) => i.id)).toContain(ids.outage);

    const upcoming = files["scheduled-maintenances/upcoming.json"].scheduled_maintenances;
    const active = files["scheduled-maintenances/active.json"].scheduled_maintenances;
    expect(upcoming.map((m: any) => [m.id, m.status])).toEqual([[ids.upcoming, "scheduled"]]);
    expect(active.map((m: any) => [m.id, m.status])).toEqual([[ids.active, "in_progress"]]);
    expect(upcoming[0].shortlink).toBe(`${page}/maintenance/${ids.upcoming}`);
    expect(upcoming[0].components.map((c: any) => c.name)).toEqual(["Website"]);
    expect(files["scheduled-maintenances.json"].scheduled_maintenances.map((m: any) => m.id).sort()).toEqual(
      [ids.upcoming, ids.active].sort(),
    );
  });

  it("answer 304 to a matching If-None-Match, and 200 otherwise", async () => {
    for (const file of FILE_NAMES) {
      const first = await get(`${page}/api/v2/${file}`);
      const etag = first.headers.get("etag")!;
      const again = await get(`${page}/api/v2/${file}`, { "if-none-match": etag });
      expect(again.status, file).toBe(304);
      expect(again.text).toBe("");
      expect(again.headers.get("etag")).toBe(etag);
      expect(again.headers.get("access-control-allow-origin")).toBe("*");
      expect(again.headers.get("cache-control")).toBe("public, max-age=5, stale-while-revalidate=30");
    }
    const etag = (await summary()).headers.get("etag")!;
    expect((await get(`${page}/api/v2/summary.json`, { "if-none-match": `"other", W/${etag}` })).status).toBe(304);
    expect((await get(`${page}/api/v2/summary.json`, { "if-none-match": '"other"' })).status).toBe(200);
    // A tag names exactly one content: equal bytes, equal tags; different bytes, different tags.
    const responses = await Promise.all(FILE_NAMES.map((file) => get(`${page}/api/v2/${file}`)));
    const tagsByText = new Map(responses.map((r) => [r.text, r.headers.get("etag")]));
    expect(new Set(tagsByText.values()).size).toBe(tagsByText.size);
  });

  it("answer a CORS preflight without credentials", async () => {
    const response = await fetch(`${page}/api/v2/summary.json`, {
      method: "OPTIONS",
      headers: { origin: "https://example.org", "access-control-request-method": "GET" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("are case-insensitive in the slug", async () => {
    const upper = await get(`${server.url}/status/ACME/api/v2/status.json`);
    expect(upper.status).toBe(200);
    expect(upper.json.page.id).toBe(acme.organizationId);
  });
});

describe("the hot path", () => {
  it("answers cached pages and repeated misses without asking the database", async () => {
    const pool = server.server.services.authenticatorPool;
    const connect = pool.connect.bind(pool);
    let connections = 0;
    (pool as { connect: unknown }).connect = (...args: unknown[]) => {
      connections++;
      return (connect as (...a: unknown[]) => unknown)(...args);
    };
    try {
      await summary();
      await get(`${server.url}/status/flood-miss/api/v2/summary.json`);
      connections = 0;
      const started = performance.now();
      const requests = 500;
      for (let i = 0; i < requests; i++) {
        const file = FILE_NAMES[i % FILE_NAMES.length];
        const response = await fetch(`${page}/api/v2/${file}`);
        await response.arrayBuffer();
        expect(response.status).toBe(200);
      }
      const elapsed = performance.now() - started;
      await Promise.all(Array.from({ length: 100 }, () => get(`${server.url}/status/flood-miss/api/v2/summary.json`)));
      expect(connections).toBe(0);
      console.log(`[statusPages] ${requests} sequential cached requests: ${(elapsed / requests).toFixed(2)} ms each`);
    } finally {
      (pool as { connect: unknown }).connect = connect;
    }
  });
});

describe("feeds and badge", () => {
  it("serve RSS, Atom and an SVG badge with ETags and their content types", async () => {
    const rss = await get(`${page}/history.rss`);
    expect(rss.status).toBe(200);
    expect(rss.headers.get("content-type")).toMatch(/^application\/rss\+xml/);
    expect(rss.text).toContain("Elevated API errors");
    const atom = await get(`${page}/history.atom`);
    expect(atom.status).toBe(200);
    expect(atom.headers.get("content-type")).toMatch(/^application\/atom\+xml/);
    const badge = await get(`${page}/badge.svg`);
    expect(badge.status).toBe(200);
    expect(badge.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    expect(badge.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(badge.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    for (const response of [rss, atom, badge]) {
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      const etag = response.headers.get("etag")!;
      expect(etag).toMatch(/^"[^"]+"$/);
    }
    expect((await get(`${page}/badge.svg`, { "if-none-match": badge.headers.get("etag")! })).status).toBe(304);
  });
});

describe("pages that are not public", () => {
  const expectNotFound = async (url: string) => {
    const response = await get(url);
    expect(response.status, url).toBe(404);
    expect(response.json).toEqual({ errors: [{ message: "No such status page.", extensions: { code: "NOT_FOUND" } }] });
    expect(response.headers.get("etag")).toBeNull();
    return response;
  };

  it("answer 404 for an unknown or malformed slug, also on repeated misses", async () => {
    for (let i = 0; i < 3; i++) await expectNotFound(`${server.url}/status/no-such-org/api/v2/summary.json`);
    await expectNotFound(`${server.url}/status/no-such-org/history.rss`);
    await expectNotFound(`${server.url}/status/Bad%20Slug!/api/v2/status.json`);
    const stream = await SseClient.open(`${server.url}/status/no-such-org/events`);
    expect(stream.status).toBe(404);
    expect((await SseClient.open(`${server.url}/api/status/stream?orgId=${crypto.randomUUID()}`)).status).toBe(404);
    // Multi-tenant servers have no root aliases.
    expect((await get(`${server.url}/api/v2/summary.json`)).status).toBe(404);
  });

  it("answer 404 once an organization is suspended, and end its streams", async () => {
    const globex = await organizationWithMembers(server, "globex");
    const base = `${server.url}/status/globex`;
    expect(
      (
        await eventually(
          () => get(`${base}/api/v2/status.json`),
          (r) => r.status === 200,
        )
      ).status,
    ).toBe(200);
    const stream = await SseClient.open(`${base}/events`);
    await stream.next(() => true);

    await server.db.rootPool.query("update app_public.organizations set suspended_at = now() where id = $1", [
      globex.organizationId,
    ]);
    await eventually(
      () => get(`${base}/api/v2/status.json`),
      (r) => r.status === 404,
    );
    await expectNotFound(`${base}/api/v2/status.json`);
    await expectNotFound(`${base}/badge.svg`);
    await expectNotFound(`${server.url}/api/status/stream?orgId=${globex.organizationId}`);
    await stream.until(() => stream.ended);
  });

  it("answer 404 while unpublished, and come back when published again", async () => {
    const initech = await organizationWithMembers(server, "initech");
    const base = `${server.url}/status/initech`;
    expect(
      (
        await eventually(
          () => get(`${base}/api/v2/summary.json`),
          (r) => r.status === 200,
        )
      ).status,
    ).toBe(200);

    await server.db.rootPool.query(
      "insert into app_public.status_page_settings (organization_id, published) values ($1, false)",
      [initech.organizationId],
    );
    await eventually(
      () => get(`${base}/api/v2/summary.json`),
      (r) => r.status === 404,
    );
    await expectNotFound(`${base}/api/v2/summary.json`);
    await expectNotFound(`${base}/history.atom`);

    await server.db.rootPool.query(
      "update app_public.status_page_settings set published = true, title = 'Initech Status' where organization_id = $1",
      [initech.organizationId],
    );
    const back = await eventually(
      () => get(`${base}/api/v2/summary.json`),
      (r) => r.status === 200,
    );
    expect(back.json.page.name).toBe("Initech Status");
  });
});

describe("what is never public", () => {
  it("internal updates, hidden services and internal incidents appear in no output", async () => {
    const stream = await SseClient.open(`${page}/events`);
    const event = await stream.next(() => true);
    stream.close();
    const outputs = [
      ...(await Promise.all(FILE_NAMES.map(async (file) => (await get(`${page}/api/v2/${file}`)).text))),
      (await get(`${page}/history.rss`)).text,
      (await get(`${page}/history.atom`)).text,
      (await get(`${page}/badge.svg`)).text,
      event.data,
    ];
    // The fixtures did reach the page, so their absence means something.
    expect(outputs[0]).toContain("We found the faulty deploy.");
    for (const output of outputs) {
      for (const secret of [...SECRETS, ids.ledger, ids.internal]) expect(output).not.toContain(secret);
    }
  });
});

describe("server-sent events", () => {
  it("send the current version at once, then each new version as it is built", async () => {
    const current = await summary();
    const stream = await SseClient.open(`${page}/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(stream.headers.get("x-accel-buffering")).toBe("no");
    expect(stream.headers.get("access-control-allow-origin")).toBe("*");
    const first = await stream.next(() => true);
    expect(summaryOf(first)).toEqual(current.json);
    const version = Number(first.id);
    expect(version).toBeGreaterThan(0);

    const started = Date.now();
    const id = await createIncident({ title: "Search is slow" });
    const next = await stream.next((e) => summaryOf(e).incidents.some((i) => i.name === "Search is slow"));
    const latencyMs = Date.now() - started;
    expect(Number(next.id)).toBeGreaterThan(version);
    expect(next.data).not.toContain("\n");
    console.log(`[statusPages] mutation → SSE event in ${latencyMs} ms`);
    // Versions only go up on a stream.
    const ids = stream.events.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    await stream.until(() => stream.comments >= 2);
    stream.close();

    await postUpdate({ incidentId: id, status: "monitoring", body: "Fine again." });
  });

  it("catch a reconnecting client up from Last-Event-ID, and send nothing it already has", async () => {
    // Rebuilds queued by earlier tests must have landed, or the version moves under this test.
    await eventually(
      async () =>
        (
          await server.db.rootPool.query<{ n: number }>(
            "select count(*)::int as n from graphile_worker.jobs where key = $1",
            [`status:${acme.organizationId}`],
          )
        ).rows[0]!.n,
      (pending) => pending === 0,
    );
    const stream = await SseClient.open(`${page}/events`);
    const current = await stream.next(() => true);
    stream.close();

    const behind = await SseClient.open(`${page}/events`, { "last-event-id": String(Number(current.id) - 1) });
    expect((await behind.next(() => true)).id).toBe(current.id);
    behind.close();

    const upToDate = await SseClient.open(`${page}/events`, { "last-event-id": current.id! });
    await upToDate.until(() => upToDate.comments >= 2);
    expect(upToDate.events).toEqual([]);
    await createIncident({ title: "Queue backlog" });
    const caughtUp = await upToDate.next(() => true);
    expect(Number(caughtUp.id)).toBeGreaterThan(Number(current.id));
    expect(summaryOf(caughtUp).incidents.map((i) => i.name)).toContain("Queue backlog");
    upToDate.close();
  });

  it("answer on /api/status/stream by orgSlug and orgId", async () => {
    for (const query of [`orgSlug=acme`, `orgId=${acme.organizationId}`]) {
      const stream = await SseClient.open(`${server.url}/api/status/stream?${query}`);
      expect(stream.status, query).toBe(200);
      expect(summaryOf(await stream.next(() => true)).page.id).toBe(acme.organizationId);
      stream.close();
    }
    expect((await SseClient.open(`${server.url}/api/status/stream?orgSlug=nobody`)).status).toBe(404);
  });

  it("cap concurrent streams per client address", async () => {
    // Earlier streams are closed; wait until the server has noticed.
    const open: SseClient[] = [];
    await eventually(
      async () => {
        const stream = await SseClient.open(`${page}/events`);
        if (stream.status === 200) open.push(stream);
        return stream.status;
      },
      () => open.length === 8,
    );
    const refused = await SseClient.open(`${page}/events`);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe("TOO_MANY_STREAMS");
    for (const stream of open) stream.close();
    const again = await eventually(
      () => SseClient.open(`${page}/events`),
      (stream) => stream.status === 200,
    );
    again.close();
  });

  it("are one unframed body per connection, with heartbeats", async () => {
    const stream = await SseClient.open(`${page}/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    // No chunked framing: events are written to the socket as they are, and the body ends
    // with the connection.
    expect(stream.headers.get("transfer-encoding")).toBeNull();
    expect(stream.headers.get("connection")).toBe("close");
    const before = stream.comments;
    await eventually(
      () => Promise.resolve(stream.comments),
      (comments) => comments >= before + 2,
    );
    stream.close();
  });

  it("count streams per client address as TRUST_PROXY says", async () => {
    // The test server trusts loopback proxies, so X-Forwarded-For names the client.
    const from = (address: string) => SseClient.open(`${page}/events`, { "x-forwarded-for": address });
    const open: SseClient[] = [];
    await eventually(
      async () => {
        const stream = await from("203.0.113.7");
        if (stream.status === 200) open.push(stream);
        return stream.status;
      },
      () => open.length === 8,
    );
    expect((await from("203.0.113.7")).status).toBe(429);
    const another = await from("203.0.113.8");
    expect(another.status).toBe(200);
    for (const stream of [...open, another]) stream.close();
  });

  it("pick up changes made while the LISTEN connection was down", async () => {
    await summary();
    const killed = await server.db.rootPool.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'incidentpulse-listener' and datname = current_database()",
    );
    expect(killed.rowCount).toBe(1);
    await createIncident({ title: "After the reconnect" });
    const seen = await eventually(summary, (r) => r.text.includes("After the reconnect"));
    expect(seen.text).toContain("After the reconnect");
  });
});

describe("two server processes on one database", () => {
  let second: RunningServer;

  beforeAll(async () => {
    const config = readServerConfig({
      NODE_ENV: "test",
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: await mkdtemp(join(tmpdir(), "incidentpulse-test-")),
      JWT_SECRET: TEST_JWT_SECRET,
      MULTI_TENANT_ENABLED: "true",
      WORKER_ENABLED: "false",
      SEED_DEMO_DATA: "false",
    });
    second = await startServer({ config, env: {}, database: server.db.config, log: () => undefined });
  });
  afterAll(async () => {
    await second?.stop();
  });

  it("a write through the first reaches SSE clients of the second", async () => {
    const stream = await SseClient.open(`${second.url}/status/acme/events`);
    expect(stream.status).toBe(200);
    const first = await stream.next(() => true);
    expect(summaryOf(first).page.url).toBe(`${second.url}/status/acme`);

    await createIncident({ title: "Seen by the other process" });
    const next = await stream.next((e) => summaryOf(e).incidents.some((i) => i.name === "Seen by the other process"));
    expect(Number(next.id)).toBeGreaterThan(Number(first.id));
    stream.close();
    const other = await get(`${second.url}/status/acme/api/v2/incidents/unresolved.json`);
    expect(other.json.incidents.map((i: any) => i.name)).toContain("Seen by the other process");
  });
});

describe("single-tenant mode", () => {
  let single: TestServer;
  beforeAll(async () => {
    single = await startTestServer({ WORKER_ENABLED: "true" });
  });
  afterAll(async () => {
    await single?.stop();
  });

  it("answers the same files at the root for the default organization", async () => {
    const owner = await register(single.url, "Solo Owner");
    expect(owner.membershipRole).toBe("owner");
    await graphql(single.url, CREATE_SERVICE, { service: { name: "Checkout" } }, { token: owner.token });
    const atRoot = await eventually(
      () => get(`${single.url}/api/v2/summary.json`),
      (r) => r.status === 200 && r.text.includes("Checkout"),
    );
    expect(validators["summary.json"](atRoot.json)).toBe(true);
    expect(atRoot.json.page.url).toBe(`${single.url}/status/default`);
    for (const file of FILE_NAMES) {
      const root = await get(`${single.url}/api/v2/${file}`);
      const scoped = await get(`${single.url}/status/default/api/v2/${file}`);
      expect(root.status, file).toBe(200);
      expect(root.text).toBe(scoped.text);
      expect(root.headers.get("etag")).toBe(scoped.headers.get("etag"));
      expect(root.headers.get("access-control-allow-origin")).toBe("*");
    }
    expect((await get(`${single.url}/history.rss`)).status).toBe(200);
    const stream = await SseClient.open(`${single.url}/api/status/stream`);
    expect(summaryOf(await stream.next(() => true)).page.url).toBe(`${single.url}/status/default`);
    stream.close();
  });
});
