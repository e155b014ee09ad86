/**
 * Running in production: liveness and readiness with reasons, Prometheus metrics (served
 * behind a token or on their own port, parsed as Prometheus text), and JSON logs that carry
 * a request id and never a credential.
 */
import { createServer } from "node:net";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServerConfig } from "../src/config.ts";
import { createLogger } from "../src/observability/logger.ts";
import { startServer, type RunningServer } from "../src/start.ts";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import {
  graphql,
  startTestServer,
  TEST_JWT_SECRET,
  TEST_SECRETS_ENCRYPTION_KEY,
  type TestServer,
} from "./helpers/testServer.ts";

const METRICS_TOKEN = "metrics-token-for-the-tests-0123";

let server: TestServer;
let members: OrganizationMembers;
beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true", METRICS_TOKEN });
  members = await organizationWithMembers(server, "observed");
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const readyz = async (url = server.url) => {
  const response = await fetch(`${url}/readyz`);
  return {
    status: response.status,
    body: (await response.json()) as { status: string; checks: Record<string, string> },
  };
};

describe("health", () => {
  it("answers /healthz without touching anything", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("is not ready without a worker heartbeat, and ready once a worker beats", async () => {
    await server.db.rootPool.query("delete from app_private.worker_heartbeats");
    const without = await readyz();
    expect(without.status).toBe(503);
    expect(without.body).toMatchObject({
      status: "unavailable",
      checks: { database: "ok", migrations: "ok", worker: "no worker has ever run" },
    });

    await server.db.rootPool.query(
      "insert into app_private.worker_heartbeats (worker_id, hostname, pid, beat_at) values ('old', 'h', 1, now() - interval '5 minutes')",
    );
    expect((await readyz()).body.checks.worker).toMatch(/^no worker heartbeat for \d+ s$/);

    await server.db.rootPool.query("update app_private.worker_heartbeats set beat_at = now()");
    expect(await readyz()).toEqual({
      status: 200,
      body: { status: "ready", checks: { database: "ok", migrations: "ok", worker: "ok" } },
    });
  });

  it("is not ready while the database lacks this version's newest migration", async () => {
    await server.db.rootPool.query("update app_private.worker_heartbeats set beat_at = now()");
    const { rows } = await server.db.rootPool.query<{ hash: string }>(
      "update graphile_migrate.migrations set hash = hash || '-moved' where date = (select max(date) from graphile_migrate.migrations) returning hash",
    );
    try {
      const answer = await readyz();
      expect(answer.status).toBe(503);
      expect(answer.body.checks.migrations).toBe("the database is not at this version's newest migration");
    } finally {
      await server.db.rootPool.query(
        "update graphile_migrate.migrations set hash = replace(hash, '-moved', '') where hash = $1",
        [rows[0]!.hash],
      );
    }
  });
});

describe("metrics", () => {
  const scrape = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { headers });
    return { status: response.status, text: await response.text(), type: response.headers.get("content-type") };
  };

  it("are refused without the token", async () => {
    expect((await scrape(`${server.url}/metrics`)).status).toBe(401);
    expect(
      (await scrape(`${server.url}/metrics`, { authorization: "Bearer wrong-token-of-same-size-000000" })).status,
    ).toBe(401);
  });

  it("count requests by route, GraphQL operations and errors, and parse as Prometheus text", async () => {
    await graphql(server.url, "{ currentUser { rowId } }", {}, { token: members.tokens.viewer });
    await graphql(server.url, "{ nope }", {});
    await fetch(`${server.url}/healthz`);

    const { status, text, type } = await scrape(`${server.url}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
    const samples = (name: string) => families.get(name)?.metrics ?? [];

    expect(samples("incidentpulse_http_requests_total")).toContainEqual(
      expect.objectContaining({ labels: { method: "GET", route: "/healthz", status: "200" } }),
    );
    expect(samples("incidentpulse_http_requests_total")).toContainEqual(
      expect.objectContaining({ labels: { method: "POST", route: "/graphql", status: "200" } }),
    );
    expect(samples("incidentpulse_graphql_operations_total")).toContainEqual(
      expect.objectContaining({ labels: { type: "query", outcome: "ok" } }),
    );
    expect(samples("incidentpulse_graphql_errors_total")).toContainEqual(
      expect.objectContaining({ labels: { code: "GRAPHQL_VALIDATION_FAILED" } }),
    );
    expect(families.get("incidentpulse_http_request_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(samples("incidentpulse_db_pool_connections")).toContainEqual(
      expect.objectContaining({ labels: { pool: "api", state: "total" } }),
    );
    expect(families.has("incidentpulse_sse_connections")).toBe(true);
    expect(families.has("incidentpulse_process_resident_memory_bytes")).toBe(true);
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("a worker process with its own metrics port, logging JSON", () => {
  let running: RunningServer;
  const lines: Record<string, unknown>[] = [];
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const config = readServerConfig({
      NODE_ENV: "test",
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: await mkdtemp(join(tmpdir(), "incidentpulse-test-")),
      JWT_SECRET: TEST_JWT_SECRET,
      SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
      MULTI_TENANT_ENABLED: "true",
      WORKER_ENABLED: "true",
      SEED_DEMO_DATA: "false",
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: "127.0.0.1",
    });
    running = await startServer({
      config,
      env: {},
      database: server.db.config,
      logger: createLogger({ level: "info", destination }),
    });
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
  });

  it("serves metrics on the separate port, with worker jobs counted", async () => {
    const created = await graphql(
      running.url!,
      `
        mutation {
          createIncident(input: { incident: { title: "Counted" } }) {
            incident {
              rowId
            }
          }
        }
      `,
      {},
      { token: members.tokens.editor },
    );
    expect(created.errors).toBeUndefined();
    const deadline = Date.now() + 15_000;
    let rebuilds: { labels?: Record<string, string> }[] = [];
    while (Date.now() < deadline) {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      rebuilds =
        parsePrometheusTextFormat(text).find((family) => family.name === "incidentpulse_worker_jobs_total")?.metrics ??
        [];
      if (rebuilds.some((sample) => sample.labels?.task === "status_snapshots__rebuild")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rebuilds).toContainEqual(
      expect.objectContaining({ labels: { task: "status_snapshots__rebuild", outcome: "success" } }),
    );
    // Without METRICS_TOKEN the app's port has no metrics (the path is just a page of the client).
    expect(await (await fetch(`${running.url}/metrics`)).text()).not.toContain("incidentpulse_");
    // Now the process itself beats: ready.
    expect((await readyz(running.url!)).status).toBe(200);
  });

  it("logs one JSON line per request with its request id, and no credential or token", async () => {
    const response = await fetch(`${running.url}/graphql?token=secret-query-token`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${members.tokens.viewer}`,
        cookie: "ip_session=cookie-secret-value",
        "x-request-id": "test-request-0001",
      },
      body: JSON.stringify({ query: "{ currentUser { rowId } }" }),
    });
    expect(response.headers.get("x-request-id")).toBe("test-request-0001");
    const deadline = Date.now() + 5_000;
    let line: Record<string, any> | undefined;
    while (!line && Date.now() < deadline) {
      line = lines.find((entry) => (entry.req as { id?: string } | undefined)?.id === "test-request-0001");
      if (!line) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(line).toMatchObject({
      level: "info",
      req: { id: "test-request-0001", method: "POST", path: "/graphql" },
      res: { statusCode: 200 },
    });
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain(members.tokens.viewer);
    expect(everything).not.toContain("cookie-secret-value");
    expect(everything).not.toContain("secret-query-token");
  });
});
