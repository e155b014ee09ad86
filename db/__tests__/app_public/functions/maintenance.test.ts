/**
 * Maintenance windows over time: app_private.advance_maintenance_window (called by the worker
 * at a window's start and end) moves a window to the state it should have now and sets its
 * services under_maintenance, then restores them; app_public.cancel_maintenance (editors and
 * above) cancels and restores at once; a scheduling trigger keeps one graphile-worker job per
 * window edge, keyed 'maintenance:<id>:start' and 'maintenance:<id>:end'.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import {
  advanceMaintenance,
  asRootIn,
  claim,
  createIncident,
  createMaintenance,
  createService,
  statusesOf,
  type MaintenanceOptions,
} from "../../helpers/incidentFixtures.ts";
import { becomeRoot, expectSqlState, withRootDb, type Client } from "../../helpers/transactions.ts";
import { ACTOR_LABELS, actAs, createWorld, expectRefusedToAnonymous, type World } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

interface Fixture {
  world: World;
  api: string;
  web: string;
  /** A's service not in any window. */
  other: string;
  window: (options?: MaintenanceOptions) => Promise<string>;
}

function inFixture(fn: (client: Client, fixture: Fixture) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      const api = await createService(client, world.a.id, { name: "API" });
      const web = await createService(client, world.a.id, { name: "Web" });
      const other = await createService(client, world.a.id, { name: "Other" });
      const window = (options: MaintenanceOptions = {}) =>
        createMaintenance(client, world.a.id, { serviceIds: [api, web], ...options });
      await fn(client, { world, api, web, other, window });
    });
}

interface WindowRow {
  status: string;
  started: boolean;
  completed: boolean;
  canceled: boolean;
}

async function windowState(client: Client, id: string): Promise<WindowRow | undefined> {
  await becomeRoot(client);
  const { rows } = await client.query<WindowRow>(
    `select status::text as status, started_at is not null as started, completed_at is not null as completed,
            canceled_at is not null as canceled
     from app_public.maintenance_windows where id = $1`,
    [id],
  );
  return rows[0];
}

interface Job {
  key: string;
  task_identifier: string;
  at_start: boolean;
  at_end: boolean;
  payload: Record<string, unknown>;
}

/** The worker's jobs for a window, as root. */
async function jobsFor(client: Client, id: string): Promise<Job[]> {
  await becomeRoot(client);
  const { rows } = await client.query<Job>(
    `select j.key, j.task_identifier, j.run_at = w.starts_at as at_start, j.run_at = w.ends_at as at_end, pj.payload
     from graphile_worker.jobs j
     join graphile_worker._private_jobs pj on pj.id = j.id
     left join app_public.maintenance_windows w on w.id = $1
     where j.key like 'maintenance:' || $1 || ':%'
     order by j.key`,
    [id],
  );
  return rows;
}

const CANCEL = "select id, status::text as status from app_public.cancel_maintenance($1)";

describe("app_private.advance_maintenance_window", () => {
  it(
    "before its start: stays scheduled, services untouched",
    inFixture(async (client, { world, api, web, window }) => {
      const id = await window({ startsIn: "1 hour", endsIn: "2 hours" });
      expect(await advanceMaintenance(client, world.a.id, id)).toBe("scheduled");
      expect(await windowState(client, id)).toEqual({
        status: "scheduled",
        started: false,
        completed: false,
        canceled: false,
      });
      expect(await statusesOf(client, api, web)).toEqual(["operational", "operational"]);
    }),
  );

  it(
    "between start and end: in progress, its services under maintenance, others untouched",
    inFixture(async (client, { world, api, web, other, window }) => {
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      expect(await advanceMaintenance(client, world.a.id, id)).toBe("in_progress");
      expect(await windowState(client, id)).toEqual({
        status: "in_progress",
        started: true,
        completed: false,
        canceled: false,
      });
      expect(await statusesOf(client, api, web, other)).toEqual([
        "under_maintenance",
        "under_maintenance",
        "operational",
      ]);
    }),
  );

  it(
    "advancing twice while in progress changes nothing",
    inFixture(async (client, { world, api, window }) => {
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      await advanceMaintenance(client, world.a.id, id);
      expect(await advanceMaintenance(client, world.a.id, id)).toBe("in_progress");
      expect(await statusesOf(client, api)).toEqual(["under_maintenance"]);
    }),
  );

  it(
    "after its end: completed, services restored",
    inFixture(async (client, { world, api, web, window }) => {
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      await advanceMaintenance(client, world.a.id, id);
      await asRootIn(client, world.a.id, async () => {
        await client.query(
          "update app_public.maintenance_windows set ends_at = now() - interval '1 minute' where id = $1",
          [id],
        );
      });
      expect(await advanceMaintenance(client, world.a.id, id)).toBe("completed");
      expect(await windowState(client, id)).toEqual({
        status: "completed",
        started: true,
        completed: true,
        canceled: false,
      });
      expect(await statusesOf(client, api, web)).toEqual(["operational", "operational"]);
    }),
  );

  it(
    "a window entirely in the past goes straight to completed, and its services stay operational",
    inFixture(async (client, { world, api, web, window }) => {
      const id = await window({ startsIn: "-2 hours", endsIn: "-1 hour" });
      expect(await advanceMaintenance(client, world.a.id, id)).toBe("completed");
      expect(await windowState(client, id)).toEqual({
        status: "completed",
        started: true,
        completed: true,
        canceled: false,
      });
      expect(await statusesOf(client, api, web)).toEqual(["operational", "operational"]);
    }),
  );

  it(
    "restores a service to an incident's claim, not to operational",
    inFixture(async (client, { world, api, web, window }) => {
      const incidentId = await createIncident(client, world.a.id);
      await claim(client, world.a.id, incidentId, web, "degraded_performance");
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      await advanceMaintenance(client, world.a.id, id);
      expect(await statusesOf(client, api, web)).toEqual(["under_maintenance", "degraded_performance"]);
      await asRootIn(client, world.a.id, async () => {
        await client.query(
          "update app_public.maintenance_windows set ends_at = now() - interval '1 minute' where id = $1",
          [id],
        );
      });
      await advanceMaintenance(client, world.a.id, id);
      expect(await statusesOf(client, api, web)).toEqual(["operational", "degraded_performance"]);
    }),
  );

  it(
    "a service added to a running window goes under maintenance; one removed is restored",
    inFixture(async (client, { world, api, other, window }) => {
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      await advanceMaintenance(client, world.a.id, id);
      await actAs(client, db.config, world, "editor");
      await client.query(
        "insert into app_public.maintenance_services (maintenance_window_id, service_id) values ($1, $2)",
        [id, other],
      );
      await client.query(
        "delete from app_public.maintenance_services where maintenance_window_id = $1 and service_id = $2",
        [id, api],
      );
      await becomeRoot(client);
      expect(await statusesOf(client, api, other)).toEqual(["operational", "under_maintenance"]);
    }),
  );

  it(
    "deleting a running window (admin) restores its services",
    inFixture(async (client, { world, api, web, window }) => {
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      await advanceMaintenance(client, world.a.id, id);
      await actAs(client, db.config, world, "admin");
      await client.query("delete from app_public.maintenance_windows where id = $1", [id]);
      await becomeRoot(client);
      expect(await statusesOf(client, api, web)).toEqual(["operational", "operational"]);
    }),
  );

  it(
    "completed and canceled windows are left alone",
    inFixture(async (client, { world, api, window }) => {
      const completed = await window({ startsIn: "-2 hours", endsIn: "-1 hour" });
      await advanceMaintenance(client, world.a.id, completed);
      const canceled = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      await actAs(client, db.config, world, "editor");
      await client.query(CANCEL, [canceled]);
      expect(await advanceMaintenance(client, world.a.id, completed)).toBe("completed");
      expect(await advanceMaintenance(client, world.a.id, canceled)).toBe("canceled");
      expect(await statusesOf(client, api)).toEqual(["operational"]);
    }),
  );

  it(
    "an unknown window, or A's window named under B, is ignored (no row, no change)",
    inFixture(async (client, { world, api, window }) => {
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      expect((await advanceMaintenance(client, world.a.id, "00000000-0000-4000-8000-000000000000")) ?? null).toBeNull();
      await asRootIn(client, world.b.id, async () => {
        const { rows } = await client.query<{ id: string | null }>(
          "select id from app_private.advance_maintenance_window($1, $2)",
          [world.b.id, id],
        );
        expect(rows.every((row) => row.id === null)).toBe(true);
      });
      expect(await windowState(client, id)).toMatchObject({ status: "scheduled" });
      expect(await statusesOf(client, api)).toEqual(["operational"]);
    }),
  );

  it(
    "called by root without an org_id claim, it still moves the window and its services",
    inFixture(async (client, { world, api, web, window }) => {
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      await becomeRoot(client);
      await client.query("select set_config('jwt.claims.org_id', '', true)");
      await client.query("savepoint advance");
      let error: { code?: string; message?: string } | undefined;
      try {
        await client.query("select app_private.advance_maintenance_window($1, $2)", [world.a.id, id]);
      } catch (caught) {
        error = caught as typeof error;
        await client.query("rollback to savepoint advance");
      }
      expect(error?.code, error?.message).toBeUndefined();
      expect(await windowState(client, id)).toMatchObject({ status: "in_progress" });
      expect(await statusesOf(client, api, web)).toEqual(["under_maintenance", "under_maintenance"]);
    }),
  );

  it(
    "is not executable by members or anonymous (42501)",
    inFixture(async (client, { world, window }) => {
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      for (const actor of ["owner", "anonymous"] as const) {
        await actAs(client, db.config, world, actor);
        await expectSqlState(client, "42501", "select app_private.advance_maintenance_window($1, $2)", [
          world.a.id,
          id,
        ]);
      }
    }),
  );
});

describe("app_public.cancel_maintenance", () => {
  for (const actor of ["owner", "admin", "editor"] as const) {
    it(
      `the ${actor} of A cancels a running window; its services are restored at once`,
      inFixture(async (client, { world, api, web, window }) => {
        const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
        await advanceMaintenance(client, world.a.id, id);
        await actAs(client, db.config, world, actor);
        const { rows } = await client.query(CANCEL, [id]);
        expect(rows).toEqual([{ id, status: "canceled" }]);
        expect(await windowState(client, id)).toMatchObject({ status: "canceled", canceled: true });
        expect(await statusesOf(client, api, web)).toEqual(["operational", "operational"]);
      }),
    );
  }

  it(
    "cancels a scheduled window",
    inFixture(async (client, { world, window }) => {
      const id = await window();
      await actAs(client, db.config, world, "editor");
      await client.query(CANCEL, [id]);
      expect(await windowState(client, id)).toMatchObject({ status: "canceled", started: false });
    }),
  );

  it(
    "a completed or canceled window cannot be canceled (IPC04)",
    inFixture(async (client, { world, window }) => {
      const completed = await window({ startsIn: "-2 hours", endsIn: "-1 hour" });
      await advanceMaintenance(client, world.a.id, completed);
      const canceled = await window();
      await actAs(client, db.config, world, "editor");
      await client.query(CANCEL, [canceled]);
      await expectSqlState(client, "IPC04", CANCEL, [completed]);
      await expectSqlState(client, "IPC04", CANCEL, [canceled]);
      expect(await windowState(client, completed)).toMatchObject({ status: "completed", canceled: false });
    }),
  );

  for (const actor of ["viewer", "outsider"] as const) {
    it(
      `is refused to the ${ACTOR_LABELS[actor]} (IPF01)`,
      inFixture(async (client, { world, api, window }) => {
        const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
        await advanceMaintenance(client, world.a.id, id);
        await actAs(client, db.config, world, actor);
        await expectSqlState(client, "IPF01", CANCEL, [id]);
        expect(await windowState(client, id)).toMatchObject({ status: "in_progress" });
        expect(await statusesOf(client, api)).toEqual(["under_maintenance"]);
      }),
    );
  }

  it(
    "is refused to anonymous",
    inFixture(async (client, { world, window }) => {
      const id = await window();
      await actAs(client, db.config, world, "anonymous");
      await expectRefusedToAnonymous(client, CANCEL, [id]);
    }),
  );

  it(
    "an unknown window, A's window for B's owner, or B's for the editor of A who owns B: IPN01",
    inFixture(async (client, { world, window }) => {
      const id = await window();
      const ofB = await createMaintenance(client, world.b.id);
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "IPN01", CANCEL, ["00000000-0000-4000-8000-000000000000"]);
      await actAs(client, db.config, world, "otherOwner");
      await expectSqlState(client, "IPN01", CANCEL, [id]);
      await actAs(client, db.config, world, "both");
      await expectSqlState(client, "IPN01", CANCEL, [ofB]);
      expect(await windowState(client, id)).toMatchObject({ status: "scheduled" });
      expect(await windowState(client, ofB)).toMatchObject({ status: "scheduled" });
    }),
  );
});

describe("scheduling jobs", () => {
  it(
    "planning a window adds a start and an end job with the window's job keys, at its times",
    inFixture(async (client, { world }) => {
      await actAs(client, db.config, world, "editor");
      const { rows } = await client.query<{ id: string }>(
        "insert into app_public.maintenance_windows (title, starts_at, ends_at) values ('Upgrade', now() + interval '1 day', now() + interval '1 day 1 hour') returning id",
      );
      const id = rows[0]!.id;
      const jobs = await jobsFor(client, id);
      expect(
        jobs.map(({ key, task_identifier, at_start, at_end }) => ({ key, task_identifier, at_start, at_end })),
      ).toEqual([
        {
          key: `maintenance:${id}:end`,
          task_identifier: "maintenance_windows__advance",
          at_start: false,
          at_end: true,
        },
        {
          key: `maintenance:${id}:start`,
          task_identifier: "maintenance_windows__advance",
          at_start: true,
          at_end: false,
        },
      ]);
      for (const job of jobs) expect(job.payload).toMatchObject({ organizationId: world.a.id });
      expect(Object.values(jobs[0]!.payload)).toContain(id);
    }),
  );

  it(
    "moving the window reschedules the same two jobs",
    inFixture(async (client, { world, window }) => {
      const id = await window();
      await actAs(client, db.config, world, "editor");
      await client.query(
        "update app_public.maintenance_windows set starts_at = starts_at + interval '1 day', ends_at = ends_at + interval '1 day' where id = $1",
        [id],
      );
      const jobs = await jobsFor(client, id);
      expect(jobs.map((job) => [job.key, job.at_start, job.at_end])).toEqual([
        [`maintenance:${id}:end`, false, true],
        [`maintenance:${id}:start`, true, false],
      ]);
    }),
  );

  it(
    "editing the title alone does not add jobs",
    inFixture(async (client, { world, window }) => {
      const id = await window();
      await actAs(client, db.config, world, "editor");
      await client.query("update app_public.maintenance_windows set title = 'Renamed' where id = $1", [id]);
      expect(await jobsFor(client, id)).toHaveLength(2);
    }),
  );

  it(
    "cancelling removes both jobs",
    inFixture(async (client, { world, window }) => {
      const id = await window();
      expect(await jobsFor(client, id)).toHaveLength(2);
      await actAs(client, db.config, world, "editor");
      await client.query(CANCEL, [id]);
      expect(await jobsFor(client, id)).toEqual([]);
    }),
  );

  it(
    "completing removes both jobs",
    inFixture(async (client, { world, window }) => {
      const id = await window({ startsIn: "-2 hours", endsIn: "-1 hour" });
      await advanceMaintenance(client, world.a.id, id);
      expect(await jobsFor(client, id)).toEqual([]);
    }),
  );

  it(
    "deleting a window leaves no job that could touch anything: advancing it finds no window",
    inFixture(async (client, { world, api, window }) => {
      const id = await window({ startsIn: "-1 hour", endsIn: "1 hour" });
      await actAs(client, db.config, world, "admin");
      await client.query("delete from app_public.maintenance_windows where id = $1", [id]);
      // The jobs may remain (nothing removes them on delete); when they run they find nothing.
      expect((await advanceMaintenance(client, world.a.id, id)) ?? null).toBeNull();
      expect(await statusesOf(client, api)).toEqual(["operational"]);
    }),
  );

  it(
    "a window ending before it starts is refused (23514) and schedules nothing",
    inFixture(async (client, { world }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(
        client,
        "23514",
        "insert into app_public.maintenance_windows (title, starts_at, ends_at) values ('Backwards', now() + interval '2 hours', now() + interval '1 hour')",
      );
      await becomeRoot(client);
      const { rows } = await client.query(
        "select count(*)::int as n from graphile_worker.jobs where key like 'maintenance:%'",
      );
      expect(rows).toEqual([{ n: 0 }]);
    }),
  );
});
