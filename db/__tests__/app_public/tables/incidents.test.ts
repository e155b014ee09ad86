/**
 * app_public.incidents: members read their organization's incidents; editors and above create
 * and change them (never their status, impact or lifecycle times directly); admins and owners
 * delete them. The assignee must be a member of the organization.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { addMember, createUser } from "../../helpers/factories.ts";
import { countRows, incidentState, statusesOf } from "../../helpers/incidentFixtures.ts";
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
  table: "app_public.incidents",
  selectKeys: "select id::text as key from app_public.incidents",
  selectRole: "viewer",
  insert: {
    minRole: "editor",
    sql: "insert into app_public.incidents (title, severity) values ('Queue backlog', 'high')",
    values: () => [],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.incidents where organization_id = $1 and title = 'Queue backlog'",
        [seed.organizationId],
      )) === 1,
  },
  update: {
    minRole: "editor",
    sql: "update app_public.incidents set title = 'Renamed', severity = 'critical' where id = $1",
    values: (seed) => [seed.incidentId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.incidents where id = $1 and title = 'Renamed'", [
        seed.incidentId,
      ])) === 1,
  },
  delete: {
    minRole: "admin",
    sql: "delete from app_public.incidents where id = $1",
    values: (seed) => [seed.incidentId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.incidents where id = $1", [seed.incidentId])) === 0,
  },
});

const test = (fn: Parameters<typeof inSeededWorld>[1]) => inSeededWorld(getDb, fn);
const INSERT_ASSIGNED = "insert into app_public.incidents (title, assignee_id) values ('Assigned', $1)";

describe("app_public.incidents: rules", () => {
  it(
    "a new incident lands in the active organization, investigating, with the creator recorded",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "editor");
      const { rows } = await client.query(
        `insert into app_public.incidents (title) values ('New')
         returning organization_id, status::text as status, impact::text as impact, created_by_id,
                   reopened_count, acknowledged_at, resolved_at`,
      );
      expect(rows[0]).toEqual({
        organization_id: world.a.id,
        status: "investigating",
        impact: "none",
        created_by_id: world.a.members.editor.id,
        reopened_count: 0,
        acknowledged_at: null,
        resolved_at: null,
      });
    }),
  );

  it(
    "inserting with B's organization_id is refused (42501)",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "owner");
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.incidents (organization_id, title) values ($1, 'X')",
        [world.b.id],
      );
    }),
  );

  it(
    "the assignee may be any member of A",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "editor");
      for (const member of [...Object.values(world.a.members), world.both]) {
        await expectRowCount(client, 1, INSERT_ASSIGNED, [member.id]);
      }
    }),
  );

  it(
    "a member of B, or a user of no organization, cannot be assigned (23503), on insert or update",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23503", INSERT_ASSIGNED, [world.b.members.viewer.id]);
      await expectSqlState(client, "23503", INSERT_ASSIGNED, [world.outsider.id]);
      await expectSqlState(client, "23503", "update app_public.incidents set assignee_id = $1 where id = $2", [
        world.b.members.owner.id,
        a.incidentId,
      ]);
    }),
  );

  it(
    "removing the assignee from A unassigns the incident",
    test(async (client, { world, a }) => {
      await becomeRoot(client);
      await client.query(
        "delete from app_public.organization_memberships where organization_id = $1 and user_id = $2",
        [world.a.id, world.a.members.editor.id],
      );
      const { rows } = await client.query("select assignee_id from app_public.incidents where id = $1", [a.incidentId]);
      expect(rows).toEqual([{ assignee_id: null }]);
    }),
  );

  it(
    "a user joining A can then be assigned",
    test(async (client, { world }) => {
      const newcomer = await createUser(client, "Newcomer");
      await addMember(client, world.a.id, newcomer.id, "viewer");
      await actAs(client, db.config, world, "editor");
      await expectRowCount(client, 1, INSERT_ASSIGNED, [newcomer.id]);
    }),
  );

  for (const [label, title] of [
    ["empty", ""],
    ["blank", "   "],
    ["201 characters", "t".repeat(201)],
    ["10,000 characters", "t".repeat(10_000)],
  ] as const) {
    it(
      `title ${label}: refused (23514)`,
      test(async (client, { world }) => {
        await actAs(client, db.config, world, "editor");
        await expectSqlState(client, "23514", "insert into app_public.incidents (title) values ($1)", [title]);
      }),
    );
  }

  it(
    "a 200-character title is accepted",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "editor");
      await expectRowCount(client, 1, "insert into app_public.incidents (title) values ($1)", ["t".repeat(200)]);
    }),
  );

  it(
    "editors cannot set status, impact, resolved_at, acknowledged_at or reopened_count directly (42501)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "owner");
      for (const assignment of [
        "status = 'monitoring'",
        "impact = 'critical'",
        "resolved_at = now()",
        "acknowledged_at = now()",
        "reopened_count = 5",
        "organization_id = organization_id",
      ]) {
        await expectSqlState(client, "42501", `update app_public.incidents set ${assignment} where id = $1`, [
          a.incidentId,
        ]);
      }
    }),
  );

  it(
    "creating an incident already resolved needs a root cause and a resolution summary (IPV02)",
    test(async (client, { world }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(
        client,
        "IPV02",
        "insert into app_public.incidents (title, status) values ('R', 'resolved')",
      );
      await expectSqlState(
        client,
        "IPV02",
        "insert into app_public.incidents (title, status, root_cause, resolution_summary) values ('R', 'resolved', 'x', '  ')",
      );
      const { rows } = await client.query<{ resolved: boolean }>(
        `insert into app_public.incidents (title, status, root_cause, resolution_summary)
         values ('R', 'resolved', 'Disk', 'Replaced') returning resolved_at is not null as resolved`,
      );
      expect(rows).toEqual([{ resolved: true }]);
    }),
  );

  it(
    "impact_override replaces the derived impact; clearing it derives again",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectRowCount(client, 1, "update app_public.incidents set impact_override = 'critical' where id = $1", [
        a.incidentId,
      ]);
      await becomeRoot(client);
      expect((await incidentState(client, a.incidentId))?.impact).toBe("critical");
      await actAs(client, db.config, world, "editor");
      await expectRowCount(client, 1, "update app_public.incidents set impact_override = null where id = $1", [
        a.incidentId,
      ]);
      await becomeRoot(client);
      expect((await incidentState(client, a.incidentId))?.impact).toBe("minor");
    }),
  );

  it(
    "a published postmortem needs a postmortem (23514)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(
        client,
        "23514",
        "update app_public.incidents set postmortem_published_at = now() where id = $1",
        [a.incidentId],
      );
    }),
  );

  it(
    "deleting an active incident (admin) restores the services it claimed",
    test(async (client, { world, a }) => {
      await becomeRoot(client);
      expect(await statusesOf(client, a.serviceId)).toEqual(["degraded_performance"]);
      await actAs(client, db.config, world, "admin");
      await expectRowCount(client, 1, "delete from app_public.incidents where id = $1", [a.incidentId]);
      await becomeRoot(client);
      expect(await statusesOf(client, a.serviceId)).toEqual(["operational"]);
    }),
  );

  it(
    "viewers see internal incidents too (visibility is about the status page)",
    test(async (client, { world, a }) => {
      await becomeRoot(client);
      await client.query("update app_public.incidents set visibility = 'internal' where id = $1", [a.incidentId]);
      await actAs(client, db.config, world, "viewer");
      const { rows } = await client.query("select id from app_public.incidents where id = $1", [a.incidentId]);
      expect(rows).toHaveLength(1);
    }),
  );
});
