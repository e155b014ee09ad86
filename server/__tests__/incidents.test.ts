/**
 * Incident management over GraphQL: services, incidents, the timeline and its status rules,
 * roles, search, metrics and the audit log, with another organization trying to reach in.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
let acme: OrganizationMembers;
let globex: OrganizationMembers;

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
  acme = await organizationWithMembers(server, "acme");
  globex = await organizationWithMembers(server, "globex");
});
afterAll(async () => {
  await server.stop();
});

const CREATE_SERVICE = `mutation S($name: String!) { createService(input: { service: { name: $name } }) { service { rowId status } } }`;
const CREATE_INCIDENT = `mutation I($incident: IncidentInput!) { createIncident(input: { incident: $incident }) { incident { rowId status impact } } }`;
const POST_UPDATE = `mutation U($input: PostIncidentUpdateInput!) {
  postIncidentUpdate(input: $input) {
    incidentUpdate { rowId status previousStatus incidentUpdateServiceChanges { nodes { oldStatus newStatus } } }
  }
}`;
const INCIDENT = `query Q($id: UUID!) {
  incident(rowId: $id) {
    status impact acknowledgedAt resolvedAt reopenedCount
    incidentServices { nodes { status service { name status } } }
    incidentUpdates(orderBy: DISPLAY_AT_ASC) { nodes { status body isPublic } }
  }
}`;

async function createService(token: string, name: string): Promise<string> {
  const result = await graphql(server.url, CREATE_SERVICE, { name }, { token });
  expect(result.errors).toBeUndefined();
  return result.data!.createService.service.rowId;
}

async function createIncident(token: string, title: string, extra: Record<string, unknown> = {}): Promise<string> {
  const result = await graphql(server.url, CREATE_INCIDENT, { incident: { title, ...extra } }, { token });
  expect(result.errors).toBeUndefined();
  return result.data!.createIncident.incident.rowId;
}

const serviceStatus = async (token: string, id: string) =>
  (
    await graphql(
      server.url,
      `
        query S($id: UUID!) {
          service(rowId: $id) {
            status
          }
        }
      `,
      { id },
      { token },
    )
  ).data!.service.status as string;

describe("services", () => {
  it("are managed by admins and owners and read by everyone in the organization", async () => {
    const id = await createService(acme.tokens.admin, "Billing");
    for (const role of ["editor", "viewer"] as const) {
      const denied = await graphql(server.url, CREATE_SERVICE, { name: `By ${role}` }, { token: acme.tokens[role] });
      expect([denied.status, denied.code]).toEqual([403, "FORBIDDEN"]);
      expect(await serviceStatus(acme.tokens[role], id)).toBe("operational");
    }
    const renamed = await graphql(
      server.url,
      `
        mutation R($id: UUID!) {
          updateService(input: { rowId: $id, patch: { name: "Billing API" } }) {
            service {
              name
            }
          }
        }
      `,
      { id },
      { token: acme.tokens.editor },
    );
    expect(renamed.data?.updateService?.service ?? null).toBeNull();
    expect([renamed.status, renamed.code]).toEqual([404, "NOT_FOUND"]);
    const duplicate = await graphql(server.url, CREATE_SERVICE, { name: "Billing" }, { token: acme.tokens.owner });
    expect([duplicate.status, duplicate.code]).toEqual([409, "ALREADY_EXISTS"]);
  });

  it("are invisible to another organization", async () => {
    const id = await createService(acme.tokens.owner, "Secret service");
    const probe = await graphql(
      server.url,
      `
        query P($id: UUID!) {
          service(rowId: $id) {
            name
          }
          services {
            nodes {
              name
            }
          }
        }
      `,
      { id },
      { token: globex.tokens.owner },
    );
    expect(probe.data!.service).toBeNull();
    expect(probe.data!.services.nodes.map((node: { name: string }) => node.name)).not.toContain("Secret service");
  });
});

describe("incidents and their timeline", () => {
  it("moves status, claims and impact through updates, and restores services on resolve", async () => {
    const api = await createService(acme.tokens.owner, "API");
    const web = await createService(acme.tokens.owner, "Web");
    const first = await createIncident(acme.tokens.editor, "API errors", { severity: "high" });
    const second = await createIncident(acme.tokens.editor, "Slow pages");

    const posted = await graphql(
      server.url,
      POST_UPDATE,
      {
        input: {
          incidentId: first,
          status: "identified",
          body: "Database failover in progress.",
          serviceStatuses: [
            { serviceId: api, status: "major_outage" },
            { serviceId: web, status: "degraded_performance" },
          ],
        },
      },
      { token: acme.tokens.editor },
    );
    expect(posted.errors).toBeUndefined();
    expect(posted.data!.postIncidentUpdate.incidentUpdate).toMatchObject({
      status: "identified",
      previousStatus: "investigating",
    });
    await graphql(
      server.url,
      POST_UPDATE,
      {
        input: {
          incidentId: second,
          status: "investigating",
          body: "Pages are slow.",
          serviceStatuses: [{ serviceId: web, status: "partial_outage" }],
        },
      },
      { token: acme.tokens.editor },
    );

    const during = await graphql(server.url, INCIDENT, { id: first }, { token: acme.tokens.viewer });
    expect(during.data!.incident).toMatchObject({ status: "identified", impact: "critical" });
    expect(during.data!.incident.acknowledgedAt).not.toBeNull();
    expect(await serviceStatus(acme.tokens.viewer, api)).toBe("major_outage");
    expect(await serviceStatus(acme.tokens.viewer, web)).toBe("partial_outage");

    // Resolving needs a root cause and a summary; the failed attempt changes nothing.
    const early = await graphql(
      server.url,
      POST_UPDATE,
      { input: { incidentId: first, status: "resolved", body: "Fixed." } },
      { token: acme.tokens.editor },
    );
    expect([early.status, early.code]).toEqual([422, "RESOLUTION_REQUIRED"]);
    expect(
      (await graphql(server.url, INCIDENT, { id: first }, { token: acme.tokens.viewer })).data!.incident.status,
    ).toBe("identified");

    await graphql(
      server.url,
      `
        mutation R($id: UUID!) {
          updateIncident(
            input: { rowId: $id, patch: { rootCause: "Disk full", resolutionSummary: "Grew the volume" } }
          ) {
            incident {
              rowId
            }
          }
        }
      `,
      { id: first },
      { token: acme.tokens.editor },
    );
    const resolved = await graphql(
      server.url,
      POST_UPDATE,
      { input: { incidentId: first, status: "resolved", body: "Fixed." } },
      { token: acme.tokens.editor },
    );
    expect(resolved.errors).toBeUndefined();
    expect(await serviceStatus(acme.tokens.viewer, api)).toBe("operational");
    // The second incident still claims a partial outage of Web.
    expect(await serviceStatus(acme.tokens.viewer, web)).toBe("partial_outage");

    // Reopening is allowed and counted; the claims count again.
    await graphql(
      server.url,
      POST_UPDATE,
      { input: { incidentId: first, status: "investigating", body: "It is back.", isPublic: false } },
      { token: acme.tokens.editor },
    );
    const reopened = await graphql(server.url, INCIDENT, { id: first }, { token: acme.tokens.viewer });
    expect(reopened.data!.incident).toMatchObject({ status: "investigating", resolvedAt: null, reopenedCount: 1 });
    expect(reopened.data!.incident.incidentUpdates.nodes.at(-1)).toMatchObject({ isPublic: false });
    expect(await serviceStatus(acme.tokens.viewer, api)).toBe("major_outage");
  });

  it("lets viewers read but not write, and admins delete", async () => {
    const id = await createIncident(acme.tokens.editor, "Viewer test");
    const viewerCreates = await graphql(
      server.url,
      CREATE_INCIDENT,
      { incident: { title: "No" } },
      { token: acme.tokens.viewer },
    );
    expect([viewerCreates.status, viewerCreates.code]).toEqual([403, "FORBIDDEN"]);
    const viewerPosts = await graphql(
      server.url,
      POST_UPDATE,
      { input: { incidentId: id, status: "identified", body: "No" } },
      { token: acme.tokens.viewer },
    );
    expect([viewerPosts.status, viewerPosts.code]).toEqual([403, "FORBIDDEN"]);
    const DELETE = `mutation D($id: UUID!) { deleteIncident(input: { rowId: $id }) { incident { rowId } } }`;
    const editorDeletes = await graphql(server.url, DELETE, { id }, { token: acme.tokens.editor });
    expect([editorDeletes.status, editorDeletes.code]).toEqual([404, "NOT_FOUND"]);
    const adminDeletes = await graphql(server.url, DELETE, { id }, { token: acme.tokens.admin });
    expect(adminDeletes.data!.deleteIncident.incident.rowId).toBe(id);
  });

  it("refuses bad input with codes and writes nothing", async () => {
    const service = await createService(acme.tokens.owner, "Queue");
    const foreignService = await createService(globex.tokens.owner, "Globex queue");
    const incident = await createIncident(acme.tokens.editor, "Bad input");
    const countRows = async () =>
      (
        await server.db.rootPool.query(
          `select (select count(*) from app_public.incident_updates where incident_id = $1)::int as updates,
                  (select count(*) from app_public.incident_services where incident_id = $1)::int as claims`,
          [incident],
        )
      ).rows[0];
    const before = await countRows();

    for (const title of ["", "   ", "x".repeat(10_000)]) {
      const result = await graphql(server.url, CREATE_INCIDENT, { incident: { title } }, { token: acme.tokens.editor });
      expect([result.status, result.code]).toEqual([422, "VALIDATION_FAILED"]);
    }
    const withForeign = await graphql(
      server.url,
      POST_UPDATE,
      {
        input: {
          incidentId: incident,
          status: "identified",
          body: "Mixed services",
          serviceStatuses: [
            { serviceId: service, status: "partial_outage" },
            { serviceId: foreignService, status: "major_outage" },
          ],
        },
      },
      { token: acme.tokens.editor },
    );
    expect([withForeign.status, withForeign.code]).toEqual([422, "UNKNOWN_SERVICE"]);
    const unknownIncident = await graphql(
      server.url,
      POST_UPDATE,
      { input: { incidentId: "00000000-0000-4000-8000-000000000000", status: "identified", body: "?" } },
      { token: acme.tokens.editor },
    );
    expect([unknownIncident.status, unknownIncident.code]).toEqual([404, "NOT_FOUND"]);
    const emptyBody = await graphql(
      server.url,
      POST_UPDATE,
      { input: { incidentId: incident, status: "identified", body: "" } },
      { token: acme.tokens.editor },
    );
    expect([emptyBody.status, emptyBody.code]).toEqual([422, "VALIDATION_FAILED"]);
    const foreignAssignee = await graphql(
      server.url,
      CREATE_INCIDENT,
      { incident: { title: "Assigned outside", assigneeId: globex.users.owner.userId } },
      { token: acme.tokens.editor },
    );
    expect([foreignAssignee.status, foreignAssignee.code]).toEqual([422, "REFERENCE_NOT_FOUND"]);

    expect(await countRows()).toEqual(before);
    expect(await serviceStatus(acme.tokens.viewer, service)).toBe("operational");
    expect(await serviceStatus(globex.tokens.viewer, foreignService)).toBe("operational");
  });

  it("keeps another organization out of incidents, updates and claims", async () => {
    const incident = await createIncident(acme.tokens.editor, "Private matter");
    const probe = await graphql(
      server.url,
      `
        query P($id: UUID!) {
          incident(rowId: $id) {
            title
          }
          incidents {
            nodes {
              title
            }
          }
          incidentUpdates {
            totalCount
          }
        }
      `,
      { id: incident },
      { token: globex.tokens.owner },
    );
    expect(probe.data!.incident).toBeNull();
    expect(probe.data!.incidents.nodes.map((node: { title: string }) => node.title)).not.toContain("Private matter");
    const posted = await graphql(
      server.url,
      POST_UPDATE,
      { input: { incidentId: incident, status: "identified", body: "Pwned" } },
      { token: globex.tokens.owner },
    );
    expect([posted.status, posted.code]).toEqual([404, "NOT_FOUND"]);
    const patched = await graphql(
      server.url,
      `
        mutation R($id: UUID!) {
          updateIncident(input: { rowId: $id, patch: { title: "Pwned" } }) {
            incident {
              title
            }
          }
        }
      `,
      { id: incident },
      { token: globex.tokens.owner },
    );
    expect(patched.data?.updateIncident?.incident ?? null).toBeNull();
    expect([patched.status, patched.code]).toEqual([404, "NOT_FOUND"]);
    const { rows } = await server.db.rootPool.query("select title from app_public.incidents where id = $1", [incident]);
    expect(rows[0].title).toBe("Private matter");
  });
});

describe("postmortems", () => {
  it("are written in markdown and published by editors, never published empty", async () => {
    const id = await createIncident(acme.tokens.editor, "Needs a postmortem");
    const PATCH = `mutation P($id: UUID!, $patch: IncidentPatch!) { updateIncident(input: { rowId: $id, patch: $patch }) { incident { postmortem postmortemPublishedAt } } }`;
    const empty = await graphql(
      server.url,
      PATCH,
      { id, patch: { postmortemPublishedAt: new Date().toISOString() } },
      { token: acme.tokens.editor },
    );
    expect([empty.status, empty.code]).toEqual([422, "VALIDATION_FAILED"]);
    const published = await graphql(
      server.url,
      PATCH,
      {
        id,
        patch: { postmortem: "## What happened\n\nA disk filled up.", postmortemPublishedAt: new Date().toISOString() },
      },
      { token: acme.tokens.editor },
    );
    expect(published.data!.updateIncident.incident.postmortem).toContain("## What happened");
    expect(published.data!.updateIncident.incident.postmortemPublishedAt).not.toBeNull();
    const viewer = await graphql(
      server.url,
      PATCH,
      { id, patch: { postmortem: "rewritten" } },
      { token: acme.tokens.viewer },
    );
    expect(viewer.data?.updateIncident?.incident ?? null).toBeNull();
    expect([viewer.status, viewer.code]).toEqual([404, "NOT_FOUND"]);
  });
});

describe("finding incidents", () => {
  it("filters by text, status, severity, service and time, and pages newest first", async () => {
    const orgs = await organizationWithMembers(server, "searchco");
    const token = orgs.tokens.owner;
    const service = await createService(token, "Search API");
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push(
        await createIncident(token, index === 2 ? "100% CPU_load" : `Outage number ${index}`, {
          severity: index % 2 === 0 ? "high" : "low",
          startedAt: new Date(Date.UTC(2026, 0, 1 + index)).toISOString(),
        }),
      );
    }
    await graphql(
      server.url,
      POST_UPDATE,
      {
        input: {
          incidentId: ids[1],
          status: "monitoring",
          body: "ok",
          serviceStatuses: [{ serviceId: service, status: "degraded_performance" }],
        },
      },
      { token },
    );
    const SEARCH = `query S($query: String, $statuses: [IncidentStatus], $severities: [IncidentSeverity], $serviceId: UUID, $after: Datetime, $first: Int, $cursor: Cursor) {
      searchIncidents(query: $query, statuses: $statuses, severities: $severities, serviceId: $serviceId, startedAfter: $after, first: $first, after: $cursor) {
        totalCount pageInfo { hasNextPage endCursor } nodes { title }
      }
    }`;
    const titles = async (variables: Record<string, unknown>) =>
      (
        (await graphql(server.url, SEARCH, variables, { token })).data!.searchIncidents.nodes as { title: string }[]
      ).map((n) => n.title);

    expect(await titles({ query: "number" })).toEqual([
      "Outage number 4",
      "Outage number 3",
      "Outage number 1",
      "Outage number 0",
    ]);
    expect(await titles({ query: "100%" })).toEqual(["100% CPU_load"]);
    expect(await titles({ query: "U_L" })).toEqual(["100% CPU_load"]);
    expect(await titles({ query: "%" })).toEqual(["100% CPU_load"]);
    expect(await titles({ severities: ["low"] })).toEqual(["Outage number 3", "Outage number 1"]);
    expect(await titles({ statuses: ["monitoring"] })).toEqual(["Outage number 1"]);
    expect(await titles({ serviceId: service })).toEqual(["Outage number 1"]);
    expect(await titles({ after: new Date(Date.UTC(2026, 0, 4)).toISOString() })).toEqual([
      "Outage number 4",
      "Outage number 3",
    ]);

    const page1 = (await graphql(server.url, SEARCH, { first: 2 }, { token })).data!.searchIncidents;
    expect(page1.totalCount).toBe(5);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await graphql(server.url, SEARCH, { first: 2, cursor: page1.pageInfo.endCursor }, { token })).data!
      .searchIncidents;
    expect(page2.nodes.map((n: { title: string }) => n.title)).toEqual(["100% CPU_load", "Outage number 1"]);

    const conditions = await graphql(
      server.url,
      `
        {
          incidents(condition: { severity: high }, orderBy: STARTED_AT_DESC, first: 10) {
            nodes {
              title
            }
          }
        }
      `,
      {},
      { token },
    );
    expect(conditions.data!.incidents.nodes.map((n: { title: string }) => n.title)).toEqual([
      "Outage number 4",
      "100% CPU_load",
      "Outage number 0",
    ]);
  });
});

describe("metrics", () => {
  it("computes MTTA and MTTR on a fixture with known answers", async () => {
    const metricsOrg = await organizationWithMembers(server, "metricsco");
    const base = Date.UTC(2026, 5, 1);
    const fixtures = [
      { severity: "low", ack: 60, resolve: 600 },
      { severity: "high", ack: 120, resolve: 1200 },
      { severity: "high", ack: 300, resolve: null },
    ];
    for (const [index, fixture] of fixtures.entries()) {
      const startedAt = new Date(base + index * 3_600_000);
      await server.db.rootPool.query(
        `insert into app_public.incidents (organization_id, title, severity, started_at, acknowledged_at, status, resolved_at, root_cause, resolution_summary)
         values ($1, $2, $3, $4, $5, $6, $7, 'cause', 'summary')`,
        [
          metricsOrg.organizationId,
          `Fixture ${index}`,
          fixture.severity,
          startedAt,
          new Date(startedAt.getTime() + fixture.ack * 1000),
          fixture.resolve === null ? "investigating" : "resolved",
          fixture.resolve === null ? null : new Date(startedAt.getTime() + fixture.resolve * 1000),
        ],
      );
    }
    const result = await graphql(
      server.url,
      `
        {
          incidentMetrics(periodStart: "2026-06-01T00:00:00Z", periodEnd: "2026-06-02T00:00:00Z") {
            incidentCount
            acknowledgedCount
            resolvedCount
            mttaMeanSeconds
            mttaMedianSeconds
            mttrMeanSeconds
            mttrMedianSeconds
          }
          incidentCountsBySeverity(periodStart: "2026-06-01T00:00:00Z", periodEnd: "2026-06-02T00:00:00Z") {
            nodes {
              severity
              incidentCount
            }
          }
        }
      `,
      {},
      { token: metricsOrg.tokens.viewer },
    );
    expect(result.data!.incidentMetrics).toEqual({
      incidentCount: 3,
      acknowledgedCount: 3,
      resolvedCount: 2,
      mttaMeanSeconds: 160,
      mttaMedianSeconds: 120,
      mttrMeanSeconds: 900,
      mttrMedianSeconds: 900,
    });
    expect(result.data!.incidentCountsBySeverity.nodes).toEqual([
      { severity: "low", incidentCount: 1 },
      { severity: "medium", incidentCount: 0 },
      { severity: "high", incidentCount: 2 },
      { severity: "critical", incidentCount: 0 },
    ]);
  });
});

describe("audit log", () => {
  it("records who changed what, for owners and admins only", async () => {
    const service = await createService(acme.tokens.admin, "Audited");
    await graphql(
      server.url,
      `
        mutation R($id: UUID!) {
          updateService(input: { rowId: $id, patch: { description: "Now described" } }) {
            service {
              rowId
            }
          }
        }
      `,
      { id: service },
      { token: acme.tokens.owner },
    );
    const AUDIT = `query A($id: UUID!) {
      auditLogs(condition: { targetId: $id, targetTable: "services" }, orderBy: OCCURRED_AT_ASC) { nodes { action targetTable changes actorUser { rowId } } }
    }`;
    const entries = await graphql(server.url, AUDIT, { id: service }, { token: acme.tokens.admin });
    expect(entries.data!.auditLogs.nodes).toEqual([
      expect.objectContaining({
        action: "insert",
        targetTable: "services",
        actorUser: { rowId: acme.users.admin.userId },
      }),
      {
        action: "update",
        targetTable: "services",
        changes: { description: { before: null, after: "Now described" } },
        actorUser: { rowId: acme.users.owner.userId },
      },
    ]);
    const editorView = await graphql(server.url, AUDIT, { id: service }, { token: acme.tokens.editor });
    expect(editorView.data!.auditLogs.nodes).toEqual([]);
    const otherOrg = await graphql(server.url, AUDIT, { id: service }, { token: globex.tokens.owner });
    expect(otherOrg.data!.auditLogs.nodes).toEqual([]);
    const schema = await graphql(
      server.url,
      `
        {
          __type(name: "Mutation") {
            fields {
              name
            }
          }
        }
      `,
    );
    const mutations = schema.data!.__type.fields.map((field: { name: string }) => field.name);
    expect(mutations.filter((name: string) => /auditLog/i.test(name))).toEqual([]);
  });
});
