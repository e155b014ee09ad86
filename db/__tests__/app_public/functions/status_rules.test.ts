/**
 * The status rules of DESIGN.md §8 as golden tables: each scenario is a list of steps taken by
 * A's editor (post_incident_update, cancel_maintenance) or by the worker
 * (advance_maintenance_window), each followed by the statuses every service must then have.
 *
 * - A service's status is the worst status claimed by the active incidents affecting it.
 * - Resolving an incident restores each of its services to the worst remaining claim, or
 *   operational; reopening makes its claims count again (and is counted).
 * - A running maintenance window makes its services under_maintenance unless an active
 *   incident claims worse.
 * - Hidden services follow the same rules.
 * - An incident's impact is derived from its worst claim unless overridden.
 * - Every status change closes the service's open interval and opens one; one open per service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import {
  advanceMaintenance,
  asRootIn,
  createService,
  incidentState,
  statusesOf,
  type Impact,
  type IncidentStatus,
  type ServiceStatus,
} from "../../helpers/incidentFixtures.ts";
import { becomeRoot, withRootDb, type Client } from "../../helpers/transactions.ts";
import { actAs, createWorld, type World } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

type ServiceName = "api" | "web" | "hidden";

type Step = { expect: Partial<Record<ServiceName, ServiceStatus>>; impact?: Record<string, Impact> } & (
  | { post: string; status: IncidentStatus; claims?: Partial<Record<ServiceName, ServiceStatus>> }
  | { override: string; impact_override: Impact | null }
  | { startMaintenance: string; services: ServiceName[] }
  | { endMaintenance: string }
  | { cancelMaintenance: string }
  | { deleteIncident: string }
);

interface Scenario {
  name: string;
  steps: Step[];
}

interface Context {
  client: Client;
  world: World;
  services: Record<ServiceName, string>;
  incidents: Map<string, string>;
  windows: Map<string, string>;
}

const POST = `select id from app_public.post_incident_update($1, $2, $3, true, null,
  coalesce((select array_agg(row(c.service_id, c.status)::app_public.service_status_change)
            from jsonb_to_recordset($4::jsonb) as c(service_id uuid, status app_public.service_status)), '{}'))`;

async function asEditor(context: Context) {
  await actAs(context.client, db.config, context.world, "editor");
}

/** The incident named `name`, created by A's editor (with what resolving needs) on first use. */
async function incident(context: Context, name: string): Promise<string> {
  const existing = context.incidents.get(name);
  if (existing) return existing;
  await asEditor(context);
  const { rows } = await context.client.query<{ id: string }>(
    "insert into app_public.incidents (title, root_cause, resolution_summary) values ($1, 'Cause', 'Fix') returning id",
    [name],
  );
  context.incidents.set(name, rows[0]!.id);
  return rows[0]!.id;
}

async function runStep(context: Context, step: Step) {
  const { client, world, services } = context;
  if ("post" in step) {
    const incidentId = await incident(context, step.post);
    const claims = Object.entries(step.claims ?? {}).map(([service, status]) => ({
      service_id: services[service as ServiceName],
      status,
    }));
    await asEditor(context);
    await client.query(POST, [incidentId, step.status, `Now ${step.status}`, JSON.stringify(claims)]);
  } else if ("override" in step) {
    const incidentId = await incident(context, step.override);
    await asEditor(context);
    await client.query("update app_public.incidents set impact_override = $1 where id = $2", [
      step.impact_override,
      incidentId,
    ]);
  } else if ("startMaintenance" in step) {
    await asEditor(context);
    const { rows } = await client.query<{ id: string }>(
      `insert into app_public.maintenance_windows (title, starts_at, ends_at)
       values ($1, now() - interval '1 hour', now() + interval '1 hour') returning id`,
      [step.startMaintenance],
    );
    const windowId = rows[0]!.id;
    context.windows.set(step.startMaintenance, windowId);
    for (const service of step.services) {
      await client.query(
        "insert into app_public.maintenance_services (maintenance_window_id, service_id) values ($1, $2)",
        [windowId, services[service]],
      );
    }
    expect(await advanceMaintenance(client, world.a.id, windowId)).toBe("in_progress");
  } else if ("endMaintenance" in step) {
    const windowId = context.windows.get(step.endMaintenance)!;
    await asRootIn(client, world.a.id, async () => {
      await client.query(
        "update app_public.maintenance_windows set ends_at = now() - interval '1 minute' where id = $1",
        [windowId],
      );
    });
    expect(await advanceMaintenance(client, world.a.id, windowId)).toBe("completed");
  } else if ("cancelMaintenance" in step) {
    await asEditor(context);
    await client.query("select id from app_public.cancel_maintenance($1)", [
      context.windows.get(step.cancelMaintenance),
    ]);
  } else {
    await actAs(client, db.config, world, "admin");
    await client.query("delete from app_public.incidents where id = $1", [context.incidents.get(step.deleteIncident)]);
  }
}

function scenarioTest(scenario: Scenario) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      const services = {
        api: await createService(client, world.a.id, { name: "API" }),
        web: await createService(client, world.a.id, { name: "Web" }),
        hidden: await createService(client, world.a.id, { name: "Internal", hidden: true }),
      };
      const context: Context = { client, world, services, incidents: new Map(), windows: new Map() };
      for (const [index, step] of scenario.steps.entries()) {
        await runStep(context, step);
        await becomeRoot(client);
        const names = Object.keys(step.expect) as ServiceName[];
        const actual = await statusesOf(client, ...names.map((name) => services[name]));
        expect(Object.fromEntries(names.map((name, i) => [name, actual[i]])), `after step ${index + 1}`).toEqual(
          step.expect,
        );
        for (const [name, impact] of Object.entries(step.impact ?? {})) {
          expect(
            (await incidentState(client, context.incidents.get(name)!))?.impact,
            `impact of ${name} after step ${index + 1}`,
          ).toBe(impact);
        }
      }
    });
}

const SCENARIOS: Scenario[] = [
  {
    name: "overlapping incidents on one service: the worst claim wins; resolving one leaves the other's",
    steps: [
      {
        post: "I1",
        status: "investigating",
        claims: { api: "degraded_performance" },
        expect: { api: "degraded_performance", web: "operational" },
      },
      { post: "I2", status: "investigating", claims: { api: "major_outage" }, expect: { api: "major_outage" } },
      { post: "I1", status: "identified", claims: { api: "partial_outage" }, expect: { api: "major_outage" } },
      { post: "I2", status: "resolved", expect: { api: "partial_outage" } },
      { post: "I1", status: "resolved", expect: { api: "operational", web: "operational" } },
    ],
  },
  {
    name: "the worst claim wins whatever the order; a milder claim later does not lower it",
    steps: [
      { post: "I1", status: "investigating", claims: { api: "major_outage" }, expect: { api: "major_outage" } },
      { post: "I2", status: "investigating", claims: { api: "degraded_performance" }, expect: { api: "major_outage" } },
      {
        post: "I1",
        status: "monitoring",
        claims: { api: "degraded_performance" },
        expect: { api: "degraded_performance" },
      },
      { post: "I1", status: "resolved", expect: { api: "degraded_performance" } },
      { post: "I2", status: "resolved", expect: { api: "operational" } },
    ],
  },
  {
    name: "one incident over several services; resolving restores each to the worst remaining claim",
    steps: [
      {
        post: "I1",
        status: "investigating",
        claims: { api: "partial_outage", web: "major_outage" },
        expect: { api: "partial_outage", web: "major_outage" },
      },
      {
        post: "I2",
        status: "investigating",
        claims: { web: "degraded_performance" },
        expect: { api: "partial_outage", web: "major_outage" },
      },
      { post: "I1", status: "resolved", expect: { api: "operational", web: "degraded_performance" } },
      { post: "I2", status: "resolved", expect: { api: "operational", web: "operational" } },
    ],
  },
  {
    name: "resolve and reopen: claims count again",
    steps: [
      {
        post: "I1",
        status: "investigating",
        claims: { api: "partial_outage", web: "degraded_performance" },
        expect: { api: "partial_outage", web: "degraded_performance" },
      },
      { post: "I1", status: "resolved", expect: { api: "operational", web: "operational" } },
      { post: "I1", status: "investigating", expect: { api: "partial_outage", web: "degraded_performance" } },
      {
        post: "I1",
        status: "monitoring",
        claims: { api: "operational" },
        expect: { api: "operational", web: "degraded_performance" },
      },
      { post: "I1", status: "resolved", expect: { api: "operational", web: "operational" } },
    ],
  },
  {
    name: "a claim of operational does not hide another incident's outage",
    steps: [
      { post: "I1", status: "investigating", claims: { api: "partial_outage" }, expect: { api: "partial_outage" } },
      { post: "I2", status: "monitoring", claims: { api: "operational" }, expect: { api: "partial_outage" } },
      { post: "I1", status: "resolved", expect: { api: "operational" } },
    ],
  },
  {
    name: "maintenance over a running incident: a worse claim beats maintenance; maintenance beats no claim",
    steps: [
      {
        startMaintenance: "M1",
        services: ["api", "web"],
        expect: { api: "under_maintenance", web: "under_maintenance" },
      },
      {
        post: "I1",
        status: "investigating",
        claims: { api: "degraded_performance" },
        expect: { api: "degraded_performance", web: "under_maintenance" },
      },
      {
        post: "I1",
        status: "identified",
        claims: { web: "operational" },
        expect: { api: "degraded_performance", web: "under_maintenance" },
      },
      { post: "I1", status: "resolved", expect: { api: "under_maintenance", web: "under_maintenance" } },
      { endMaintenance: "M1", expect: { api: "operational", web: "operational" } },
    ],
  },
  {
    name: "an incident running when maintenance starts keeps its claim; maintenance ending restores the claim, not operational",
    steps: [
      { post: "I1", status: "investigating", claims: { api: "partial_outage" }, expect: { api: "partial_outage" } },
      { startMaintenance: "M1", services: ["api", "web"], expect: { api: "partial_outage", web: "under_maintenance" } },
      { endMaintenance: "M1", expect: { api: "partial_outage", web: "operational" } },
      { post: "I1", status: "resolved", expect: { api: "operational", web: "operational" } },
    ],
  },
  {
    name: "an incident resolving during maintenance leaves the service under maintenance; cancelling restores it",
    steps: [
      { post: "I1", status: "investigating", claims: { api: "major_outage" }, expect: { api: "major_outage" } },
      { startMaintenance: "M1", services: ["api"], expect: { api: "major_outage", web: "operational" } },
      { post: "I1", status: "resolved", expect: { api: "under_maintenance" } },
      { cancelMaintenance: "M1", expect: { api: "operational" } },
    ],
  },
  {
    name: "two overlapping maintenance windows: the service stays under maintenance until both end",
    steps: [
      { startMaintenance: "M1", services: ["api"], expect: { api: "under_maintenance" } },
      {
        startMaintenance: "M2",
        services: ["api", "web"],
        expect: { api: "under_maintenance", web: "under_maintenance" },
      },
      { endMaintenance: "M1", expect: { api: "under_maintenance", web: "under_maintenance" } },
      { cancelMaintenance: "M2", expect: { api: "operational", web: "operational" } },
    ],
  },
  {
    name: "a hidden service follows the same rules",
    steps: [
      {
        post: "I1",
        status: "investigating",
        claims: { hidden: "degraded_performance" },
        expect: { hidden: "degraded_performance", api: "operational" },
      },
      { post: "I2", status: "investigating", claims: { hidden: "major_outage" }, expect: { hidden: "major_outage" } },
      { post: "I2", status: "resolved", expect: { hidden: "degraded_performance" } },
      { startMaintenance: "M1", services: ["hidden"], expect: { hidden: "degraded_performance" } },
      { post: "I1", status: "resolved", expect: { hidden: "under_maintenance" } },
      { endMaintenance: "M1", expect: { hidden: "operational" } },
    ],
  },
  {
    name: "deleting an active incident restores its services to the remaining claims",
    steps: [
      { post: "I1", status: "investigating", claims: { api: "major_outage" }, expect: { api: "major_outage" } },
      { post: "I2", status: "investigating", claims: { api: "degraded_performance" }, expect: { api: "major_outage" } },
      { deleteIncident: "I1", expect: { api: "degraded_performance" } },
      { deleteIncident: "I2", expect: { api: "operational" } },
    ],
  },
  {
    name: "impact: derived from the worst claim (degraded → minor, partial → major, major outage → critical) unless overridden",
    steps: [
      { post: "I1", status: "investigating", expect: {}, impact: { I1: "none" } },
      {
        post: "I1",
        status: "investigating",
        claims: { api: "degraded_performance" },
        expect: {},
        impact: { I1: "minor" },
      },
      { post: "I1", status: "identified", claims: { web: "partial_outage" }, expect: {}, impact: { I1: "major" } },
      { post: "I1", status: "identified", claims: { api: "major_outage" }, expect: {}, impact: { I1: "critical" } },
      { override: "I1", impact_override: "minor", expect: { api: "major_outage" }, impact: { I1: "minor" } },
      {
        post: "I1",
        status: "monitoring",
        claims: { api: "operational", web: "degraded_performance" },
        expect: {},
        impact: { I1: "minor" },
      },
      { override: "I1", impact_override: null, expect: {}, impact: { I1: "minor" } },
      { post: "I1", status: "monitoring", claims: { web: "operational" }, expect: {}, impact: { I1: "none" } },
      { post: "I1", status: "monitoring", claims: { web: "partial_outage" }, expect: {}, impact: { I1: "major" } },
      { post: "I1", status: "resolved", expect: { web: "operational" }, impact: { I1: "major" } },
    ],
  },
  {
    name: "impact: each incident's impact is its own, even on a shared service",
    steps: [
      {
        post: "I1",
        status: "investigating",
        claims: { api: "major_outage" },
        expect: { api: "major_outage" },
        impact: { I1: "critical" },
      },
      {
        post: "I2",
        status: "investigating",
        claims: { api: "degraded_performance" },
        expect: { api: "major_outage" },
        impact: { I1: "critical", I2: "minor" },
      },
      { override: "I2", impact_override: "none", expect: {}, impact: { I1: "critical", I2: "none" } },
    ],
  },
];

describe("status rules (golden scenarios)", () => {
  for (const scenario of SCENARIOS) {
    it(scenario.name, scenarioTest(scenario));
  }
});

describe("reopening", () => {
  it("counts each reopening, clears resolved_at, and records previous_status on every update", () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      const api = await createService(client, world.a.id, { name: "API" });
      const context: Context = {
        client,
        world,
        services: { api, web: api, hidden: api },
        incidents: new Map(),
        windows: new Map(),
      };
      const incidentId = await incident(context, "I1");
      const table: [IncidentStatus, IncidentStatus, number, boolean][] = [
        // status posted, previous status, reopened_count, resolved
        ["identified", "investigating", 0, false],
        ["resolved", "identified", 0, true],
        ["investigating", "resolved", 1, false],
        ["monitoring", "investigating", 1, false],
        ["resolved", "monitoring", 1, true],
        ["monitoring", "resolved", 2, false],
        ["resolved", "monitoring", 2, true],
      ];
      for (const [status, previous, reopened, resolved] of table) {
        await asEditor(context);
        const { rows } = await client.query<{ previous_status: string }>(
          `select previous_status::text as previous_status from app_public.post_incident_update($1, $2, 'x')`,
          [incidentId, status],
        );
        expect(rows[0]!.previous_status, `posting ${status}`).toBe(previous);
        await becomeRoot(client);
        expect(await incidentState(client, incidentId), `after posting ${status}`).toMatchObject({
          status,
          reopened_count: reopened,
          resolved,
        });
      }
    }));

  it("posting resolved on a resolved incident is not a reopening and keeps resolved_at", () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      const context: Context = {
        client,
        world,
        services: {} as Context["services"],
        incidents: new Map(),
        windows: new Map(),
      };
      const incidentId = await incident(context, "I1");
      await becomeRoot(client);
      await client.query(
        "update app_public.incidents set started_at = now() - interval '2 hours', status = 'resolved', resolved_at = now() - interval '1 hour' where id = $1",
        [incidentId],
      );
      await asEditor(context);
      await client.query("select id from app_public.post_incident_update($1, 'resolved', 'Postscript')", [incidentId]);
      await becomeRoot(client);
      const { rows } = await client.query(
        "select reopened_count, resolved_at = now() - interval '1 hour' as kept from app_public.incidents where id = $1",
        [incidentId],
      );
      expect(rows).toEqual([{ reopened_count: 0, kept: true }]);
    }));
});

describe("status intervals (each step committed, so time moves)", () => {
  interface Interval {
    status: ServiceStatus;
    started_at: Date;
    ended_at: Date | null;
  }

  it("records one interval per status, closing each where the next opens, one open per service", async () => {
    const client = await db.rootPool.connect();
    try {
      const step = async (fn: () => Promise<void>) => {
        await client.query("begin");
        await fn();
        await client.query("commit");
        await client.query("reset role");
      };
      let world!: World;
      let api!: string;
      let web!: string;
      const context = () =>
        ({ client, world, services: { api, web, hidden: web }, incidents, windows: new Map() }) as Context;
      const incidents = new Map<string, string>();
      await step(async () => {
        world = await createWorld(client);
        api = await createService(client, world.a.id, { name: "API" });
        web = await createService(client, world.a.id, { name: "Web" });
      });
      const sequence: Step[] = [
        { post: "I1", status: "investigating", claims: { api: "degraded_performance" }, expect: {} },
        { post: "I2", status: "investigating", claims: { api: "major_outage" }, expect: {} },
        { post: "I2", status: "resolved", expect: {} },
        { post: "I1", status: "identified", claims: { api: "degraded_performance" }, expect: {} }, // no change: no interval
        { post: "I1", status: "resolved", expect: {} },
      ];
      for (const next of sequence) await step(() => runStep(context(), next));

      const { rows } = await client.query<Interval>(
        `select status::text as status, started_at, ended_at from app_public.service_status_intervals
         where service_id = $1 order by started_at, ended_at nulls last`,
        [api],
      );
      expect(rows.map((row) => row.status)).toEqual([
        "operational",
        "degraded_performance",
        "major_outage",
        "degraded_performance",
        "operational",
      ]);
      expect(rows.filter((row) => row.ended_at === null)).toHaveLength(1);
      expect(rows.at(-1)!.ended_at).toBeNull();
      for (let i = 1; i < rows.length; i++) {
        expect(rows[i - 1]!.ended_at?.getTime(), `interval ${i} closes where ${i + 1} opens`).toBe(
          rows[i]!.started_at.getTime(),
        );
      }
      const { rows: untouched } = await client.query<Interval>(
        "select status::text as status, ended_at from app_public.service_status_intervals where service_id = $1",
        [web],
      );
      expect(untouched).toEqual([{ status: "operational", ended_at: null }]);
    } finally {
      await client.query("rollback").catch(() => undefined);
      client.release();
    }
  });
});
