/**
 * Incident functions end to end: app_public.post_incident_update (status, first
 * acknowledgement, previous_status, claimed service statuses and the changes it announced, all
 * or nothing) and app_public.acknowledge_incident; resolution needs a root cause and a summary
 * (IPV02); title and assignee rules.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import {
  claim,
  countRows,
  createIncident,
  createService,
  incidentState,
  statusesOf,
  type ServiceStatus,
} from "../../helpers/incidentFixtures.ts";
import { attempt, becomeRoot, expectSqlState, withRootDb, type Client } from "../../helpers/transactions.ts";
import { ACTOR_LABELS, actAs, createWorld, expectRefusedToAnonymous, type World } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

interface Fixture {
  world: World;
  api: string;
  web: string;
  incidentId: string;
  /** B's service and incident. */
  otherApi: string;
  otherIncidentId: string;
}

function inFixture(fn: (client: Client, fixture: Fixture) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      const fixture: Fixture = {
        world,
        api: await createService(client, world.a.id, { name: "API" }),
        web: await createService(client, world.a.id, { name: "Web" }),
        incidentId: await createIncident(client, world.a.id, { title: "Errors on checkout" }),
        otherApi: await createService(client, world.b.id, { name: "API" }),
        otherIncidentId: await createIncident(client, world.b.id, { title: "B's incident" }),
      };
      await fn(client, fixture);
    });
}

/** post_incident_update with claims given as [service id, status] pairs. */
const POST = `select id, incident_id, status::text as status, previous_status::text as previous_status, body, is_public,
                     display_at, author_user_id
              from app_public.post_incident_update($1, $2, $3, $4, $5,
                coalesce((select array_agg(row((c.value ->> 'service_id')::uuid,
                                               (c.value ->> 'status')::app_public.service_status)::app_public.service_status_change
                                           order by c.ord)
                          from jsonb_array_elements($6::jsonb) with ordinality as c(value, ord)), '{}'))`;

const claims = (...pairs: [string, ServiceStatus | null][]) =>
  JSON.stringify(pairs.map(([service_id, status]) => ({ service_id, status })));

interface UpdateRow {
  id: string;
  incident_id: string;
  status: string;
  previous_status: string | null;
  body: string;
  is_public: boolean;
  display_at: Date;
  author_user_id: string;
}

async function post(
  client: Client,
  incidentId: string,
  status: string,
  serviceClaims = "[]",
  options: { body?: string; isPublic?: boolean | null; displayAt?: string | null } = {},
): Promise<UpdateRow> {
  const { rows } = await client.query<UpdateRow>(POST, [
    incidentId,
    status,
    options.body ?? "An update",
    options.isPublic ?? null,
    options.displayAt ?? null,
    serviceClaims,
  ]);
  return rows[0]!;
}

/** Everything post_incident_update can write, as root. */
async function snapshot(client: Client, fixture: Fixture) {
  await becomeRoot(client);
  return {
    incident: await client
      .query(
        "select status, acknowledged_at, resolved_at, impact, reopened_count from app_public.incidents where id = $1",
        [fixture.incidentId],
      )
      .then((result) => result.rows[0]),
    updates: await countRows(client, "select 1 from app_public.incident_updates where incident_id = $1", [
      fixture.incidentId,
    ]),
    claims: await countRows(client, "select 1 from app_public.incident_services where incident_id = $1", [
      fixture.incidentId,
    ]),
    changes: await countRows(
      client,
      "select 1 from app_public.incident_update_service_changes c join app_public.incident_updates u on u.id = c.incident_update_id where u.incident_id = $1",
      [fixture.incidentId],
    ),
    services: await statusesOf(client, fixture.api, fixture.web, fixture.otherApi),
  };
}

describe("app_public.post_incident_update", () => {
  it(
    "applies the status, acknowledges on the first update, records previous_status and the author",
    inFixture(async (client, fixture) => {
      const { world } = fixture;
      await actAs(client, db.config, world, "editor");
      const update = await post(client, fixture.incidentId, "identified", "[]", { body: "Found the cause" });
      expect(update).toMatchObject({
        incident_id: fixture.incidentId,
        status: "identified",
        previous_status: "investigating",
        body: "Found the cause",
        is_public: true,
        author_user_id: world.a.members.editor.id,
      });
      await becomeRoot(client);
      expect(await incidentState(client, fixture.incidentId)).toMatchObject({
        status: "identified",
        acknowledged: true,
        resolved: false,
      });
    }),
  );

  it(
    "keeps the first acknowledgement time on later updates",
    inFixture(async (client, fixture) => {
      await becomeRoot(client);
      await client.query(
        "update app_public.incidents set started_at = now() - interval '2 hours', acknowledged_at = now() - interval '1 hour' where id = $1",
        [fixture.incidentId],
      );
      await actAs(client, db.config, fixture.world, "editor");
      await post(client, fixture.incidentId, "monitoring");
      await becomeRoot(client);
      const { rows } = await client.query(
        "select acknowledged_at = now() - interval '1 hour' as kept from app_public.incidents where id = $1",
        [fixture.incidentId],
      );
      expect(rows).toEqual([{ kept: true }]);
    }),
  );

  it(
    "records each service change with its old and new status, claims it, and sets the services",
    inFixture(async (client, fixture) => {
      await claim(client, fixture.world.a.id, fixture.incidentId, fixture.web, "degraded_performance");
      await actAs(client, db.config, fixture.world, "editor");
      const update = await post(
        client,
        fixture.incidentId,
        "identified",
        claims([fixture.api, "major_outage"], [fixture.web, "partial_outage"]),
      );
      await becomeRoot(client);
      const { rows: changes } = await client.query(
        `select service_id, old_status::text as old_status, new_status::text as new_status
         from app_public.incident_update_service_changes where incident_update_id = $1 order by new_status`,
        [update.id],
      );
      expect(changes).toEqual([
        { service_id: fixture.api, old_status: "operational", new_status: "major_outage" },
        { service_id: fixture.web, old_status: "degraded_performance", new_status: "partial_outage" },
      ]);
      const { rows: claimed } = await client.query(
        "select service_id, status::text as status from app_public.incident_services where incident_id = $1 order by status",
        [fixture.incidentId],
      );
      expect(claimed).toEqual([
        { service_id: fixture.api, status: "major_outage" },
        { service_id: fixture.web, status: "partial_outage" },
      ]);
      expect(await statusesOf(client, fixture.api, fixture.web)).toEqual(["major_outage", "partial_outage"]);
      expect((await incidentState(client, fixture.incidentId))?.impact).toBe("critical");
    }),
  );

  it(
    "posts an internal, back-dated note",
    inFixture(async (client, fixture) => {
      await actAs(client, db.config, fixture.world, "editor");
      const update = await post(client, fixture.incidentId, "investigating", "[]", {
        isPublic: false,
        displayAt: "2024-01-02T03:04:05Z",
      });
      expect(update.is_public).toBe(false);
      expect(update.display_at.toISOString()).toBe("2024-01-02T03:04:05.000Z");
    }),
  );

  for (const actor of ["owner", "admin", "editor"] as const) {
    it(
      `is allowed to the ${actor} of A`,
      inFixture(async (client, fixture) => {
        await actAs(client, db.config, fixture.world, actor);
        expect((await post(client, fixture.incidentId, "monitoring")).status).toBe("monitoring");
      }),
    );
  }

  for (const actor of ["viewer", "outsider"] as const) {
    it(
      `is refused to the ${ACTOR_LABELS[actor]} (IPF01), writing nothing`,
      inFixture(async (client, fixture) => {
        const before = await snapshot(client, fixture);
        await actAs(client, db.config, fixture.world, actor);
        await expectSqlState(client, "IPF01", POST, [
          fixture.incidentId,
          "monitoring",
          "x",
          null,
          null,
          claims([fixture.api, "major_outage"]),
        ]);
        expect(await snapshot(client, fixture)).toEqual(before);
      }),
    );
  }

  it(
    "is refused to anonymous",
    inFixture(async (client, fixture) => {
      await actAs(client, db.config, fixture.world, "anonymous");
      await expectRefusedToAnonymous(client, POST, [fixture.incidentId, "monitoring", "x", null, null, "[]"]);
    }),
  );

  it(
    "an unknown incident is IPN01; so is A's incident for B's owner, and B's for the editor of A who owns B",
    inFixture(async (client, fixture) => {
      await actAs(client, db.config, fixture.world, "editor");
      await expectSqlState(client, "IPN01", POST, [
        "00000000-0000-4000-8000-000000000000",
        "monitoring",
        "x",
        null,
        null,
        "[]",
      ]);
      await actAs(client, db.config, fixture.world, "otherOwner");
      await expectSqlState(client, "IPN01", POST, [fixture.incidentId, "monitoring", "x", null, null, "[]"]);
      await actAs(client, db.config, fixture.world, "both");
      await expectSqlState(client, "IPN01", POST, [fixture.otherIncidentId, "monitoring", "x", null, null, "[]"]);
      await becomeRoot(client);
      expect((await incidentState(client, fixture.incidentId))?.status).toBe("investigating");
      expect((await incidentState(client, fixture.otherIncidentId))?.status).toBe("investigating");
    }),
  );

  for (const [label, service] of [
    ["an unknown service", () => "00000000-0000-4000-8000-000000000000"],
    ["B's service", (fixture: Fixture) => fixture.otherApi],
  ] as const) {
    it(
      `${label} after a valid one is IPV03, and leaves nothing half-written`,
      inFixture(async (client, fixture) => {
        const before = await snapshot(client, fixture);
        await actAs(client, db.config, fixture.world, "editor");
        await expectSqlState(client, "IPV03", POST, [
          fixture.incidentId,
          "identified",
          "x",
          null,
          null,
          claims([fixture.api, "major_outage"], [service(fixture), "major_outage"]),
        ]);
        const after = await snapshot(client, fixture);
        expect(after).toEqual(before);
        expect(after.updates).toBe(0);
        expect(after.claims).toBe(0);
        expect(after.services).toEqual(["operational", "operational", "operational"]);
        expect(after.incident).toMatchObject({ status: "investigating", acknowledged_at: null });
      }),
    );
  }

  for (const status of ["under_maintenance", null] as const) {
    it(
      `a claim of ${String(status)} is refused (IPV01), writing nothing`,
      inFixture(async (client, fixture) => {
        const before = await snapshot(client, fixture);
        await actAs(client, db.config, fixture.world, "editor");
        await expectSqlState(client, "IPV01", POST, [
          fixture.incidentId,
          "identified",
          "x",
          null,
          null,
          claims([fixture.web, "partial_outage"], [fixture.api, status]),
        ]);
        expect(await snapshot(client, fixture)).toEqual(before);
      }),
    );
  }

  it(
    "an empty body is refused (23514), writing nothing",
    inFixture(async (client, fixture) => {
      const before = await snapshot(client, fixture);
      await actAs(client, db.config, fixture.world, "editor");
      await expectSqlState(client, "23514", POST, [
        fixture.incidentId,
        "identified",
        " ",
        null,
        null,
        claims([fixture.api, "major_outage"]),
      ]);
      expect(await snapshot(client, fixture)).toEqual(before);
    }),
  );

  it(
    "resolving without root cause and resolution summary is refused (IPV02), writing nothing",
    inFixture(async (client, fixture) => {
      await claim(client, fixture.world.a.id, fixture.incidentId, fixture.api, "partial_outage");
      const before = await snapshot(client, fixture);
      await actAs(client, db.config, fixture.world, "editor");
      await expectSqlState(client, "IPV02", POST, [fixture.incidentId, "resolved", "Fixed", null, null, "[]"]);
      await client.query("update app_public.incidents set root_cause = 'Disk full' where id = $1", [
        fixture.incidentId,
      ]);
      await expectSqlState(client, "IPV02", POST, [fixture.incidentId, "resolved", "Fixed", null, null, "[]"]);
      await client.query(
        "update app_public.incidents set root_cause = null, resolution_summary = 'Freed space' where id = $1",
        [fixture.incidentId],
      );
      await expectSqlState(client, "IPV02", POST, [fixture.incidentId, "resolved", "Fixed", null, null, "[]"]);
      const after = await snapshot(client, fixture);
      expect({ ...after, incident: { ...after.incident } }).toEqual(before);
      expect(after.services[0]).toBe("partial_outage");
    }),
  );

  it(
    "resolves with root cause and resolution summary: resolved_at set, services restored",
    inFixture(async (client, fixture) => {
      await claim(client, fixture.world.a.id, fixture.incidentId, fixture.api, "partial_outage");
      await actAs(client, db.config, fixture.world, "editor");
      await client.query(
        "update app_public.incidents set root_cause = 'Disk full', resolution_summary = 'Freed space' where id = $1",
        [fixture.incidentId],
      );
      await post(client, fixture.incidentId, "resolved");
      await becomeRoot(client);
      expect(await incidentState(client, fixture.incidentId)).toMatchObject({
        status: "resolved",
        resolved: true,
        acknowledged: true,
      });
      expect(await statusesOf(client, fixture.api)).toEqual(["operational"]);
    }),
  );

  it(
    "clearing the root cause of a resolved incident is refused (IPV02)",
    inFixture(async (client, fixture) => {
      const resolvedId = await createIncident(client, fixture.world.a.id, {
        status: "resolved",
        startedAt: "2024-01-01T00:00:00Z",
        resolvedAt: "2024-01-01T01:00:00Z",
      });
      await actAs(client, db.config, fixture.world, "editor");
      await expectSqlState(client, "IPV02", "update app_public.incidents set root_cause = '' where id = $1", [
        resolvedId,
      ]);
      await expectSqlState(client, "IPV02", "update app_public.incidents set resolution_summary = null where id = $1", [
        resolvedId,
      ]);
    }),
  );

  it(
    "a duplicate service in one update is refused without half-writing",
    inFixture(async (client, fixture) => {
      const before = await snapshot(client, fixture);
      await actAs(client, db.config, fixture.world, "editor");
      const result = await attempt(client, POST, [
        fixture.incidentId,
        "identified",
        "x",
        null,
        null,
        claims([fixture.api, "degraded_performance"], [fixture.api, "major_outage"]),
      ]);
      if (result.error === null) {
        // Accepted: the last claim wins, and one change is recorded per service.
        await becomeRoot(client);
        expect(await statusesOf(client, fixture.api)).toEqual(["major_outage"]);
      } else {
        expect(await snapshot(client, fixture)).toEqual(before);
      }
    }),
  );
});

describe("app_public.acknowledge_incident", () => {
  const ACK = "select id, acknowledged_at from app_public.acknowledge_incident($1)";

  for (const actor of ["owner", "admin", "editor"] as const) {
    it(
      `the ${actor} of A acknowledges; the status does not change`,
      inFixture(async (client, fixture) => {
        await actAs(client, db.config, fixture.world, actor);
        const { rows } = await client.query<{ acknowledged_at: Date | null }>(ACK, [fixture.incidentId]);
        expect(rows[0]!.acknowledged_at).not.toBeNull();
        await becomeRoot(client);
        expect(await incidentState(client, fixture.incidentId)).toMatchObject({
          status: "investigating",
          acknowledged: true,
        });
        expect(
          await countRows(client, "select 1 from app_public.incident_updates where incident_id = $1", [
            fixture.incidentId,
          ]),
        ).toBe(0);
      }),
    );
  }

  it(
    "acknowledging again keeps the first time",
    inFixture(async (client, fixture) => {
      await becomeRoot(client);
      await client.query(
        "update app_public.incidents set started_at = now() - interval '1 day', acknowledged_at = now() - interval '5 minutes' where id = $1",
        [fixture.incidentId],
      );
      await actAs(client, db.config, fixture.world, "editor");
      const { rows } = await client.query(
        "select acknowledged_at = now() - interval '5 minutes' as kept from app_public.acknowledge_incident($1)",
        [fixture.incidentId],
      );
      expect(rows).toEqual([{ kept: true }]);
    }),
  );

  for (const actor of ["viewer", "outsider"] as const) {
    it(
      `is refused to the ${ACTOR_LABELS[actor]} (IPF01)`,
      inFixture(async (client, fixture) => {
        await actAs(client, db.config, fixture.world, actor);
        await expectSqlState(client, "IPF01", ACK, [fixture.incidentId]);
        await becomeRoot(client);
        expect((await incidentState(client, fixture.incidentId))?.acknowledged).toBe(false);
      }),
    );
  }

  it(
    "is refused to anonymous",
    inFixture(async (client, fixture) => {
      await actAs(client, db.config, fixture.world, "anonymous");
      await expectRefusedToAnonymous(client, ACK, [fixture.incidentId]);
    }),
  );

  it(
    "an unknown incident, or A's incident for B's owner, is IPN01",
    inFixture(async (client, fixture) => {
      await actAs(client, db.config, fixture.world, "editor");
      await expectSqlState(client, "IPN01", ACK, ["00000000-0000-4000-8000-000000000000"]);
      await actAs(client, db.config, fixture.world, "otherOwner");
      await expectSqlState(client, "IPN01", ACK, [fixture.incidentId]);
      await actAs(client, db.config, fixture.world, "both");
      await expectSqlState(client, "IPN01", ACK, [fixture.otherIncidentId]);
      await becomeRoot(client);
      expect((await incidentState(client, fixture.incidentId))?.acknowledged).toBe(false);
      expect((await incidentState(client, fixture.otherIncidentId))?.acknowledged).toBe(false);
    }),
  );
});

describe("incident rules through the table", () => {
  const INSERT = "insert into app_public.incidents (title, assignee_id) values ($1, $2)";

  for (const [label, title] of [
    ["empty", ""],
    ["10,000 characters", "x".repeat(10_000)],
  ] as const) {
    it(
      `a ${label} title is refused (23514), on insert and on update`,
      inFixture(async (client, fixture) => {
        await actAs(client, db.config, fixture.world, "editor");
        await expectSqlState(client, "23514", INSERT, [title, null]);
        await expectSqlState(client, "23514", "update app_public.incidents set title = $1 where id = $2", [
          title,
          fixture.incidentId,
        ]);
      }),
    );
  }

  it(
    "an assignee who is not a member of A is refused (23503)",
    inFixture(async (client, fixture) => {
      await actAs(client, db.config, fixture.world, "editor");
      await expectSqlState(client, "23503", INSERT, ["T", fixture.world.outsider.id]);
      await expectSqlState(client, "23503", INSERT, ["T", fixture.world.b.members.owner.id]);
      await expectSqlState(client, "23503", INSERT, ["T", "00000000-0000-4000-8000-000000000000"]);
    }),
  );

  it(
    "an incident cannot resolve before it started (IPV01)",
    inFixture(async (client, fixture) => {
      const resolvedId = await createIncident(client, fixture.world.a.id, {
        status: "resolved",
        startedAt: "2024-01-01T00:00:00Z",
        resolvedAt: "2024-01-01T01:00:00Z",
      });
      await actAs(client, db.config, fixture.world, "editor");
      await expectSqlState(
        client,
        "IPV01",
        "update app_public.incidents set started_at = '2024-01-02T00:00:00Z' where id = $1",
        [resolvedId],
      );
    }),
  );
});
