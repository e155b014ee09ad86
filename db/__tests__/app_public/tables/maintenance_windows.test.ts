/**
 * app_public.maintenance_windows and app_public.maintenance_services: members read them;
 * editors and above plan, edit and attach services; admins and owners delete windows. The
 * status moves only through the worker (advance_maintenance_window) and cancel_maintenance.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { countRows } from "../../helpers/incidentFixtures.ts";
import { describeTenantTable, inSeededWorld } from "../../helpers/tenantTable.ts";
import { becomeRoot, expectSqlState } from "../../helpers/transactions.ts";
import { actAs, expectNoEffect, expectNothingVisible, expectRowCount } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
const getDb = () => db;

const INSERT =
  "insert into app_public.maintenance_windows (title, starts_at, ends_at) values ($1, now() + $2::interval, now() + $3::interval)";

describeTenantTable(getDb, {
  table: "app_public.maintenance_windows",
  selectKeys: "select id::text as key from app_public.maintenance_windows",
  selectRole: "viewer",
  insert: {
    minRole: "editor",
    sql: INSERT,
    values: () => ["Database upgrade", "2 days", "2 days 1 hour"],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.maintenance_windows where organization_id = $1 and title = 'Database upgrade'",
        [seed.organizationId],
      )) === 1,
  },
  update: {
    minRole: "editor",
    sql: "update app_public.maintenance_windows set title = 'Moved', ends_at = ends_at + interval '1 hour' where id = $1",
    values: (seed) => [seed.maintenanceId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.maintenance_windows where id = $1 and title = 'Moved'", [
        seed.maintenanceId,
      ])) === 1,
  },
  delete: {
    minRole: "admin",
    sql: "delete from app_public.maintenance_windows where id = $1",
    values: (seed) => [seed.maintenanceId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.maintenance_windows where id = $1", [seed.maintenanceId])) ===
      0,
  },
});

const test = (fn: Parameters<typeof inSeededWorld>[1]) => inSeededWorld(getDb, fn);
const ATTACH = "insert into app_public.maintenance_services (maintenance_window_id, service_id) values ($1, $2)";
const DETACH = "delete from app_public.maintenance_services where maintenance_window_id = $1 and service_id = $2";

describe("app_public.maintenance_windows: rules", () => {
  it(
    "a new window lands in the active organization, scheduled, with its creator",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "editor");
      const { rows } = await client.query(
        `${INSERT} returning organization_id, status::text as status, created_by_id`,
        ["Upgrade", "1 day", "1 day 1 hour"],
      );
      expect(rows).toEqual([
        { organization_id: world.a.id, status: "scheduled", created_by_id: world.a.members.editor.id },
      ]);
    }),
  );

  it(
    "ends_at must be after starts_at (23514), on insert and on update",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23514", INSERT, ["Backwards", "2 hours", "1 hour"]);
      await expectSqlState(client, "23514", INSERT, ["Empty", "2 hours", "2 hours"]);
      await expectSqlState(
        client,
        "23514",
        "update app_public.maintenance_windows set ends_at = starts_at where id = $1",
        [a.maintenanceId],
      );
    }),
  );

  it(
    "an empty title is refused (23514)",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23514", INSERT, [" ", "1 hour", "2 hours"]);
    }),
  );

  it(
    "members cannot set the status or its times directly (42501)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "owner");
      for (const assignment of [
        "status = 'in_progress'",
        "started_at = now()",
        "completed_at = now()",
        "canceled_at = now()",
      ]) {
        await expectSqlState(client, "42501", `update app_public.maintenance_windows set ${assignment} where id = $1`, [
          a.maintenanceId,
        ]);
      }
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.maintenance_windows (title, starts_at, ends_at, status) values ('x', now(), now() + interval '1 hour', 'in_progress')",
      );
    }),
  );

  it(
    "inserting with B's organization_id is refused (42501)",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "owner");
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.maintenance_windows (organization_id, title, starts_at, ends_at) values ($1, 'x', now(), now() + interval '1 hour')",
        [world.b.id],
      );
    }),
  );
});

describe("app_public.maintenance_services", () => {
  it(
    "editors of A attach and detach A's services; viewers read them",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectRowCount(client, 1, ATTACH, [a.maintenanceId, a.serviceId]);
      await expectRowCount(client, 1, DETACH, [a.maintenanceId, a.otherServiceId]);
      await actAs(client, db.config, world, "viewer");
      const { rows } = await client.query("select service_id from app_public.maintenance_services");
      expect(rows).toEqual([{ service_id: a.serviceId }]);
    }),
  );

  it(
    "viewers cannot attach (42501) or detach (0 rows)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "viewer");
      await expectSqlState(client, "42501", ATTACH, [a.maintenanceId, a.serviceId]);
      await expectNoEffect(client, DETACH, [a.maintenanceId, a.otherServiceId]);
      await becomeRoot(client);
      expect(
        await countRows(client, "select 1 from app_public.maintenance_services where maintenance_window_id = $1", [
          a.maintenanceId,
        ]),
      ).toBe(1);
    }),
  );

  it(
    "B's service on A's window, or A's service on B's window: refused (23503)",
    test(async (client, { world, a, b }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23503", ATTACH, [a.maintenanceId, b.serviceId]);
      await expectSqlState(client, "23503", ATTACH, [b.maintenanceId, a.serviceId]);
    }),
  );

  it(
    "B's owner neither sees nor detaches A's window services; anonymous sees none",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "otherOwner");
      await expectNothingVisible(
        client,
        "select 1 from app_public.maintenance_services where maintenance_window_id = $1",
        [a.maintenanceId],
      );
      await expectNoEffect(client, DETACH, [a.maintenanceId, a.otherServiceId]);
      await actAs(client, db.config, world, "anonymous");
      await expectNothingVisible(client, "select 1 from app_public.maintenance_services");
      await becomeRoot(client);
      expect(
        await countRows(client, "select 1 from app_public.maintenance_services where maintenance_window_id = $1", [
          a.maintenanceId,
        ]),
      ).toBe(1);
    }),
  );
});
