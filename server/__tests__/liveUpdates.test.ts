/**
 * GET /api/live: members follow their organization's changes as server-sent events; the
 * events carry ids only, never reach another organization, and stop when access ends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { SseClient } from "./helpers/sse.ts";
import { graphql, register, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
let a: OrganizationMembers;
let b: OrganizationMembers;
const streams: SseClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true", LIVE_ACCESS_RECHECK_MS: "200" });
  a = await organizationWithMembers(server, "live-a");
  b = await organizationWithMembers(server, "live-b");
}, 60_000);
afterAll(async () => {
  for (const stream of streams) stream.close();
  await server?.stop();
});

async function follow(token: string): Promise<SseClient> {
  const stream = await SseClient.open(`${server.url}/api/live`, { authorization: `Bearer ${token}` });
  streams.push(stream);
  return stream;
}

async function createIncident(token: string, title: string): Promise<string> {
  const result = await graphql(
    server.url,
    `
      mutation C($title: String!) {
        createIncident(input: { incident: { title: $title } }) {
          incident {
            rowId
          }
        }
      }
    `,
    { title },
    { token },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createIncident.incident.rowId as string;
}

describe("GET /api/live", () => {
  it("tells every member of the organization what changed, with ids only", async () => {
    const viewer = await follow(a.tokens.viewer);
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");

    const incidentId = await createIncident(a.tokens.editor, "Live incident");
    const change = await viewer.next((event) => event.event === "change");
    const data = JSON.parse(change.data) as Record<string, string>;
    expect(data).toEqual({ id: change.id, type: "incident.created", subjectId: incidentId });
  });

  it("never tells another organization", async () => {
    const outsider = await follow(b.tokens.owner);
    const insider = await follow(a.tokens.owner);
    const incidentId = await createIncident(a.tokens.editor, "Not for B");
    await insider.next((event) => event.data.includes(incidentId));
    // B's own change arrives after A's: B's stream was open and heard nothing of A.
    const ownId = await createIncident(b.tokens.editor, "B's own");
    await outsider.next((event) => event.data.includes(ownId));
    expect(outsider.events.some((event) => event.data.includes(incidentId))).toBe(false);
  });

  it("refuses anonymous callers and people without an organization", async () => {
    const anonymous = await SseClient.open(`${server.url}/api/live`);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });

    const loner = await register(server.url, "Live loner");
    const withoutOrganization = await SseClient.open(`${server.url}/api/live`, {
      authorization: `Bearer ${loner.token}`,
    });
    expect(withoutOrganization.status).toBe(403);
    expect(JSON.parse(withoutOrganization.body)).toMatchObject({ errors: [{ extensions: { code: "NOT_A_MEMBER" } }] });
  });

  it("ends the stream once the member is removed", async () => {
    const members = await organizationWithMembers(server, "live-removal");
    const stream = await follow(members.tokens.viewer);
    expect(stream.status).toBe(200);
    const removed = await graphql(
      server.url,
      `
        mutation R($userId: UUID!) {
          removeMember(input: { userId: $userId }) {
            clientMutationId
          }
        }
      `,
      { userId: members.users.viewer.userId },
      { token: members.tokens.owner },
    );
    expect(removed.errors).toBeUndefined();
    await stream.until(() => stream.ended);
  });
});

describe("when the LISTEN connection drops", () => {
  it("asks every open dashboard to read everything again", async () => {
    const stream = await follow(a.tokens.viewer);
    expect(stream.status).toBe(200);
    const killed = await server.db.rootPool.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'incidentpulse-listener' and datname = current_database()",
    );
    expect(killed.rowCount).toBe(1);
    const resync = await stream.next((event) => event.event === "change" && event.data.includes('"resync"'));
    expect(JSON.parse(resync.data)).toMatchObject({ type: "resync" });
  });
});

describe("changes that are not integration events", () => {
  it("are announced too, once per table and transaction, with no content", async () => {
    const viewer = await follow(a.tokens.viewer);
    const created = await graphql(
      server.url,
      `
        mutation {
          createService(input: { service: { name: "Announced" } }) {
            service {
              rowId
            }
          }
        }
      `,
      {},
      { token: a.tokens.admin },
    );
    expect(created.errors).toBeUndefined();
    const change = await viewer.next((event) => event.data.includes('"changed"'));
    expect(JSON.parse(change.data)).toEqual({ id: "", type: "changed", subjectId: "", table: "services" });
    expect(change.id).toBeUndefined();
  });
});
