/**
 * Scale-out: two web processes and two workers on one database, as in production behind a
 * load balancer. Nothing may depend on which process a request reaches: sessions, public
 * pages, live streams, plan limits and jobs all go through the database.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../db/__tests__/helpers/database.ts";
import { readServerConfig } from "../src/config.ts";
import { createLogger } from "../src/observability/logger.ts";
import { startServer, type RunningServer } from "../src/start.ts";
import { SseClient } from "./helpers/sse.ts";
import { graphql, register, TEST_JWT_SECRET, TEST_SECRETS_ENCRYPTION_KEY } from "./helpers/testServer.ts";

let db: TestDatabase;
const webs: RunningServer[] = [];
const workers: RunningServer[] = [];
const streams: SseClient[] = [];

async function start(role: "web" | "worker"): Promise<RunningServer> {
  const config = readServerConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: await mkdtemp(join(tmpdir(), "incidentpulse-test-")),
    JWT_SECRET: TEST_JWT_SECRET,
    SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
    MULTI_TENANT_ENABLED: "true",
    WORKER_ENABLED: role === "worker" ? "true" : "false",
    SEED_DEMO_DATA: "false",
  });
  return startServer({
    config,
    env: {},
    database: db.config,
    http: role === "web",
    logger: createLogger({ level: "silent" }),
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  for (const role of ["web", "web", "worker", "worker"] as const) {
    const running = await start(role);
    (role === "web" ? webs : workers).push(running);
  }
}, 60_000);
afterAll(async () => {
  for (const stream of streams) stream.close();
  for (const running of [...webs, ...workers]) await running.stop();
  await db?.drop();
});

describe("two web processes and two workers on one database", () => {
  it("serve one organization whichever process a request reaches", async () => {
    const [first, second] = webs.map((web) => web.url!) as [string, string];
    const owner = await register(first, "Scaled owner");
    const created = await graphql(
      second,
      `
        mutation {
          createOrganization(input: { name: "Scaled", slug: "scaled" }) {
            organization {
              rowId
            }
          }
        }
      `,
      {},
      { token: owner.token },
    );
    expect(created.errors).toBeUndefined();
    const organizationId = created.data!.createOrganization.organization.rowId as string;
    const switched = await graphql(
      first,
      `
        mutation S($id: UUID!) {
          switchOrganization(input: { organizationId: $id }) {
            token
          }
        }
      `,
      { id: organizationId },
      { token: owner.token },
    );
    const token = switched.data!.switchOrganization.token as string;

    // A dashboard on the first process, the public page on the second, the write on the first.
    const live = await SseClient.open(`${first}/api/live`, { authorization: `Bearer ${token}` });
    streams.push(live);
    expect(live.status).toBe(200);
    const incident = await graphql(
      first,
      `
        mutation {
          createIncident(input: { incident: { title: "Seen everywhere" } }) {
            incident {
              rowId
            }
          }
        }
      `,
      {},
      { token },
    );
    expect(incident.errors).toBeUndefined();
    const incidentId = incident.data!.createIncident.incident.rowId as string;
    await live.next((event) => event.data.includes(incidentId));

    const page = await SseClient.open(`${second}/status/scaled/events`);
    streams.push(page);
    await page.next((event) => event.data.includes("Seen everywhere"));

    // The rebuild ran on one of the workers (neither web process has one).
    const { rows } = await db.rootPool.query<{ n: number }>(
      "select count(*)::int as n from graphile_worker.jobs where task_identifier = 'status_snapshots__rebuild'",
    );
    expect(rows[0]!.n).toBe(0);
  });

  it("see both workers beat, and are ready", async () => {
    const { rows } = await db.rootPool.query<{ n: number }>(
      "select count(*)::int as n from app_private.worker_heartbeats where beat_at > now() - interval '30 seconds'",
    );
    expect(rows[0]!.n).toBe(2);
    for (const web of webs) expect((await fetch(`${web.url}/readyz`)).status).toBe(200);
  });

  it("share sign-in throttling, so a second process is no way around it", async () => {
    const [first, second] = webs.map((web) => web.url!) as [string, string];
    const victim = await register(first, "Throttled");
    const attempt = (url: string) =>
      graphql(
        url,
        `
          mutation L($email: String!) {
            login(input: { email: $email, password: "wrong password!" }) {
              userId
            }
          }
        `,
        { email: victim.email },
      );
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 12; i++) codes.push((await attempt(i % 2 === 0 ? first : second)).code);
    expect(codes.slice(0, 10).every((code) => code === "INVALID_CREDENTIALS")).toBe(true);
    expect(codes.slice(10)).toEqual(["TOO_MANY_ATTEMPTS", "TOO_MANY_ATTEMPTS"]);
  });
});
