/**
 * Faults the product must ride out:
 *
 * - PostgreSQL stopped and started again under a running server (a cluster of this file's own,
 *   since the test runner's cluster is shared by every file): while it is down, GraphQL and
 *   REST answer a coded 503 SERVICE_UNAVAILABLE; once it is back the same server works again,
 *   and status-page SSE clients hear the changes made after the restart, including the ones
 *   made before the process's LISTEN connection came back.
 * - A worker process killed (SIGKILL) in the middle of a snapshot rebuild: nothing of the job
 *   is committed, the job stays locked, another worker retries it once graphile-worker deems
 *   the dead worker's lock stale, and the snapshot converges on build_status_snapshot(org).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Logger, run, runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../db/__tests__/helpers/database.ts";
import { findFreePort, startEmbeddedCluster, type EmbeddedCluster } from "../../db/src/cluster.ts";
import { rolesFor, withCredentials, type DatabaseConfig } from "../../db/src/config.ts";
import { PROJECT_ROOT, prepareDatabase } from "../../db/src/setup.ts";
import { readServerConfig } from "../src/config.ts";
import { startServer, type RunningServer } from "../src/start.ts";
import { makeTaskList } from "../src/worker/index.ts";
import { SseClient, type SseEvent } from "./helpers/sse.ts";
import { graphql, register, TEST_JWT_SECRET, TEST_SECRETS_ENCRYPTION_KEY, type Session } from "./helpers/testServer.ts";
import { testWorkerContext } from "./helpers/workerContext.ts";

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

const CREATE_SERVICE = `mutation S($service: ServiceInput!) { createService(input: { service: $service }) { service { rowId } } }`;
const CREATE_INCIDENT = `mutation I($incident: IncidentInput!) { createIncident(input: { incident: $incident }) { incident { rowId } } }`;
const CURRENT_USER = `{ currentUser { rowId } }`;
const incidentNames = (event: SseEvent) =>
  (JSON.parse(event.data) as { incidents: { name: string }[] }).incidents.map((incident) => incident.name);

describe("PostgreSQL stopped and started under a running server", () => {
  const superuserPassword = randomBytes(12).toString("hex");
  let dir: string;
  let port: number;
  let cluster: EmbeddedCluster | null = null;
  let server: RunningServer;
  let url: string;
  let owner: Session;

  const startCluster = async () => {
    cluster = await startEmbeddedCluster({ dataDir: join(dir, "pg"), superuserPassword, port });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "incidentpulse-faults-"));
    port = await findFreePort();
    await startCluster();
    const name = "incidentpulse_faults";
    const roles = rolesFor(name);
    const at = { port };
    const database: DatabaseConfig = {
      name,
      roles,
      ownerUrl: withCredentials(at, roles.owner, randomBytes(12).toString("hex"), name),
      authenticatorUrl: withCredentials(at, roles.authenticator, randomBytes(12).toString("hex"), name),
      rootUrl: withCredentials(at, "postgres", superuserPassword, "postgres"),
    };
    await prepareDatabase(database, { reset: true, includeCurrent: true });
    const config = readServerConfig({
      NODE_ENV: "test",
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: join(dir, "data"),
      JWT_SECRET: TEST_JWT_SECRET,
      SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
      WORKER_ENABLED: "true",
      SEED_DEMO_DATA: "false",
      STATUS_STREAM_HEARTBEAT_MS: "200",
      // The outage's connection errors are expected; the assertions say what matters.
      LOG_LEVEL: "silent",
    });
    server = await startServer({ config, env: {}, database, log: () => undefined });
    url = server.url!;
    // Single-tenant: the first account owns the default organization and its status page.
    owner = await register(url, "Faults Owner");
    const created = await graphql(url, CREATE_SERVICE, { service: { name: "Checkout" } }, { token: owner.token });
    expect(created.errors).toBeUndefined();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it("answers 503 SERVICE_UNAVAILABLE while it is down and works again once it is back", async () => {
    const stream = await SseClient.open(`${url}/api/status/stream`);
    expect(stream.status).toBe(200);
    const first = await stream.next((event) => event.data.includes("Checkout"));

    await cluster!.stop();
    cluster = null;

    // GraphQL, signed in (the session check itself needs the database) and anonymous.
    for (const token of [owner.token, undefined]) {
      const down = await graphql(url, CURRENT_USER, {}, { token });
      expect([down.status, down.code], token ? "signed in" : "anonymous").toEqual([503, "SERVICE_UNAVAILABLE"]);
      expect(JSON.stringify(down.errors)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);
    }
    // REST: a public sign-up and an attachment download (authentication first).
    const signUp = await fetch(`${url}/api/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ email: "reader@example.com" }),
    });
    expect(signUp.status).toBe(503);
    expect(((await signUp.json()) as any).errors[0].extensions.code).toBe("SERVICE_UNAVAILABLE");
    const download = await fetch(`${url}/api/attachments/00000000-0000-0000-0000-000000000000`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(download.status).toBe(503);
    expect(((await download.json()) as any).errors[0].extensions.code).toBe("SERVICE_UNAVAILABLE");
    // The public status files are served from memory meanwhile.
    expect((await fetch(`${url}/api/v2/summary.json`)).status).toBe(200);

    await startCluster();

    // The same server, without a restart: its pools replace the connections they lost.
    const back = await eventually(
      () => graphql(url, CURRENT_USER, {}, { token: owner.token }),
      (result) => result.status === 200,
    );
    expect(back.data).toEqual({ currentUser: { rowId: owner.userId } });

    // Written right away, likely before the LISTEN connection is back: caught up on reconnect.
    const incident = await graphql(
      url,
      CREATE_INCIDENT,
      { incident: { title: "After the restart" } },
      { token: owner.token },
    );
    expect(incident.errors).toBeUndefined();
    const caughtUp = await stream.next((event) => incidentNames(event).includes("After the restart"), 20_000);
    expect(Number(caughtUp.id)).toBeGreaterThan(Number(first.id));
    expect(server.services.notifications.listening).toBe(true);
    stream.close();

    // A client that reconnects with the last id it saw gets the newer version at once.
    const reconnected = await SseClient.open(`${url}/api/status/stream`, { "last-event-id": first.id! });
    expect(incidentNames(await reconnected.next(() => true))).toContain("After the restart");
    reconnected.close();
  }, 60_000);
});

describe("a worker killed in the middle of a job", () => {
  let db: TestDatabase;
  let ownerPool: pg.Pool;
  const taskList = makeTaskList(testWorkerContext());

  beforeAll(async () => {
    db = await createTestDatabase();
    ownerPool = new pg.Pool({ connectionString: db.config.ownerUrl });
    ownerPool.on("error", () => undefined);
    ownerPool.on("connect", (client) => client.on("error", () => undefined));
  });
  afterAll(async () => {
    await ownerPool?.end();
    await db?.drop();
  });

  const snapshotOf = async (organizationId: string) =>
    (
      await db.rootPool.query<{ version: string; body: unknown; expected: unknown }>(
        `select s.version, s.body, app_private.build_status_snapshot($1) as expected
           from app_public.status_snapshots s where s.organization_id = $1`,
        [organizationId],
      )
    ).rows[0];
  const rebuildJobs = async () =>
    (
      await db.rootPool.query<{ id: string; locked_by: string | null; attempts: number }>(
        "select id, locked_by, attempts from graphile_worker.jobs where task_identifier = 'status_snapshots__rebuild'",
      )
    ).rows;

  it("is retried by another worker and the snapshot converges", async () => {
    const { rows } = await db.rootPool.query<{ id: string }>(
      "insert into app_public.organizations (name, slug) values ('Crash', 'crash') returning id",
    );
    const organizationId = rows[0]!.id;
    const inOrganization = async (sql: string) => {
      const client = await db.rootPool.connect();
      try {
        await client.query("begin");
        await client.query("select set_config('jwt.claims.org_id', $1, true)", [organizationId]);
        await client.query(sql);
        await client.query("commit");
      } finally {
        client.release();
      }
    };
    await inOrganization("insert into app_public.services (name) values ('Core')");
    await new Promise((r) => setTimeout(r, 400));
    await runOnce({ pgPool: ownerPool, taskList, noHandleSignals: true });
    const before = (await snapshotOf(organizationId))!;
    expect(before.version).toBe("1");

    // A change queues a rebuild; a worker process takes it and dies before committing.
    await inOrganization("insert into app_public.incidents (title) values ('Disk full')");
    const child = spawn(process.execPath, ["--import", "tsx", "server/__tests__/fixtures/crashingWorker.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, FAULTS_OWNER_URL: db.config.ownerUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on("exit", (_code, signal) => done(signal)));
    let output = "";
    const midJob = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`the worker never reached the job:\n${output}`)), 20_000);
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /MID-JOB (\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          done(match[1]!);
        }
      };
      child.stdout.on("data", read);
      child.stderr.on("data", read);
    });
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    await eventually(
      async () =>
        (
          await db.rootPool.query(
            "select 1 from pg_stat_activity where application_name = 'faults-crashing-worker' and datname = current_database()",
          )
        ).rowCount,
      (count) => count === 0,
    );

    // Nothing of the job was committed, and the dead worker still holds its lock.
    const unchanged = (await snapshotOf(organizationId))!;
    expect([unchanged.version, unchanged.body]).toEqual([before.version, before.body]);
    expect(unchanged.body).not.toEqual(unchanged.expected);
    const locked = await rebuildJobs();
    expect(locked).toEqual([{ id: midJob, locked_by: expect.any(String), attempts: 1 }]);
    // graphile-worker 0.17 releases a dead worker's locks only once they are 4 hours old.
    await runOnce({ pgPool: ownerPool, taskList, noHandleSignals: true });
    expect((await snapshotOf(organizationId))!.version).toBe("1");

    // Four hours pass (simulated: the lock is made 4 h 1 min old); a new worker's periodic
    // sweep unlocks the job, and the worker runs it again.
    await db.rootPool.query(
      "update graphile_worker._private_jobs set locked_at = locked_at - interval '4 hours 1 minute' where locked_at is not null",
    );
    await db.rootPool.query(
      "update graphile_worker._private_job_queues set locked_at = locked_at - interval '4 hours 1 minute' where locked_at is not null",
    );
    const runner = await run({
      pgPool: ownerPool,
      taskList,
      concurrency: 1,
      pollInterval: 100,
      noHandleSignals: true,
      minResetLockedInterval: 50,
      maxResetLockedInterval: 100,
      logger: new Logger(() => () => undefined),
    });
    try {
      await eventually(rebuildJobs, (jobs) => jobs.length === 0);
    } finally {
      await runner.stop();
    }
    expect(await rebuildJobs()).toEqual([]);

    const after = (await snapshotOf(organizationId))!;
    expect(after.version).toBe("2");
    expect(after.body).toEqual(after.expected);
    expect(JSON.stringify(after.body)).toContain("Disk full");
  }, 60_000);
});
