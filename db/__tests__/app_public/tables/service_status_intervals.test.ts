/**
 * app_public.service_status_intervals: the history of each service's status, kept by the
 * database. Members read their organization's history; nobody writes it through the table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { countRows } from "../../helpers/incidentFixtures.ts";
import { describeTenantTable, inSeededWorld } from "../../helpers/tenantTable.ts";
import { attempt, becomeRoot, expectSqlState } from "../../helpers/transactions.ts";
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
  table: "app_public.service_status_intervals",
  selectKeys: "select id::text as key from app_public.service_status_intervals",
  selectRole: "viewer",
  insert: {
    minRole: null,
    sql: "insert into app_public.service_status_intervals (service_id, status, started_at) values ($1, 'major_outage', now() - interval '1 day')",
    values: (seed) => [seed.otherServiceId],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.service_status_intervals where service_id = $1 and status = 'major_outage'",
        [seed.otherServiceId],
      )) > 0,
  },
  update: {
    minRole: null,
    sql: "update app_public.service_status_intervals set status = 'major_outage' where service_id = $1",
    values: (seed) => [seed.serviceId],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.service_status_intervals where service_id = $1 and status = 'major_outage'",
        [seed.serviceId],
      )) > 0,
  },
  delete: {
    minRole: null,
    sql: "delete from app_public.service_status_intervals where service_id = $1",
    values: (seed) => [seed.serviceId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.service_status_intervals where service_id = $1", [
        seed.serviceId,
      ])) === 0,
  },
});

const test = (fn: Parameters<typeof inSeededWorld>[1]) => inSeededWorld(getDb, fn);

describe("app_public.service_status_intervals: rules", () => {
  it(
    "every seeded service has exactly one open interval, with its current status",
    test(async (client, { a }) => {
      await becomeRoot(client);
      const { rows } = await client.query(
        `select s.id, count(i.*) filter (where i.ended_at is null)::int as open,
                bool_and(i.status = s.status) filter (where i.ended_at is null) as current
         from app_public.services s join app_public.service_status_intervals i on i.service_id = s.id
         where s.organization_id = $1 group by s.id order by s.id`,
        [a.organizationId],
      );
      expect(rows.length).toBe(2);
      for (const row of rows) expect(row).toMatchObject({ open: 1, current: true });
    }),
  );

  it(
    "a second open interval for a service is refused, even to root (23505)",
    test(async (client, { a }) => {
      await becomeRoot(client);
      await expectSqlState(
        client,
        "23505",
        "insert into app_public.service_status_intervals (organization_id, service_id, status, started_at) values ($1, $2, 'operational', now())",
        [a.organizationId, a.serviceId],
      );
    }),
  );

  it(
    "an interval ending before it starts is refused (23514)",
    test(async (client, { a }) => {
      await becomeRoot(client);
      await expectSqlState(
        client,
        "23514",
        "insert into app_public.service_status_intervals (organization_id, service_id, status, started_at, ended_at) values ($1, $2, 'operational', now(), now() - interval '1 hour')",
        [a.organizationId, a.serviceId],
      );
    }),
  );

  it(
    "an interval pointing at B's service under A is refused (23503)",
    test(async (client, { a, b }) => {
      await becomeRoot(client);
      await expectSqlState(
        client,
        "23503",
        "insert into app_public.service_status_intervals (organization_id, service_id, status, started_at, ended_at) values ($1, $2, 'operational', now() - interval '2 hours', now() - interval '1 hour')",
        [a.organizationId, b.serviceId],
      );
    }),
  );

  it(
    "the owner of B reads B's history only",
    test(async (client, { world, a, b }) => {
      await actAs(client, db.config, world, "otherOwner");
      const { rows } = await client.query<{ service_id: string }>(
        "select distinct service_id from app_public.service_status_intervals",
      );
      const seen = rows.map((row) => row.service_id);
      expect(seen.sort()).toEqual([b.serviceId, b.otherServiceId].sort());
      expect(seen).not.toContain(a.serviceId);
    }),
  );

  it(
    "a DBA's SQL as root, without an org_id claim, can change a service's status and the interval is kept",
    test(async (client, { a }) => {
      await becomeRoot(client);
      await client.query("select set_config('jwt.claims.org_id', '', true)");
      const result = await attempt(client, "update app_public.services set status = 'major_outage' where id = $1", [
        a.otherServiceId,
      ]);
      expect(result.error).toBeNull();
      const { rows } = await client.query(
        "select status::text as status from app_public.service_status_intervals where service_id = $1 and ended_at is null",
        [a.otherServiceId],
      );
      expect(rows).toEqual([{ status: "major_outage" }]);
    }),
  );
});
