/**
 * The public view: what a snapshot holds (and never holds), uptime as golden numbers, versions
 * and notifications, the nightly rollup, and who may read snapshots.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoDataOnce } from "../../../src/demo.ts";
import type { SnapshotBody } from "../../../../server/src/public/snapshot.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";

let db: TestDatabase;
let demoOrg: string;

beforeAll(async () => {
  db = await createTestDatabase();
  demoOrg = (await seedDemoDataOnce(db.config.ownerUrl, false))!.organizationId;
});
afterAll(async () => {
  await db.drop();
});

/** Runs statements as root with the organization active, committed (the test database is throw-away). */
async function inOrganization<T>(organizationId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.rootPool.connect();
  try {
    await client.query("begin");
    await client.query("select set_config('jwt.claims.org_id', $1, true)", [organizationId]);
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

const build = (organizationId: string) =>
  inOrganization(organizationId, async (client) => {
    const { rows } = await client.query<{ body: SnapshotBody }>(
      "select app_private.build_status_snapshot($1) as body",
      [organizationId],
    );
    return rows[0]!.body;
  });

const rebuild = (organizationId: string) =>
  inOrganization(organizationId, async (client) => {
    const { rows } = await client.query<{ version: string }>(
      "select app_private.rebuild_status_snapshot($1) as version",
      [organizationId],
    );
    return Number(rows[0]!.version);
  });

async function newOrganization(slug: string): Promise<string> {
  const { rows } = await db.rootPool.query<{ id: string }>(
    "insert into app_public.organizations (name, slug) values ($1::text, $1::text) returning id",
    [slug],
  );
  return rows[0]!.id;
}

describe("the snapshot of the demo organization", () => {
  let body: SnapshotBody;
  beforeAll(async () => {
    body = await build(demoOrg);
  });

  it("has the Statuspage summary parts", () => {
    expect(body.page).toMatchObject({ id: demoOrg, name: "Default", url: "/status/default", time_zone: "Etc/UTC" });
    expect(body.status).toEqual({ indicator: "minor", description: "Minor Service Outage" });
    const services = body.components.filter((c) => !c.group).map((c) => [c.name, c.status]);
    expect(services).toEqual([
      ["API", "operational"],
      ["Web app", "operational"],
      ["Database", "operational"],
      ["Webhooks", "operational"],
      ["Email notifications", "degraded_performance"],
    ]);
    const groups = body.components.filter((c) => c.group);
    expect(groups.map((g) => [g.name, g.status, g.components!.length])).toEqual([
      ["Core platform", "operational", 3],
      ["Integrations", "degraded_performance", 2],
    ]);
    expect(body.incidents.map((i) => [i.name, i.status, i.impact, i.incident_updates.length])).toEqual([
      ["Delays in email notifications", "identified", "minor", 2],
    ]);
    expect(body.scheduled_maintenances.map((m) => [m.name, m.status, m.impact])).toEqual([
      ["Database upgrade", "scheduled", "maintenance"],
    ]);
    expect(body.incident_history).toHaveLength(4);
    // Recently resolved incidents are published through the history (incidents.json, feeds).
    expect(body.incident_history.filter((i) => i.status === "resolved").map((i) => i.name)).toEqual(
      expect.arrayContaining(["Delayed webhook deliveries", "Elevated API error rates"]),
    );
    expect(body).not.toHaveProperty("recent_incidents");
  });

  it("never contains hidden services or internal notes", () => {
    const text = JSON.stringify(body);
    expect(text).not.toContain("Internal admin");
    expect(text).not.toContain("Pager fired");
  });

  it("has 90 days of uptime per visible service, with outages counted", () => {
    expect(body.uptime.components.map((c) => c.name)).toEqual([
      "API",
      "Web app",
      "Database",
      "Webhooks",
      "Email notifications",
    ]);
    const api = body.uptime.components.find((c) => c.name === "API")!;
    expect(api.days.length).toBeGreaterThanOrEqual(90);
    expect(api.uptime_percent).toBeLessThan(100);
    expect(api.uptime_percent).toBeGreaterThan(99.9);
    const outageDay = api.days.find((d) => d.partial_outage_seconds > 0)!;
    expect(outageDay.partial_outage_seconds).toBe(47 * 60);
  });

  it("is the same when built again from scratch", async () => {
    const { uptime: _u1, ...first } = body;
    const { uptime: _u2, ...again } = await build(demoOrg);
    expect(again).toEqual(first);
  });
});

describe("what the public never sees", () => {
  it("leaves out internal incidents and their updates", async () => {
    const org = await newOrganization("secretive");
    await inOrganization(org, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        "insert into app_public.incidents (title, visibility) values ('Internal only', 'internal') returning id",
      );
      await client.query(
        "insert into app_public.incident_updates (incident_id, status, body) values ($1, 'identified', 'secret body')",
        [rows[0]!.id],
      );
    });
    const body = await build(org);
    expect(JSON.stringify(body)).not.toMatch(/Internal only|secret body/);
    expect(body.incident_history).toEqual([]);
  });
});

describe("hidden services", () => {
  it("do not show through the impact of a public incident, nor the overall status", async () => {
    const org = await newOrganization("hiding");
    const incident = await inOrganization(org, async (client) => {
      const { rows: services } = await client.query<{ id: string }>(
        "insert into app_public.services (name, hidden) values ('Back office', true) returning id",
      );
      const { rows } = await client.query<{ id: string }>(
        "insert into app_public.incidents (title) values ('Public') returning id",
      );
      await client.query(
        "insert into app_public.incident_services (incident_id, service_id, status) values ($1, $2, 'major_outage')",
        [rows[0]!.id, services[0]!.id],
      );
      return rows[0]!.id;
    });
    const body = await build(org);
    expect(body.status).toEqual({ indicator: "none", description: "All Systems Operational" });
    expect(body.incidents.map((i) => [i.name, i.impact, i.components])).toEqual([["Public", "none", []]]);

    // Showing the service again makes its claim count.
    await inOrganization(org, (client) => client.query("update app_public.services set hidden = false"));
    const { rows } = await db.rootPool.query("select impact from app_public.incidents where id = $1", [incident]);
    expect(rows[0].impact).toBe("critical");
    expect((await build(org)).status.indicator).toBe("critical");
  });
});

describe("uptime (golden)", () => {
  const day = (offset: number) => {
    const date = new Date();
    date.setUTCHours(0, 0, 0, 0);
    date.setUTCDate(date.getUTCDate() + offset);
    return date;
  };
  const at = (dayOffset: number, hour: number) => new Date(day(dayOffset).getTime() + hour * 3_600_000);

  async function serviceWithHistory(org: string, name: string, intervals: [number, number, number, number, string][]) {
    return inOrganization(org, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        "insert into app_public.services (name) values ($1) returning id",
        [name],
      );
      const id = rows[0]!.id;
      await client.query("delete from app_public.service_status_intervals where service_id = $1", [id]);
      for (const [fromDay, fromHour, toDay, toHour, status] of intervals) {
        await client.query(
          `insert into app_public.service_status_intervals (organization_id, service_id, status, started_at, ended_at)
           values ($1, $2, $3, $4, $5)`,
          [org, id, status, at(fromDay, fromHour), at(toDay, toHour)],
        );
      }
      const last = intervals.at(-1)!;
      await client.query(
        `insert into app_public.service_status_intervals (organization_id, service_id, status, started_at)
         values ($1, $2, 'operational', $3)`,
        [org, id, at(last[2], last[3])],
      );
      return id;
    });
  }

  it("weighs major outage fully, partial half, degraded as up, and leaves maintenance out", async () => {
    const org = await newOrganization("golden");
    await serviceWithHistory(org, "Weighted", [
      [-3, 0, -3, 12, "operational"],
      [-3, 12, -3, 18, "major_outage"],
      [-3, 18, -3, 20, "partial_outage"],
      [-3, 20, -3, 22, "under_maintenance"],
      [-3, 22, -2, 0, "degraded_performance"],
    ]);
    await serviceWithHistory(org, "Multi-day", [
      [-3, 0, -3, 12, "operational"],
      [-3, 12, -2, 6, "major_outage"],
      [-2, 6, -1, 0, "operational"],
    ]);
    const days = async () => {
      const body = await build(org);
      return Object.fromEntries(
        body.uptime.components.map((c) => [c.name, Object.fromEntries(c.days.map((d) => [d.date, d.uptime_percent]))]),
      );
    };
    const iso = (offset: number) => day(offset).toISOString().slice(0, 10);
    const live = await days();
    // (22 h counted − 6 h down − 2 h × ½) / 22 h
    expect(live.Weighted![iso(-3)]).toBe(68.182);
    expect(live["Multi-day"]![iso(-3)]).toBe(50);
    expect(live["Multi-day"]![iso(-2)]).toBe(75);
    expect(live["Multi-day"]![iso(-1)]).toBe(100);

    // The nightly rollup stores finished days; the snapshot then reads them and agrees.
    const rolled = await inOrganization(org, async (client) => {
      const { rows } = await client.query<{ n: number }>("select app_private.roll_up_uptime($1) as n", [org]);
      return rows[0]!.n;
    });
    expect(rolled).toBeGreaterThanOrEqual(5);
    const { rows } = await db.rootPool.query(
      `select major_outage_seconds, partial_outage_seconds, maintenance_seconds, degraded_seconds, operational_seconds
       from app_public.service_uptime_days d join app_public.services s on s.id = d.service_id
       where s.name = 'Weighted' and d.day = $1`,
      [iso(-3)],
    );
    expect(rows).toEqual([
      {
        major_outage_seconds: 6 * 3600,
        partial_outage_seconds: 2 * 3600,
        maintenance_seconds: 2 * 3600,
        degraded_seconds: 2 * 3600,
        operational_seconds: 12 * 3600,
      },
    ]);
    expect(await days()).toEqual(live);
    const again = await inOrganization(
      org,
      async (client) => (await client.query("select app_private.roll_up_uptime($1) as n", [org])).rows[0].n,
    );
    expect(again).toBe(0);
  });
});

describe("versions and readers", () => {
  it("bumps the version only when the content changes, and notifies", async () => {
    const org = await newOrganization("versioned");
    const listener = new pg.Client({
      connectionString: db.config.rootUrl!.replace(/\/postgres$/, `/${db.config.name}`),
    });
    await listener.connect();
    const notes: { version: number; slug: string }[] = [];
    listener.on("notification", (message) => notes.push(JSON.parse(message.payload!)));
    await listener.query("listen status_snapshots");
    try {
      expect(await rebuild(org)).toBe(1);
      expect(await rebuild(org)).toBe(1);
      await db.rootPool.query("update app_public.organizations set name = 'Versioned Inc' where id = $1", [org]);
      expect(await rebuild(org)).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(notes.map((n) => [n.slug, n.version])).toEqual([
        ["versioned", 1],
        ["versioned", 2],
      ]);
    } finally {
      await listener.end();
    }
  });

  it("shows anonymous only published snapshots of active organizations", async () => {
    const visible = await newOrganization("visible");
    const suspended = await newOrganization("suspended");
    const unpublished = await newOrganization("unpublished");
    await db.rootPool.query("update app_public.organizations set suspended_at = now() where id = $1", [suspended]);
    await inOrganization(unpublished, (client) =>
      client.query("insert into app_public.status_page_settings (organization_id, published) values ($1, false)", [
        unpublished,
      ]),
    );
    for (const org of [visible, suspended, unpublished]) await rebuild(org);

    const client = await db.rootPool.connect();
    try {
      await client.query("begin");
      await client.query("select set_config('role', $1, true)", [db.config.roles.anonymous]);
      const { rows } = await client.query<{ slug: string }>(
        "select slug from app_public.status_snapshots where slug in ('visible', 'suspended', 'unpublished') order by slug",
      );
      expect(rows.map((row) => row.slug)).toEqual(["visible"]);
      const write = await client
        .query("update app_public.status_snapshots set version = 99")
        .catch((error: { code: string }) => error);
      expect((write as { code: string }).code).toBe("42501");
    } finally {
      await client.query("rollback");
      client.release();
    }
  });

  it("queues one rebuild job per organization for a burst of changes", async () => {
    const org = await newOrganization("bursty");
    await inOrganization(org, async (client) => {
      for (let n = 0; n < 5; n++)
        await client.query("insert into app_public.services (name) values ($1)", [`Burst ${n}`]);
    });
    const { rows } = await db.rootPool.query<{ n: number }>(
      "select count(*)::int as n from graphile_worker.jobs where key = $1",
      [`status:${org}`],
    );
    expect(rows[0]!.n).toBe(1);
  });
});
