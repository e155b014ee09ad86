/**
 * app_public.incident_updates (the timeline) and the per-service changes an update announced:
 * members read them; editors and above post (normally through post_incident_update) and edit
 * them; admins and owners delete them. An update always belongs to an incident of its
 * organization and moves that incident.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { countRows, incidentState } from "../../helpers/incidentFixtures.ts";
import { describeTenantTable, inSeededWorld } from "../../helpers/tenantTable.ts";
import { becomeRoot, expectSqlState } from "../../helpers/transactions.ts";
import { actAs, expectNothingVisible, expectRowCount } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
const getDb = () => db;

describeTenantTable(getDb, {
  table: "app_public.incident_updates",
  selectKeys: "select id::text as key from app_public.incident_updates",
  selectRole: "viewer",
  insert: {
    minRole: "editor",
    sql: "insert into app_public.incident_updates (incident_id, status, body) values ($1, 'monitoring', 'Watching')",
    values: (seed) => [seed.incidentId],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.incident_updates where organization_id = $1 and incident_id = $2 and body = 'Watching'",
        [seed.organizationId, seed.incidentId],
      )) === 1,
  },
  update: {
    minRole: "editor",
    sql: "update app_public.incident_updates set body = 'Corrected', is_public = false where id = $1",
    values: (seed) => [seed.updateId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.incident_updates where id = $1 and body = 'Corrected'", [
        seed.updateId,
      ])) === 1,
  },
  delete: {
    minRole: "admin",
    sql: "delete from app_public.incident_updates where id = $1",
    values: (seed) => [seed.updateId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.incident_updates where id = $1", [seed.updateId])) === 0,
  },
});

const test = (fn: Parameters<typeof inSeededWorld>[1]) => inSeededWorld(getDb, fn);
const INSERT = "insert into app_public.incident_updates (incident_id, status, body) values ($1, $2, $3)";

describe("app_public.incident_updates: rules", () => {
  it(
    "an update on B's incident is refused to A's editor (23503), and B's incident does not move",
    test(async (client, { world, b }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23503", INSERT, [b.incidentId, "monitoring", "Sneaky"]);
      await becomeRoot(client);
      expect((await incidentState(client, b.incidentId))?.status).toBe("identified");
    }),
  );

  it(
    "inserting with B's organization_id is refused (42501)",
    test(async (client, { world, b }) => {
      await actAs(client, db.config, world, "owner");
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.incident_updates (organization_id, incident_id, status, body) values ($1, $2, 'monitoring', 'x')",
        [world.b.id, b.incidentId],
      );
    }),
  );

  it(
    "a direct insert moves the incident and records previous_status and the author",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      const { rows } = await client.query(
        `${INSERT} returning previous_status::text as previous_status, status::text as status, author_user_id`,
        [a.incidentId, "monitoring", "Watching"],
      );
      expect(rows).toEqual([
        { previous_status: "identified", status: "monitoring", author_user_id: world.a.members.editor.id },
      ]);
      await becomeRoot(client);
      expect((await incidentState(client, a.incidentId))?.status).toBe("monitoring");
    }),
  );

  it(
    "an empty body or one over 20,000 characters is refused (23514)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23514", INSERT, [a.incidentId, "monitoring", " "]);
      await expectSqlState(client, "23514", INSERT, [a.incidentId, "monitoring", "b".repeat(20_001)]);
    }),
  );

  it(
    "editors cannot rewrite an update's status, previous_status, author or incident (42501)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "owner");
      for (const assignment of [
        "status = 'resolved'",
        "previous_status = 'resolved'",
        "author_user_id = null",
        "incident_id = incident_id",
      ]) {
        await expectSqlState(client, "42501", `update app_public.incident_updates set ${assignment} where id = $1`, [
          a.updateId,
        ]);
      }
    }),
  );

  it(
    "a resolving update without root cause and summary is refused (IPV02) and the incident stays open",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "IPV02", INSERT, [a.incidentId, "resolved", "Fixed"]);
      await becomeRoot(client);
      expect((await incidentState(client, a.incidentId))?.status).toBe("identified");
    }),
  );

  it(
    "viewers read internal notes too; B's owner reads none of A's updates",
    test(async (client, { world, a }) => {
      await becomeRoot(client);
      await client.query("update app_public.incident_updates set is_public = false where id = $1", [a.updateId]);
      await actAs(client, db.config, world, "viewer");
      await expectRowCount(client, 1, "select 1 from app_public.incident_updates where id = $1", [a.updateId]);
      await actAs(client, db.config, world, "otherOwner");
      await expectNothingVisible(client, "select 1 from app_public.incident_updates where id = $1", [a.updateId]);
    }),
  );
});

describe("app_public.incident_update_service_changes", () => {
  it(
    "members of A read A's changes, B's owner and anonymous none",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await client.query(
        "select * from app_public.post_incident_update($1, 'monitoring', 'x', true, null, array[row($2, 'partial_outage')]::app_public.service_status_change[])",
        [a.incidentId, a.otherServiceId],
      );
      for (const actor of ["owner", "admin", "editor", "viewer"] as const) {
        await actAs(client, db.config, world, actor);
        const { rows } = await client.query("select service_id from app_public.incident_update_service_changes");
        expect(rows).toEqual([{ service_id: a.otherServiceId }]);
      }
      await actAs(client, db.config, world, "otherOwner");
      expect((await client.query("select 1 from app_public.incident_update_service_changes")).rows).toEqual([]);
      await actAs(client, db.config, world, "anonymous");
      await expectNothingVisible(client, "select 1 from app_public.incident_update_service_changes");
    }),
  );

  it(
    "nobody updates or deletes recorded changes (42501)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await client.query(
        "select * from app_public.post_incident_update($1, 'monitoring', 'x', true, null, array[row($2, 'partial_outage')]::app_public.service_status_change[])",
        [a.incidentId, a.otherServiceId],
      );
      await actAs(client, db.config, world, "owner");
      await expectSqlState(
        client,
        "42501",
        "update app_public.incident_update_service_changes set new_status = 'operational'",
      );
      await expectSqlState(client, "42501", "delete from app_public.incident_update_service_changes");
    }),
  );

  it(
    "nobody records changes directly, so the history cannot be forged (42501)",
    test(async (client, { world, a }) => {
      const sql =
        "insert into app_public.incident_update_service_changes (incident_update_id, service_id, old_status, new_status) values ($1, $2, 'operational', 'major_outage')";
      for (const actor of ["owner", "admin", "editor"] as const) {
        await actAs(client, db.config, world, actor);
        await expectSqlState(client, "42501", sql, [a.updateId, a.serviceId]);
      }
    }),
  );
});
