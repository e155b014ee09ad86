/**
 * The audit log as written by the triggers: one entry per mutation, in the row's organization,
 * with the acting user, the action, the target and a {column: {before, after}} diff (only
 * changed columns for updates; database-kept timestamps and file contents never).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { createInvitation } from "../../helpers/factories.ts";
import { createIncident, createService } from "../../helpers/incidentFixtures.ts";
import { becomeRoot, becomeUser, expectSqlState, withRootDb, type Client } from "../../helpers/transactions.ts";
import { actAs, createWorld, type World } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

interface Entry {
  organization_id: string;
  actor_user_id: string | null;
  action: string;
  target_table: string;
  target_id: string | null;
  changes: Record<string, { before?: unknown; after?: unknown }>;
}

function inWorld(fn: (client: Client, world: World) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      await fn(client, await createWorld(client));
    });
}

/** A marker: entries written after it are the ones a test's action wrote. */
async function mark(client: Client): Promise<string[]> {
  await becomeRoot(client);
  const { rows } = await client.query<{ id: string }>("select id from app_public.audit_log");
  return rows.map((row) => row.id);
}

async function entriesSince(client: Client, before: string[], table?: string): Promise<Entry[]> {
  await becomeRoot(client);
  const { rows } = await client.query<Entry>(
    `select organization_id, actor_user_id, action, target_table, target_id, changes
     from app_public.audit_log
     where not (id = any ($1::uuid[])) and ($2::text is null or target_table = $2)
     order by occurred_at, target_table`,
    [before, table ?? null],
  );
  return rows;
}

describe("audit entries", () => {
  it(
    "inserting a service: one entry with the new values, no timestamps or organization",
    inWorld(async (client, world) => {
      const before = await mark(client);
      await actAs(client, db.config, world, "admin");
      const { rows } = await client.query<{ id: string }>(
        "insert into app_public.services (name, description) values ('Search', 'Finds things') returning id",
      );
      const entries = await entriesSince(client, before, "services");
      expect(entries).toEqual([
        {
          organization_id: world.a.id,
          actor_user_id: world.a.members.admin.id,
          action: "insert",
          target_table: "services",
          target_id: rows[0]!.id,
          changes: expect.objectContaining({
            id: { after: rows[0]!.id },
            name: { after: "Search" },
            description: { after: "Finds things" },
            status: { after: "operational" },
            hidden: { after: false },
          }),
        },
      ]);
      for (const key of ["created_at", "updated_at", "status_changed_at", "organization_id"]) {
        expect(Object.keys(entries[0]!.changes)).not.toContain(key);
      }
    }),
  );

  it(
    "updating a service: only the changed columns, before and after",
    inWorld(async (client, world) => {
      const serviceId = await createService(client, world.a.id, { name: "API", description: "Old" });
      const before = await mark(client);
      await actAs(client, db.config, world, "admin");
      await client.query("update app_public.services set description = 'New', position = 5 where id = $1", [serviceId]);
      expect(await entriesSince(client, before)).toEqual([
        {
          organization_id: world.a.id,
          actor_user_id: world.a.members.admin.id,
          action: "update",
          target_table: "services",
          target_id: serviceId,
          changes: { description: { before: "Old", after: "New" }, position: { before: 0, after: 5 } },
        },
      ]);
    }),
  );

  it(
    "an update that changes nothing writes no entry",
    inWorld(async (client, world) => {
      const serviceId = await createService(client, world.a.id, { name: "API", description: "Same" });
      const before = await mark(client);
      await actAs(client, db.config, world, "admin");
      await client.query("update app_public.services set description = 'Same' where id = $1", [serviceId]);
      expect(await entriesSince(client, before)).toEqual([]);
    }),
  );

  it(
    "deleting a service: one entry with the old values",
    inWorld(async (client, world) => {
      const serviceId = await createService(client, world.a.id, { name: "API" });
      const before = await mark(client);
      await actAs(client, db.config, world, "admin");
      await client.query("delete from app_public.services where id = $1", [serviceId]);
      const entries = await entriesSince(client, before, "services");
      expect(entries).toEqual([
        expect.objectContaining({
          organization_id: world.a.id,
          actor_user_id: world.a.members.admin.id,
          action: "delete",
          target_id: serviceId,
          changes: expect.objectContaining({ name: { before: "API" }, status: { before: "operational" } }),
        }),
      ]);
    }),
  );

  it(
    "posting an incident update: entries for the update, the incident's status, the claim and the service, all by the editor",
    inWorld(async (client, world) => {
      const serviceId = await createService(client, world.a.id, { name: "API" });
      const incidentId = await createIncident(client, world.a.id);
      const before = await mark(client);
      await actAs(client, db.config, world, "editor");
      const { rows } = await client.query<{ id: string }>(
        "select id from app_public.post_incident_update($1, 'identified', 'Found it', true, null, array[row($2, 'partial_outage')]::app_public.service_status_change[])",
        [incidentId, serviceId],
      );
      const entries = await entriesSince(client, before);
      for (const entry of entries) {
        expect(entry).toMatchObject({ organization_id: world.a.id, actor_user_id: world.a.members.editor.id });
      }
      const find = (table: string, action: string) =>
        entries.filter((entry) => entry.target_table === table && entry.action === action);
      expect(find("incident_updates", "insert")).toEqual([
        expect.objectContaining({
          target_id: rows[0]!.id,
          changes: expect.objectContaining({
            status: { after: "identified" },
            previous_status: { after: "investigating" },
            body: { after: "Found it" },
          }),
        }),
      ]);
      const incidentUpdates = find("incidents", "update");
      expect(incidentUpdates.length).toBeGreaterThanOrEqual(1);
      expect(incidentUpdates.every((entry) => entry.target_id === incidentId)).toBe(true);
      const merged = Object.assign({}, ...incidentUpdates.map((entry) => entry.changes));
      expect(merged.status).toEqual({ before: "investigating", after: "identified" });
      expect(merged.acknowledged_at).toMatchObject({ before: null });
      expect(merged.impact).toEqual({ before: "none", after: "major" });
      expect(find("incident_services", "insert")).toEqual([
        expect.objectContaining({
          target_id: incidentId,
          changes: expect.objectContaining({ status: { after: "partial_outage" } }),
        }),
      ]);
      expect(find("services", "update")).toEqual([
        expect.objectContaining({
          target_id: serviceId,
          changes: { status: { before: "operational", after: "partial_outage" } },
        }),
      ]);
    }),
  );

  it(
    "changing a member's role (change_member_role): one entry in the organization, by the admin",
    inWorld(async (client, world) => {
      const before = await mark(client);
      await actAs(client, db.config, world, "admin");
      await client.query("select id from app_public.change_member_role($1, 'editor')", [world.a.members.viewer.id]);
      expect(await entriesSince(client, before)).toEqual([
        {
          organization_id: world.a.id,
          actor_user_id: world.a.members.admin.id,
          action: "update",
          target_table: "organization_memberships",
          target_id: world.a.members.viewer.id,
          changes: { role: { before: "viewer", after: "editor" } },
        },
      ]);
    }),
  );

  it(
    "accepting an invitation while acting in another organization: the entries belong to the inviting organization",
    inWorld(async (client, world) => {
      const invitee = world.b.members.viewer;
      const invitation = await createInvitation(client, world.a.id, invitee.email, "editor");
      const before = await mark(client);
      await becomeUser(client, db.config, invitee.id, world.b.id);
      await client.query("select id from app_public.accept_invitation($1)", [invitation.token]);
      const { rows: claim } = await client.query<{ org: string }>(
        "select current_setting('jwt.claims.org_id', true) as org",
      );
      expect(claim[0]!.org).toBe(world.b.id);
      const entries = await entriesSince(client, before);
      expect(entries.filter((entry) => entry.organization_id !== world.a.id)).toEqual([]);
      expect(entries).toEqual(
        expect.arrayContaining([
          {
            organization_id: world.a.id,
            actor_user_id: invitee.id,
            action: "insert",
            target_table: "organization_memberships",
            target_id: invitee.id,
            changes: expect.objectContaining({ user_id: { after: invitee.id }, role: { after: "editor" } }),
          },
          expect.objectContaining({
            organization_id: world.a.id,
            actor_user_id: invitee.id,
            action: "update",
            target_table: "organization_invitations",
            target_id: invitation.id,
            changes: expect.objectContaining({ accepted_by: { before: null, after: invitee.id } }),
          }),
        ]),
      );
      // A's admin reads the entry; B's owner does not.
      await actAs(client, db.config, world, "admin");
      const { rows: seenByA } = await client.query(
        "select 1 from app_public.audit_log where target_table = 'organization_memberships' and target_id = $1 and action = 'insert'",
        [invitee.id],
      );
      expect(seenByA.length).toBeGreaterThanOrEqual(1);
      await actAs(client, db.config, world, "otherOwner");
      const { rows: seenByB } = await client.query(
        "select 1 from app_public.audit_log where target_table = 'organization_memberships' and target_id = $1 and not (id = any ($2::uuid[]))",
        [invitee.id, before],
      );
      expect(seenByB).toEqual([]);
    }),
  );

  it(
    "attachments: the content never appears, on insert or delete; the file name and size do",
    inWorld(async (client, world) => {
      const incidentId = await createIncident(client, world.a.id);
      const before = await mark(client);
      await actAs(client, db.config, world, "editor");
      const { rows } = await client.query<{ id: string }>(
        "insert into app_public.incident_attachments (incident_id, filename, content_type, content) values ($1, 'secret.txt', 'text/plain', $2) returning id",
        [incidentId, Buffer.from("TOP-SECRET-PAYLOAD")],
      );
      await actAs(client, db.config, world, "editor");
      await client.query("delete from app_public.incident_attachments where id = $1", [rows[0]!.id]);
      const entries = await entriesSince(client, before, "incident_attachments");
      expect(entries.map((entry) => entry.action)).toEqual(["insert", "delete"]);
      for (const entry of entries) {
        expect(entry.actor_user_id).toBe(world.a.members.editor.id);
        expect(Object.keys(entry.changes)).not.toContain("content");
        expect(entry.changes).toMatchObject({ filename: {}, size_bytes: {} });
        const text = JSON.stringify(entry.changes);
        expect(text).not.toContain("TOP-SECRET-PAYLOAD");
        expect(text).not.toContain(Buffer.from("TOP-SECRET-PAYLOAD").toString("hex"));
      }
    }),
  );

  it(
    "changes by root (no signed-in user) are recorded without an actor",
    inWorld(async (client, world) => {
      const before = await mark(client);
      await createService(client, world.a.id, { name: "By a script" });
      const entries = await entriesSince(client, before, "services");
      expect(entries).toEqual([expect.objectContaining({ actor_user_id: null, action: "insert" })]);
    }),
  );
});

describe("append-only", () => {
  it(
    "members cannot update or delete entries (42501), owners included",
    inWorld(async (client, world) => {
      await createService(client, world.a.id, { name: "API" });
      await actAs(client, db.config, world, "owner");
      await expectSqlState(client, "42501", "update app_public.audit_log set action = 'delete'");
      await expectSqlState(client, "42501", "delete from app_public.audit_log");
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.audit_log (organization_id, action, target_table, changes) values ($1, 'insert', 'x', '{}')",
        [world.a.id],
      );
    }),
  );

  it(
    "root cannot update or delete entries either (IPF01)",
    inWorld(async (client, world) => {
      await createService(client, world.a.id, { name: "API" });
      await becomeRoot(client);
      await expectSqlState(
        client,
        "IPF01",
        "update app_public.audit_log set changes = '{}' where organization_id = $1",
        [world.a.id],
      );
      await expectSqlState(client, "IPF01", "delete from app_public.audit_log where organization_id = $1", [
        world.a.id,
      ]);
    }),
  );
});
