/**
 * Maintenance windows moved by the real worker: the database schedules a job at each
 * window's start and end, so tests steer time by moving the window.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
let acme: OrganizationMembers;

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true", WORKER_ENABLED: "true" });
  acme = await organizationWithMembers(server, "acme");
});
afterAll(async () => {
  await server.stop();
});

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

async function createService(name: string): Promise<string> {
  const result = await graphql(
    server.url,
    `
      mutation S($name: String!) {
        createService(input: { service: { name: $name } }) {
          service {
            rowId
          }
        }
      }
    `,
    { name },
    { token: acme.tokens.admin },
  );
  return result.data!.createService.service.rowId;
}

async function createWindow(title: string, startsAt: string, endsAt: string, serviceIds: string[]): Promise<string> {
  const created = await graphql(
    server.url,
    `
      mutation W($w: MaintenanceWindowInput!) {
        createMaintenanceWindow(input: { maintenanceWindow: $w }) {
          maintenanceWindow {
            rowId
          }
        }
      }
    `,
    { w: { title, startsAt, endsAt } },
    { token: acme.tokens.editor },
  );
  expect(created.errors).toBeUndefined();
  const id = created.data!.createMaintenanceWindow.maintenanceWindow.rowId as string;
  for (const serviceId of serviceIds) {
    const linked = await graphql(
      server.url,
      `
        mutation L($m: UUID!, $s: UUID!) {
          createMaintenanceService(input: { maintenanceService: { maintenanceWindowId: $m, serviceId: $s } }) {
            clientMutationId
          }
        }
      `,
      { m: id, s: serviceId },
      { token: acme.tokens.editor },
    );
    expect(linked.errors).toBeUndefined();
  }
  return id;
}

const readState = (windowId: string, serviceId: string) => async () => {
  const result = await graphql(
    server.url,
    `
      query Q($w: UUID!, $s: UUID!) {
        maintenanceWindow(rowId: $w) {
          status
          startedAt
          completedAt
        }
        service(rowId: $s) {
          status
        }
      }
    `,
    { w: windowId, s: serviceId },
    { token: acme.tokens.viewer },
  );
  return { window: result.data!.maintenanceWindow.status as string, service: result.data!.service.status as string };
};

describe("maintenance windows", () => {
  it("start on time, put their services under maintenance, and complete and restore on time", async () => {
    const database = await createService("Database");
    const windowId = await createWindow("Upgrade", minutesFromNow(-1), minutesFromNow(60), [database]);
    const running = await eventually(readState(windowId, database), (s) => s.window === "in_progress");
    expect(running).toEqual({ window: "in_progress", service: "under_maintenance" });

    // Bring the end forward: the end job is rescheduled under the same key.
    const moved = await graphql(
      server.url,
      `
        mutation M($id: UUID!, $end: Datetime!) {
          updateMaintenanceWindow(input: { rowId: $id, patch: { endsAt: $end } }) {
            maintenanceWindow {
              endsAt
            }
          }
        }
      `,
      { id: windowId, end: new Date(Date.now() + 1500).toISOString() },
      { token: acme.tokens.editor },
    );
    expect(moved.errors).toBeUndefined();
    const finished = await eventually(readState(windowId, database), (s) => s.window === "completed");
    expect(finished).toEqual({ window: "completed", service: "operational" });
  });

  it("does nothing before its start", async () => {
    const cache = await createService("Cache");
    const windowId = await createWindow("Later", minutesFromNow(60), minutesFromNow(120), [cache]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await readState(windowId, cache)()).toEqual({ window: "scheduled", service: "operational" });
    const { rows } = await server.db.rootPool.query<{ key: string; due: boolean }>(
      "select key, run_at <= now() as due from graphile_worker.jobs where key like $1 order by key",
      [`maintenance:${windowId}:%`],
    );
    expect(rows).toEqual([
      { key: `maintenance:${windowId}:end`, due: false },
      { key: `maintenance:${windowId}:start`, due: false },
    ]);
  });

  it("restores services at once when a running window is canceled", async () => {
    const search = await createService("Search");
    const windowId = await createWindow("Reindex", minutesFromNow(-1), minutesFromNow(30), [search]);
    await eventually(readState(windowId, search), (s) => s.window === "in_progress");
    const canceled = await graphql(
      server.url,
      `
        mutation C($id: UUID!) {
          cancelMaintenance(input: { maintenanceWindowId: $id }) {
            maintenanceWindow {
              status
              canceledAt
            }
          }
        }
      `,
      { id: windowId },
      { token: acme.tokens.editor },
    );
    expect(canceled.data!.cancelMaintenance.maintenanceWindow.status).toBe("canceled");
    expect(await readState(windowId, search)()).toEqual({ window: "canceled", service: "operational" });
    const again = await graphql(
      server.url,
      `
        mutation C($id: UUID!) {
          cancelMaintenance(input: { maintenanceWindowId: $id }) {
            maintenanceWindow {
              status
            }
          }
        }
      `,
      { id: windowId },
      { token: acme.tokens.editor },
    );
    expect([again.status, again.code]).toEqual([409, "MAINTENANCE_ENDED"]);
  });

  it("lets an incident's worse claim show through maintenance", async () => {
    const queue = await createService("Queue");
    const windowId = await createWindow("Queue upgrade", minutesFromNow(-1), minutesFromNow(30), [queue]);
    await eventually(readState(windowId, queue), (s) => s.window === "in_progress");
    const incident = await graphql(
      server.url,
      `
        mutation {
          createIncident(input: { incident: { title: "Queue down" } }) {
            incident {
              rowId
            }
          }
        }
      `,
      {},
      { token: acme.tokens.editor },
    );
    const incidentId = incident.data!.createIncident.incident.rowId;
    await graphql(
      server.url,
      `
        mutation U($i: UUID!, $s: UUID!) {
          postIncidentUpdate(
            input: {
              incidentId: $i
              status: investigating
              body: "Down"
              serviceStatuses: [{ serviceId: $s, status: partial_outage }]
            }
          ) {
            clientMutationId
          }
        }
      `,
      { i: incidentId, s: queue },
      { token: acme.tokens.editor },
    );
    expect((await readState(windowId, queue)()).service).toBe("partial_outage");
    await server.db.rootPool.query(
      "update app_public.incidents set root_cause = 'x', resolution_summary = 'y' where id = $1",
      [incidentId],
    );
    await graphql(
      server.url,
      `
        mutation U($i: UUID!) {
          postIncidentUpdate(input: { incidentId: $i, status: resolved, body: "Up" }) {
            clientMutationId
          }
        }
      `,
      { i: incidentId },
      { token: acme.tokens.editor },
    );
    expect((await readState(windowId, queue)()).service).toBe("under_maintenance");
  });

  it("refuses a window that ends before it starts", async () => {
    const result = await graphql(
      server.url,
      `
        mutation W($w: MaintenanceWindowInput!) {
          createMaintenanceWindow(input: { maintenanceWindow: $w }) {
            maintenanceWindow {
              rowId
            }
          }
        }
      `,
      { w: { title: "Backwards", startsAt: minutesFromNow(60), endsAt: minutesFromNow(30) } },
      { token: acme.tokens.editor },
    );
    expect([result.status, result.code]).toEqual([422, "VALIDATION_FAILED"]);
    expect(result.errors![0]!.extensions!.constraint).toBe("maintenance_windows_ends_after_start");
  });
});
