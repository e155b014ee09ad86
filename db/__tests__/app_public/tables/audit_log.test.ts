/**
 * app_public.audit_log: written by triggers only; owners and admins of the organization read
 * its entries; editors, viewers, other organizations and anonymous read none; nobody — root
 * included — updates or deletes an entry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { deleteOrganizationAsWorker } from "../../helpers/factories.ts";
import { countRows } from "../../helpers/incidentFixtures.ts";
import { describeTenantTable, inSeededWorld } from "../../helpers/tenantTable.ts";
import { becomeRoot, expectSqlState } from "../../helpers/transactions.ts";
import { actAs } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
const getDb = () => db;

describeTenantTable(getDb, {
  table: "app_public.audit_log",
  selectKeys: "select id::text as key from app_public.audit_log",
  selectRole: "admin",
  insert: {
    minRole: null,
    sql: "insert into app_public.audit_log (organization_id, action, target_table, changes) values ($1, 'delete', 'forged', '{}')",
    values: (seed) => [seed.organizationId],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.audit_log where organization_id = $1 and target_table = 'forged'",
        [seed.organizationId],
      )) > 0,
  },
  update: {
    minRole: null,
    sql: "update app_public.audit_log set target_table = 'forged' where organization_id = $1",
    values: (seed) => [seed.organizationId],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.audit_log where organization_id = $1 and target_table = 'forged'",
        [seed.organizationId],
      )) > 0,
  },
  delete: {
    minRole: null,
    sql: "delete from app_public.audit_log where organization_id = $1",
    values: (seed) => [seed.organizationId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.audit_log where organization_id = $1", [
        seed.organizationId,
      ])) === 0,
  },
});

const test = (fn: Parameters<typeof inSeededWorld>[1]) => inSeededWorld(getDb, fn);

describe("app_public.audit_log: append-only", () => {
  it(
    "root cannot update an entry (IPF01)",
    test(async (client, { a }) => {
      await becomeRoot(client);
      await expectSqlState(
        client,
        "IPF01",
        "update app_public.audit_log set action = 'delete' where organization_id = $1",
        [a.organizationId],
      );
    }),
  );

  it(
    "root cannot delete an entry (IPF01)",
    test(async (client, { a }) => {
      await becomeRoot(client);
      const before = await countRows(client, "select 1 from app_public.audit_log where organization_id = $1", [
        a.organizationId,
      ]);
      await expectSqlState(client, "IPF01", "delete from app_public.audit_log where organization_id = $1", [
        a.organizationId,
      ]);
      expect(
        await countRows(client, "select 1 from app_public.audit_log where organization_id = $1", [a.organizationId]),
      ).toBe(before);
    }),
  );

  it(
    "root cannot delete an entry from inside a function called by a trigger-free statement (IPF01)",
    test(async (client, { a }) => {
      await becomeRoot(client);
      await client.query(
        `create function pg_temp.purge(org uuid) returns void language plpgsql as
         $$ begin delete from app_public.audit_log where organization_id = org; end $$`,
      );
      await expectSqlState(client, "IPF01", "select pg_temp.purge($1)", [a.organizationId]);
    }),
  );

  it(
    "deleting the organization takes its history with it (the only way entries go)",
    test(async (client, { world, a }) => {
      expect(await deleteOrganizationAsWorker(client, db.config.roles.owner, world.a.id)).toBe(true);
      expect(
        await countRows(client, "select 1 from app_public.audit_log where organization_id = $1", [a.organizationId]),
      ).toBe(0);
    }),
  );

  it(
    "an admin of A reads only A's entries",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "admin");
      const { rows } = await client.query<{ organization_id: string }>(
        "select distinct organization_id from app_public.audit_log",
      );
      expect(rows).toEqual([{ organization_id: world.a.id }]);
    }),
  );
});
