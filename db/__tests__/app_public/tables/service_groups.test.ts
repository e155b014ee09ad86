/**
 * app_public.service_groups: members read their organization's groups; admins and owners
 * create, rename, reorder and delete them; names are unique per organization.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { countRows } from "../../helpers/incidentFixtures.ts";
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
  table: "app_public.service_groups",
  selectKeys: "select id::text as key from app_public.service_groups",
  selectRole: "viewer",
  insert: {
    minRole: "admin",
    sql: "insert into app_public.service_groups (name, position) values ('Edge', 3)",
    values: () => [],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.service_groups where organization_id = $1 and name = 'Edge'", [
        seed.organizationId,
      ])) === 1,
  },
  update: {
    minRole: "admin",
    sql: "update app_public.service_groups set name = 'Renamed', collapsed = true where id = $1",
    values: (seed) => [seed.groupId],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.service_groups where id = $1 and name = 'Renamed' and collapsed",
        [seed.groupId],
      )) === 1,
  },
  delete: {
    minRole: "admin",
    sql: "delete from app_public.service_groups where id = $1",
    values: (seed) => [seed.groupId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.service_groups where id = $1", [seed.groupId])) === 0,
  },
});

const test = (fn: Parameters<typeof inSeededWorld>[1]) => inSeededWorld(getDb, fn);

describe("app_public.service_groups: rules", () => {
  it(
    "names are unique per organization (23505); B may use A's names",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "admin");
      await expectSqlState(client, "23505", "insert into app_public.service_groups (name) values ('Core')");
      await expectRowCount(client, 1, "insert into app_public.service_groups (name) values ('Other')");
      await actAs(client, db.config, world, "otherOwner");
      await expectRowCount(client, 1, "insert into app_public.service_groups (name) values ('Other')");
    }),
  );

  it(
    "an empty or 101-character name is refused (23514)",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "admin");
      await expectSqlState(client, "23514", "insert into app_public.service_groups (name) values ('  ')");
      await expectSqlState(client, "23514", "insert into app_public.service_groups (name) values ($1)", [
        "g".repeat(101),
      ]);
    }),
  );

  it(
    "inserting with B's organization_id is refused (42501)",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "owner");
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.service_groups (organization_id, name) values ($1, 'Sneaky')",
        [world.b.id],
      );
      await becomeRoot(client);
      expect(await countRows(client, "select 1 from app_public.service_groups where name = 'Sneaky'")).toBe(0);
    }),
  );
});
