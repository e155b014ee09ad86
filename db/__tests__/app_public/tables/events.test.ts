/**
 * app_public.events: what integrations hear about. Events are recorded when a transaction
 * commits, once per type and subject, describing the committed state; so these tests commit
 * for real (each in an organization of its own) instead of rolling back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { createOrganizationWithMembers, type OrganizationFixture } from "../../helpers/factories.ts";
import {
  advanceMaintenance,
  claim,
  createIncident,
  createMaintenance,
  createService,
  postUpdate,
} from "../../helpers/incidentFixtures.ts";
import { becomeUser, expectSqlState, withRootDb, type Client } from "../../helpers/transactions.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function committed<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await db.rootPool.connect();
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

interface EventRow {
  type: string;
  subject_id: string;
  is_public: boolean;
  payload: Record<string, any>;
}

/** Events of an organization, as root, oldest transaction first, then by type. */
async function eventsOf(organizationId: string): Promise<EventRow[]> {
  const { rows } = await db.rootPool.query<EventRow>(
    `select type, subject_id, is_public, payload from app_public.events
     where organization_id = $1 order by transaction_id, type`,
    [organizationId],
  );
  return rows;
}

const typesOf = (events: EventRow[]) => events.map((event) => event.type);

const newOrganization = (name: string) => committed((client) => createOrganizationWithMembers(client, name));

describe("incident events", () => {
  it("describes an incident created with its claims and first update once, in its committed state", async () => {
    const org = await newOrganization("Events create");
    const { incidentId, serviceId } = await committed(async (client) => {
      const serviceId = await createService(client, org.id, { name: "API" });
      const incidentId = await createIncident(client, org.id, { title: "Checkout errors" });
      await claim(client, org.id, incidentId, serviceId, "partial_outage");
      await postUpdate(client, org.id, incidentId, "identified", "Found the cause");
      return { incidentId, serviceId };
    });

    const events = await eventsOf(org.id);
    expect(typesOf(events)).toEqual(["incident.created", "incident_update.posted", "service.status_changed"]);
    const [created, posted, serviceChanged] = events as [EventRow, EventRow, EventRow];
    expect(created.subject_id).toBe(incidentId);
    expect(created.is_public).toBe(true);
    expect(created.payload.organization).toMatchObject({
      id: org.id,
      slug: org.slug,
      status_page_path: `/status/${org.slug}`,
    });
    // Committed state: the status the first update set, and the service claimed after the insert.
    expect(created.payload.incident).toMatchObject({ id: incidentId, title: "Checkout errors", status: "identified" });
    expect(created.payload.incident.services).toEqual([
      { id: serviceId, name: "API", status: "partial_outage", hidden: false },
    ]);
    expect(posted.payload.incident_update).toMatchObject({
      status: "identified",
      body: "Found the cause",
      is_public: true,
    });
    expect(serviceChanged.payload).toMatchObject({
      service: { id: serviceId, status: "partial_outage" },
      previous_status: "operational",
    });
  });

  it("sends incident.updated for later changes and incident.resolved when it resolves", async () => {
    const org = await newOrganization("Events resolve");
    const incidentId = await committed((client) => createIncident(client, org.id, { title: "Slow pages" }));
    await committed((client) =>
      client.query("update app_public.incidents set severity = 'critical' where id = $1", [incidentId]),
    );
    await committed(async (client) => {
      await client.query(
        "update app_public.incidents set root_cause = 'A cause', resolution_summary = 'A fix' where id = $1",
        [incidentId],
      );
      await postUpdate(client, org.id, incidentId, "resolved", "Fixed");
    });

    const events = await eventsOf(org.id);
    expect(typesOf(events)).toEqual([
      "incident.created",
      "incident.updated",
      "incident.resolved",
      "incident_update.posted",
    ]);
    expect(events[1]!.payload.incident.severity).toBe("critical");
    expect(events[2]!.payload.incident).toMatchObject({ status: "resolved", root_cause: "A cause" });
  });

  it("records no event for a change that changes nothing integrations show", async () => {
    const org = await newOrganization("Events no-op");
    const incidentId = await committed((client) => createIncident(client, org.id));
    await committed((client) =>
      client.query("update app_public.incidents set postmortem = 'draft' where id = $1", [incidentId]),
    );
    expect(typesOf(await eventsOf(org.id))).toEqual(["incident.created"]);
  });

  it("marks internal incidents and internal notes as not public", async () => {
    const org = await newOrganization("Events internal");
    const internalId = await committed((client) => createIncident(client, org.id, { visibility: "internal" }));
    const publicId = await committed((client) => createIncident(client, org.id));
    await committed(async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `insert into app_public.incident_updates (organization_id, incident_id, status, body, is_public)
         values ($1, $2, 'identified', 'Internal note', false) returning id`,
        [org.id, publicId],
      );
      return rows[0]!.id;
    });

    const events = await eventsOf(org.id);
    const visibility = events.map((event) => [event.type, event.subject_id === internalId, event.is_public]);
    expect(visibility).toEqual([
      ["incident.created", true, false],
      ["incident.created", false, true],
      // The note moved the public incident to "identified": the incident is news, the note is not.
      ["incident.updated", false, true],
      ["incident_update.posted", false, false],
    ]);
  });

  it("records nothing for a transaction that rolls back", async () => {
    const org = await newOrganization("Events rollback");
    await withRootDb(db.rootPool, async (client) => {
      await createIncident(client, org.id);
    });
    expect(await eventsOf(org.id)).toEqual([]);
  });
});

describe("maintenance and status events", () => {
  it("follows a maintenance window from scheduled to completed, and a canceled one", async () => {
    const org = await newOrganization("Events maintenance");
    const serviceId = await committed((client) => createService(client, org.id, { name: "Database" }));
    const windowId = await committed((client) =>
      createMaintenance(client, org.id, { startsIn: "-1 minute", endsIn: "1 hour", serviceIds: [serviceId] }),
    );
    await committed((client) => advanceMaintenance(client, org.id, windowId));
    await committed((client) =>
      client.query("update app_public.maintenance_windows set ends_at = now() - interval '1 second' where id = $1", [
        windowId,
      ]),
    );
    await committed((client) => advanceMaintenance(client, org.id, windowId));
    const canceledId = await committed((client) => createMaintenance(client, org.id));
    await committed(async (client) => {
      await client.query("select set_config('jwt.claims.org_id', $1, true)", [org.id]);
      await client.query("update app_public.maintenance_windows set status = 'canceled' where id = $1", [canceledId]);
    });

    const events = await eventsOf(org.id);
    const ofWindow = events.filter((event) => event.subject_id === windowId);
    expect(typesOf(ofWindow)).toEqual(["maintenance.scheduled", "maintenance.started", "maintenance.completed"]);
    expect(ofWindow[0]!.payload.maintenance.services).toEqual([{ id: serviceId, name: "Database", hidden: false }]);
    expect(typesOf(events.filter((event) => event.subject_id === canceledId))).toEqual([
      "maintenance.scheduled",
      "maintenance.canceled",
    ]);
    // The window put its service under maintenance and gave it back.
    expect(
      events.filter((event) => event.type === "service.status_changed").map((event) => event.payload.service.status),
    ).toEqual(["under_maintenance", "operational"]);
  });

  it("does not publish status changes of hidden services", async () => {
    const org = await newOrganization("Events hidden");
    const hiddenId = await committed((client) => createService(client, org.id, { name: "Internal", hidden: true }));
    await committed(async (client) => {
      await client.query("select set_config('jwt.claims.org_id', $1, true)", [org.id]);
      await client.query("update app_public.services set status = 'major_outage' where id = $1", [hiddenId]);
    });
    const [event] = await eventsOf(org.id);
    expect(event).toMatchObject({ type: "service.status_changed", is_public: false });
  });

  it("records page.status_changed when a rebuild changes the page's overall status", async () => {
    const org = await newOrganization("Events page");
    const serviceId = await committed((client) => createService(client, org.id, { name: "API" }));
    const rebuild = () =>
      committed(async (client) => {
        await client.query("select set_config('jwt.claims.org_id', $1, true)", [org.id]);
        await client.query("select app_private.rebuild_status_snapshot($1)", [org.id]);
      });
    await rebuild();
    await committed(async (client) => {
      await client.query("select set_config('jwt.claims.org_id', $1, true)", [org.id]);
      await client.query("update app_public.services set status = 'major_outage' where id = $1", [serviceId]);
    });
    await rebuild();
    await rebuild();

    const pageEvents = (await eventsOf(org.id)).filter((event) => event.type === "page.status_changed");
    expect(pageEvents).toHaveLength(1);
    expect(pageEvents[0]!.payload).toMatchObject({
      page: { id: org.id, url: `/status/${org.slug}` },
      previous_status: { indicator: "none" },
      status: { indicator: "critical", description: "Major Service Outage" },
    });
  });
});

describe("who reads events", () => {
  let a: OrganizationFixture;
  let b: OrganizationFixture;
  beforeAll(async () => {
    a = await newOrganization("Events reader A");
    b = await newOrganization("Events reader B");
    await committed((client) => createIncident(client, a.id));
  });

  it("shows members their own organization's events and nothing of another's", async () => {
    await withRootDb(db.rootPool, async (client) => {
      await becomeUser(client, db.config, a.members.viewer.id, a.id);
      const own = await client.query("select type from app_public.events");
      expect(own.rows.map((row) => row.type)).toEqual(["incident.created"]);
      await becomeUser(client, db.config, b.members.owner.id, b.id);
      const other = await client.query("select 1 from app_public.events where organization_id = $1", [a.id]);
      expect(other.rowCount).toBe(0);
    });
  });

  it("never lets the API write events", async () => {
    await withRootDb(db.rootPool, async (client) => {
      await becomeUser(client, db.config, a.members.owner.id, a.id);
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.events (organization_id, type, subject_id, is_public, payload) values ($1, 'incident.created', $1, true, '{}')",
        [a.id],
      );
      await expectSqlState(client, "42501", "delete from app_public.events");
    });
  });
});
