/**
 * app_public.incident_services: the services an incident affects and the status it claims for
 * each. Members read them; editors and above add, change and remove claims. Both ends belong
 * to the claim's organization.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { countRows, incidentState, statusesOf } from "../../helpers/incidentFixtures.ts";
import { describeTenantTable, inSeededWorld } from "../../helpers/tenantTable.ts";
import { becomeRoot, expectSqlState, type Client } from "../../helpers/transactions.ts";
import { actAs, expectRowCount } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
const getDb = () => db;

/** Whether the claim (incident, service) exists with this status, as root. */
const hasClaim = async (client: Client, incidentId: string, serviceId: string, status: string) =>
  (await countRows(
    client,
    "select 1 from app_public.incident_services where incident_id = $1 and service_id = $2 and status = $3",
    [incidentId, serviceId, status],
  )) === 1;

describeTenantTable(getDb, {
  table: "app_public.incident_services",
  selectKeys: "select incident_id::text || '/' || service_id::text as key from app_public.incident_services",
  selectRole: "viewer",
  insert: {
    minRole: "editor",
    sql: "insert into app_public.incident_services (incident_id, service_id, status) values ($1, $2, 'partial_outage')",
    values: (seed) => [seed.incidentId, seed.otherServiceId],
    tookEffect: (client, seed) => hasClaim(client, seed.incidentId, seed.otherServiceId, "partial_outage"),
  },
  update: {
    minRole: "editor",
    sql: "update app_public.incident_services set status = 'major_outage' where incident_id = $1 and service_id = $2",
    values: (seed) => [seed.incidentId, seed.serviceId],
    tookEffect: (client, seed) => hasClaim(client, seed.incidentId, seed.serviceId, "major_outage"),
  },
  delete: {
    minRole: "editor",
    sql: "delete from app_public.incident_services where incident_id = $1 and service_id = $2",
    values: (seed) => [seed.incidentId, seed.serviceId],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.incident_services where incident_id = $1 and service_id = $2",
        [seed.incidentId, seed.serviceId],
      )) === 0,
  },
});

const test = (fn: Parameters<typeof inSeededWorld>[1]) => inSeededWorld(getDb, fn);
const INSERT = "insert into app_public.incident_services (incident_id, service_id, status) values ($1, $2, $3)";

describe("app_public.incident_services: rules", () => {
  it(
    "A's editor cannot claim B's service for A's incident, nor A's service for B's incident (23503)",
    test(async (client, { world, a, b }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23503", INSERT, [a.incidentId, b.serviceId, "major_outage"]);
      await expectSqlState(client, "23503", INSERT, [b.incidentId, a.serviceId, "major_outage"]);
      await becomeRoot(client);
      expect(await statusesOf(client, b.serviceId, a.serviceId)).toEqual([
        "degraded_performance",
        "degraded_performance",
      ]);
    }),
  );

  it(
    "the editor of A who owns B cannot claim B's service while acting in A (23503)",
    test(async (client, { world, a, b }) => {
      await actAs(client, db.config, world, "both");
      await expectSqlState(client, "23503", INSERT, [a.incidentId, b.otherServiceId, "major_outage"]);
      await becomeRoot(client);
      expect(await statusesOf(client, b.otherServiceId)).toEqual(["operational"]);
    }),
  );

  it(
    "inserting with B's organization_id is refused (42501)",
    test(async (client, { world, b }) => {
      await actAs(client, db.config, world, "owner");
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.incident_services (organization_id, incident_id, service_id) values ($1, $2, $3)",
        [world.b.id, b.incidentId, b.otherServiceId],
      );
    }),
  );

  it(
    "a claim of under_maintenance is refused (23514)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23514", INSERT, [a.incidentId, a.otherServiceId, "under_maintenance"]);
    }),
  );

  it(
    "one claim per incident and service (23505)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23505", INSERT, [a.incidentId, a.serviceId, "major_outage"]);
    }),
  );

  it(
    "a claim moves the service's status and the incident's impact; removing it restores both",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectRowCount(client, 1, INSERT, [a.incidentId, a.otherServiceId, "major_outage"]);
      await becomeRoot(client);
      expect(await statusesOf(client, a.otherServiceId)).toEqual(["major_outage"]);
      expect((await incidentState(client, a.incidentId))?.impact).toBe("critical");
      await actAs(client, db.config, world, "editor");
      await expectRowCount(
        client,
        1,
        "delete from app_public.incident_services where incident_id = $1 and service_id = $2",
        [a.incidentId, a.otherServiceId],
      );
      await becomeRoot(client);
      expect(await statusesOf(client, a.otherServiceId)).toEqual(["operational"]);
      expect((await incidentState(client, a.incidentId))?.impact).toBe("minor");
    }),
  );

  it(
    "editors cannot move a claim to another incident or service (42501)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "owner");
      await expectSqlState(
        client,
        "42501",
        "update app_public.incident_services set service_id = $1 where incident_id = $2",
        [a.otherServiceId, a.incidentId],
      );
      await expectSqlState(client, "42501", "update app_public.incident_services set incident_id = incident_id");
    }),
  );
});
