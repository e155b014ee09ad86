/**
 * Metrics and search over a fixture with known answers (incidents inserted as root with
 * explicit times): app_public.incident_metrics (counts, MTTA and MTTR mean and median, over
 * incidents started in [period_start, period_end)), incident_counts_by_severity,
 * incident_counts_by_service, and app_public.search_incidents (filters, newest first, the
 * query matched literally).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { claim, createIncident, createService, type IncidentOptions } from "../../helpers/incidentFixtures.ts";
import { expectSqlState, withRootDb, type Client } from "../../helpers/transactions.ts";
import { actAs, createWorld, type World } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const PERIOD: [string, string] = ["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"];
const at = (iso: string, plusSeconds = 0) => new Date(Date.parse(iso) + plusSeconds * 1000).toISOString();

interface MetricsFixture {
  world: World;
  api: string;
  web: string;
  idle: string;
  otherApi: string;
}

/**
 * In the period (A): MTTA 60, 120, 180 (two never acknowledged) → mean 120, median 120;
 * MTTR 600, 1200, 3600 → mean 1800, median 1200. Outside the period, and in B: large values
 * that would change every answer if they were counted.
 */
async function metricsFixture(client: Client): Promise<MetricsFixture> {
  const world = await createWorld(client);
  const a = world.a.id;
  const api = await createService(client, a, { name: "API" });
  const web = await createService(client, a, { name: "Web" });
  const idle = await createService(client, a, { name: "Idle" });
  const resolvedAfter = (start: string, ack: number, resolved: number, more: IncidentOptions): IncidentOptions => ({
    status: "resolved",
    startedAt: start,
    acknowledgedAt: at(start, ack),
    resolvedAt: at(start, resolved),
    ...more,
  });
  const i1 = await createIncident(client, a, resolvedAfter("2024-01-10T00:00:00Z", 60, 600, { severity: "high" }));
  const i2 = await createIncident(
    client,
    a,
    resolvedAfter("2024-01-11T00:00:00Z", 120, 1200, { severity: "critical" }),
  );
  const i3 = await createIncident(client, a, resolvedAfter("2024-01-12T00:00:00Z", 180, 3600, { severity: "low" }));
  await createIncident(client, a, { startedAt: "2024-01-13T00:00:00Z", severity: "high" });
  // Exactly at period_start: counted.
  await createIncident(client, a, { startedAt: PERIOD[0], severity: "medium" });
  // Just before period_start and exactly at period_end: not counted.
  const before = await createIncident(
    client,
    a,
    resolvedAfter("2023-12-31T23:59:59Z", 50_000, 90_000, { severity: "critical" }),
  );
  await createIncident(client, a, resolvedAfter(PERIOD[1], 50_000, 90_000, { severity: "low" }));
  for (const [incident, service] of [
    [i1, api],
    [i2, api],
    [i2, web],
    [i3, web],
    [before, api],
    [before, idle],
  ] as const) {
    await claim(client, a, incident, service, "partial_outage");
  }
  // B, in the period.
  const otherApi = await createService(client, world.b.id, { name: "API" });
  const ofB = await createIncident(
    client,
    world.b.id,
    resolvedAfter("2024-01-15T00:00:00Z", 99_999, 999_999, { severity: "low" }),
  );
  await claim(client, world.b.id, ofB, otherApi, "major_outage");
  return { world, api, web, idle, otherApi };
}

function withMetrics(fn: (client: Client, fixture: MetricsFixture) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      await fn(client, await metricsFixture(client));
    });
}

const METRICS = "select * from app_public.incident_metrics($1, $2)";
const BY_SEVERITY =
  "select severity::text as severity, incident_count from app_public.incident_counts_by_severity($1, $2)";
const BY_SERVICE = "select service_id, service_name, incident_count from app_public.incident_counts_by_service($1, $2)";

describe("app_public.incident_metrics", () => {
  for (const actor of ["owner", "viewer"] as const) {
    it(
      `answers the ${actor} of A from A's incidents in the period`,
      withMetrics(async (client, { world }) => {
        await actAs(client, db.config, world, actor);
        const { rows } = await client.query(METRICS, PERIOD);
        expect(rows).toEqual([
          {
            incident_count: 5,
            acknowledged_count: 3,
            resolved_count: 3,
            mtta_mean_seconds: 120,
            mtta_median_seconds: 120,
            mttr_mean_seconds: 1800,
            mttr_median_seconds: 1200,
          },
        ]);
      }),
    );
  }

  it(
    "median of an even number of values is the mean of the middle two",
    withMetrics(async (client, { world }) => {
      await createIncident(client, world.a.id, {
        status: "resolved",
        startedAt: "2024-01-20T00:00:00Z",
        acknowledgedAt: at("2024-01-20T00:00:00Z", 1000),
        resolvedAt: at("2024-01-20T00:00:00Z", 2400),
      });
      await actAs(client, db.config, world, "viewer");
      const { rows } = await client.query(METRICS, PERIOD);
      // MTTA 60, 120, 180, 1000; MTTR 600, 1200, 2400, 3600.
      expect(rows[0]).toMatchObject({
        incident_count: 6,
        mtta_mean_seconds: 340,
        mtta_median_seconds: 150,
        mttr_mean_seconds: 1950,
        mttr_median_seconds: 1800,
      });
    }),
  );

  it(
    "an empty period: zero counts and no means",
    withMetrics(async (client, { world }) => {
      await actAs(client, db.config, world, "viewer");
      const { rows } = await client.query(METRICS, ["2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"]);
      expect(rows).toEqual([
        {
          incident_count: 0,
          acknowledged_count: 0,
          resolved_count: 0,
          mtta_mean_seconds: null,
          mtta_median_seconds: null,
          mttr_mean_seconds: null,
          mttr_median_seconds: null,
        },
      ]);
    }),
  );

  it(
    "B's owner gets B's answer only",
    withMetrics(async (client, { world }) => {
      await actAs(client, db.config, world, "otherOwner");
      const { rows } = await client.query(METRICS, PERIOD);
      expect(rows[0]).toMatchObject({ incident_count: 1, mtta_mean_seconds: 99_999, mttr_median_seconds: 999_999 });
    }),
  );

  it(
    "a signed-in user with no membership counts nothing",
    withMetrics(async (client, { world }) => {
      await actAs(client, db.config, world, "outsider");
      const { rows } = await client.query(METRICS, PERIOD);
      expect(rows[0]).toMatchObject({ incident_count: 0, mtta_mean_seconds: null });
    }),
  );

  it(
    "anonymous may not call the metrics functions (42501)",
    withMetrics(async (client, { world }) => {
      await actAs(client, db.config, world, "anonymous");
      await expectSqlState(client, "42501", METRICS, PERIOD);
      await expectSqlState(client, "42501", BY_SEVERITY, PERIOD);
      await expectSqlState(client, "42501", BY_SERVICE, PERIOD);
    }),
  );
});

describe("app_public.incident_counts_by_severity", () => {
  it(
    "lists every severity in order, zeros included",
    withMetrics(async (client, { world }) => {
      await actAs(client, db.config, world, "viewer");
      const { rows } = await client.query(BY_SEVERITY, PERIOD);
      expect(rows).toEqual([
        { severity: "low", incident_count: 1 },
        { severity: "medium", incident_count: 1 },
        { severity: "high", incident_count: 2 },
        { severity: "critical", incident_count: 1 },
      ]);
      const { rows: empty } = await client.query(BY_SEVERITY, ["2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"]);
      expect(empty.map((row) => row.incident_count)).toEqual([0, 0, 0, 0]);
    }),
  );
});

describe("app_public.incident_counts_by_service", () => {
  it(
    "counts incidents started in the period per affected service, every service of A listed, most affected first",
    withMetrics(async (client, { world, api, web, idle }) => {
      await actAs(client, db.config, world, "viewer");
      const { rows } = await client.query(BY_SERVICE, PERIOD);
      expect(rows).toEqual([
        { service_id: api, service_name: "API", incident_count: 2 },
        { service_id: web, service_name: "Web", incident_count: 2 },
        { service_id: idle, service_name: "Idle", incident_count: 0 },
      ]);
    }),
  );

  it(
    "B's owner sees B's services only",
    withMetrics(async (client, { world, otherApi }) => {
      await actAs(client, db.config, world, "otherOwner");
      const { rows } = await client.query(BY_SERVICE, PERIOD);
      expect(rows).toEqual([{ service_id: otherApi, service_name: "API", incident_count: 1 }]);
    }),
  );
});

interface SearchFixture {
  world: World;
  ids: Record<string, string>;
  api: string;
  otherApi: string;
}

const SEARCH_TITLES: [string, string, IncidentOptions][] = [
  // key, title, options; started one day apart, so newest first is the reverse of this list.
  ["cpu", "Database 100% CPU", { severity: "critical" }],
  ["users", "100 users affected", { severity: "low" }],
  ["underscore", "Disk_full on db1", { severity: "high", status: "resolved" }],
  ["space", "Disk full on db2", { severity: "high" }],
  ["login", "Login errors", { severity: "medium" }],
  ["path", "Path C:\\temp is full", { severity: "low" }],
  ["percent", "Error rate at 5%", { severity: "medium", status: "resolved" }],
];

async function searchFixture(client: Client): Promise<SearchFixture> {
  const world = await createWorld(client);
  const api = await createService(client, world.a.id, { name: "API" });
  const ids: Record<string, string> = {};
  for (const [index, [key, title, options]] of SEARCH_TITLES.entries()) {
    ids[key] = await createIncident(client, world.a.id, {
      title,
      startedAt: at("2024-03-01T00:00:00Z", index * 86_400),
      ...(options.status === "resolved" ? { resolvedAt: at("2024-03-01T00:00:00Z", index * 86_400 + 3600) } : {}),
      ...options,
    });
  }
  await claim(client, world.a.id, ids.cpu!, api, "major_outage");
  await claim(client, world.a.id, ids.login!, api, "degraded_performance");
  await client.query("update app_public.incidents set assignee_id = $1 where id = any ($2)", [
    world.a.members.editor.id,
    [ids.space, ids.percent],
  ]);
  const otherApi = await createService(client, world.b.id, { name: "API" });
  const ofB = await createIncident(client, world.b.id, {
    title: "Database 100% CPU in B",
    startedAt: "2024-03-02T00:00:00Z",
  });
  await claim(client, world.b.id, ofB, otherApi, "major_outage");
  return { world, ids, api, otherApi };
}

const SEARCH = `select id from app_public.search_incidents(
  query => $1, statuses => $2::app_public.incident_status[], severities => $3::app_public.incident_severity[],
  service_id => $4, assignee_id => $5, started_after => $6, started_before => $7)`;

interface Filters {
  query?: string;
  statuses?: string[];
  severities?: string[];
  serviceId?: string;
  assigneeId?: string;
  startedAfter?: string;
  startedBefore?: string;
}

async function search(client: Client, fixture: SearchFixture, filters: Filters): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(SEARCH, [
    filters.query ?? null,
    filters.statuses ?? null,
    filters.severities ?? null,
    filters.serviceId ?? null,
    filters.assigneeId ?? null,
    filters.startedAfter ?? null,
    filters.startedBefore ?? null,
  ]);
  const byId = Object.fromEntries(Object.entries(fixture.ids).map(([key, id]) => [id, key]));
  return rows.map((row) => byId[row.id] ?? `foreign:${row.id}`);
}

function withSearch(fn: (client: Client, fixture: SearchFixture) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      const fixture = await searchFixture(client);
      await actAs(client, db.config, fixture.world, "viewer");
      await fn(client, fixture);
    });
}

describe("app_public.search_incidents", () => {
  const cases: [string, (fixture: SearchFixture) => Filters, string[]][] = [
    [
      "no filter: all of A's incidents, newest first",
      () => ({}),
      ["percent", "path", "login", "space", "underscore", "users", "cpu"],
    ],
    ["'100%' matches the percent sign literally", () => ({ query: "100%" }), ["cpu"]],
    ["'%' alone matches only titles with a percent sign", () => ({ query: "%" }), ["percent", "cpu"]],
    ["'Disk_full' matches the underscore literally", () => ({ query: "Disk_full" }), ["underscore"]],
    ["'_' alone matches only titles with an underscore", () => ({ query: "_" }), ["underscore"]],
    ["a backslash is matched literally", () => ({ query: "C:\\temp" }), ["path"]],
    ["a lone backslash does not break the pattern", () => ({ query: "\\" }), ["path"]],
    ["case-insensitive", () => ({ query: "LOGIN" }), ["login"]],
    ["substring", () => ({ query: "disk" }), ["space", "underscore"]],
    ["no match", () => ({ query: "nothing like this" }), []],
    ["statuses", () => ({ statuses: ["resolved"] }), ["percent", "underscore"]],
    [
      "several statuses",
      () => ({ statuses: ["resolved", "investigating"] }),
      ["percent", "path", "login", "space", "underscore", "users", "cpu"],
    ],
    ["severities", () => ({ severities: ["high", "critical"] }), ["space", "underscore", "cpu"]],
    ["an affected service", (f) => ({ serviceId: f.api }), ["login", "cpu"]],
    ["B's service finds nothing", (f) => ({ serviceId: f.otherApi }), []],
    ["the assignee", (f) => ({ assigneeId: f.world.a.members.editor.id }), ["percent", "space"]],
    [
      "a start range is half-open [after, before)",
      () => ({ startedAfter: "2024-03-02T00:00:00Z", startedBefore: "2024-03-04T00:00:00Z" }),
      ["underscore", "users"],
    ],
    ["filters combine", (f) => ({ query: "d", severities: ["critical", "medium"], serviceId: f.api }), ["cpu"]],
  ];

  for (const [name, filters, expected] of cases) {
    it(
      name,
      withSearch(async (client, fixture) => {
        expect(await search(client, fixture, filters(fixture))).toEqual(expected);
      }),
    );
  }

  it(
    "B's owner finds B's incident only, never A's",
    withSearch(async (client, fixture) => {
      await actAs(client, db.config, fixture.world, "otherOwner");
      const found = await search(client, fixture, { query: "100%" });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^foreign:/);
    }),
  );

  it(
    "anonymous may not search (42501)",
    withSearch(async (client, fixture) => {
      await actAs(client, db.config, fixture.world, "anonymous");
      await expectSqlState(client, "42501", SEARCH, [null, null, null, null, null, null, null]);
    }),
  );
});
