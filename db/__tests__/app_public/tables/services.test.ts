/**
 * app_public.services: every member of the organization reads its services; admins and owners
 * create, change and delete them; names are unique per organization; a service's group must be
 * one of its organization's groups.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { countRows, createService, statusesOf } from "../../helpers/incidentFixtures.ts";
import { describeTenantTable, inSeededWorld } from "../../helpers/tenantTable.ts";
import { becomeRoot, expectSqlState } from "../../helpers/transactions.ts";
import { actAs, expectRowCount } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
const getDb = () => db;

describeTenantTable(getDb, {
  table: "app_public.services",
  selectKeys: "select id::text as key from app_public.services",
  selectRole: "viewer",
  insert: {
    minRole: "admin",
    sql: "insert into app_public.services (name, description) values ('Search', $1)",
    values: (seed) => [`for ${seed.organizationId}`],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.services where organization_id = $1 and name = 'Search' and description = $2",
        [seed.organizationId, `for ${seed.organizationId}`],
      )) === 1,
  },
  update: {
    minRole: "admin",
    sql: "update app_public.services set description = 'Changed' where id = $1",
    values: (seed) => [seed.serviceId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.services where id = $1 and description = 'Changed'", [
        seed.serviceId,
      ])) === 1,
  },
  delete: {
    minRole: "admin",
    sql: "delete from app_public.services where id = $1",
    values: (seed) => [seed.otherServiceId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.services where id = $1", [seed.otherServiceId])) === 0,
  },
});

const test = (fn: Parameters<typeof inSeededWorld>[1]) => inSeededWorld(getDb, fn);

describe("app_public.services: rules", () => {
  it(
    "a new service lands in the active organization, operational",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "admin");
      const { rows } = await client.query<{ organization_id: string; status: string; hidden: boolean }>(
        "insert into app_public.services (name) values ('Billing') returning organization_id, status::text as status, hidden",
      );
      expect(rows[0]).toEqual({ organization_id: world.a.id, status: "operational", hidden: false });
    }),
  );

  it(
    "inserting with B's organization_id is refused (42501)",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "owner");
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.services (organization_id, name) values ($1, 'X')",
        [world.b.id],
      );
      await becomeRoot(client);
      expect(await countRows(client, "select 1 from app_public.services where name = 'X'")).toBe(0);
    }),
  );

  it(
    "names are unique per organization (23505), but B may reuse A's name",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "admin");
      await expectSqlState(client, "23505", "insert into app_public.services (name) values ('API')");
      await actAs(client, db.config, world, "otherOwner");
      await expectSqlState(client, "23505", "insert into app_public.services (name) values ('API')");
      await expectRowCount(client, 1, "insert into app_public.services (name) values ('Only in B')");
      await actAs(client, db.config, world, "admin");
      await expectRowCount(client, 1, "insert into app_public.services (name) values ('Only in B')");
    }),
  );

  for (const [label, name] of [
    ["empty", ""],
    ["blank", "   "],
    ["101 characters", "x".repeat(101)],
  ] as const) {
    it(
      `name ${label}: refused (23514)`,
      test(async (client, { world }) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "23514", "insert into app_public.services (name) values ($1)", [name]);
      }),
    );
  }

  it(
    "a description over 2000 characters is refused (23514)",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "admin");
      await expectSqlState(client, "23514", "insert into app_public.services (name, description) values ('D', $1)", [
        "x".repeat(2001),
      ]);
    }),
  );

  it(
    "an unknown status is refused (22P02)",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "admin");
      await expectSqlState(client, "22P02", "insert into app_public.services (name, status) values ('S', 'broken')");
    }),
  );

  it(
    "a group of B is refused as the group of A's service (23503), on insert and on update",
    test(async (client, { world, a, b }) => {
      await actAs(client, db.config, world, "admin");
      await expectSqlState(client, "23503", "insert into app_public.services (name, group_id) values ('G', $1)", [
        b.groupId,
      ]);
      await expectSqlState(client, "23503", "update app_public.services set group_id = $1 where id = $2", [
        b.groupId,
        a.serviceId,
      ]);
      await expectRowCount(client, 1, "update app_public.services set group_id = null where id = $1", [a.serviceId]);
      await expectRowCount(client, 1, "update app_public.services set group_id = $1 where id = $2", [
        a.groupId,
        a.serviceId,
      ]);
    }),
  );

  it(
    "the admin of A sets a status by hand, and it is stamped",
    test(async (client, { world, a }) => {
      await becomeRoot(client);
      const { rows: before } = await client.query<{ at: Date }>(
        "select status_changed_at as at from app_public.services where id = $1",
        [a.otherServiceId],
      );
      await actAs(client, db.config, world, "admin");
      await expectRowCount(client, 1, "update app_public.services set status = 'partial_outage' where id = $1", [
        a.otherServiceId,
      ]);
      await becomeRoot(client);
      expect(await statusesOf(client, a.otherServiceId)).toEqual(["partial_outage"]);
      const { rows: after } = await client.query<{ at: Date }>(
        "select status_changed_at as at from app_public.services where id = $1",
        [a.otherServiceId],
      );
      expect(after[0]!.at.getTime()).toBeGreaterThanOrEqual(before[0]!.at.getTime());
    }),
  );

  it(
    "status_changed_at, created_at and organization_id cannot be written by members (42501)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "owner");
      await expectSqlState(client, "42501", "update app_public.services set status_changed_at = now() where id = $1", [
        a.serviceId,
      ]);
      await expectSqlState(client, "42501", "update app_public.services set created_at = now() where id = $1", [
        a.serviceId,
      ]);
    }),
  );

  it(
    "deleting a group keeps its services, ungrouped",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "admin");
      await expectRowCount(client, 1, "delete from app_public.service_groups where id = $1", [a.groupId]);
      await becomeRoot(client);
      const { rows } = await client.query<{ group_id: string | null }>(
        "select group_id from app_public.services where id = $1",
        [a.serviceId],
      );
      expect(rows).toEqual([{ group_id: null }]);
    }),
  );

  it(
    "a hidden service is still read by every member",
    test(async (client, { world }) => {
      const hiddenId = await createService(client, world.a.id, { name: "Internal", hidden: true });
      await actAs(client, db.config, world, "viewer");
      const { rows } = await client.query("select id from app_public.services where id = $1", [hiddenId]);
      expect(rows).toHaveLength(1);
    }),
  );
});
