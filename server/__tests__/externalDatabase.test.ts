/**
 * With DATABASE_URL (+ AUTH_DATABASE_URL, ROOT_DATABASE_URL) the server uses an existing
 * PostgreSQL server: it creates the roles and the database on first start, then migrates.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { templateDatabase } from "../../db/__tests__/helpers/database.ts";
import { readServerConfig } from "../src/config.ts";
import { startServer } from "../src/start.ts";
import { graphql, PASSWORD, TEST_JWT_SECRET } from "./helpers/testServer.ts";

const template = templateDatabase();
const databaseName = `ip_external_${process.pid}`;
const urlFor = (user: string, password: string, database: string) => {
  const url = new URL(template.rootUrl!);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
};
const env = {
  DATABASE_URL: urlFor(`${databaseName}_owner`, "owner-password", databaseName),
  AUTH_DATABASE_URL: urlFor(`${databaseName}_authenticator`, "authenticator-password", databaseName),
  ROOT_DATABASE_URL: template.rootUrl!,
};

afterAll(async () => {
  // graphile-migrate keeps its pools for 200 ms after use and exits the process when one of
  // their connections is terminated, as `drop database … with (force)` would.
  await new Promise((resolveWait) => setTimeout(resolveWait, 300));
  const root = new pg.Client({ connectionString: template.rootUrl });
  await root.connect();
  await root.query(`drop database if exists ${databaseName} with (force)`);
  for (const suffix of ["authenticator", "visitor", "anonymous", "owner"]) {
    await root.query(`drop role if exists ${databaseName}_${suffix}`);
  }
  await root.end();
});

describe("an operator's PostgreSQL", () => {
  it("creates roles and database on first start, reuses them on the second", async () => {
    for (let run = 0; run < 2; run++) {
      const config = readServerConfig({
        ...env,
        PORT: "0",
        NODE_ENV: "test",
        JWT_SECRET: TEST_JWT_SECRET,
        WORKER_ENABLED: "true",
        DATA_DIR: await mkdtemp(join(tmpdir(), "incidentpulse-external-")),
      });
      const server = await startServer({ config, env, log: () => undefined });
      try {
        const result = await graphql(
          server.url!,
          run === 0
            ? `mutation { register(input: { email: "ops@example.com", name: "Ops", password: "${PASSWORD}" }) { membershipRole } }`
            : `mutation { login(input: { email: "ops@example.com", password: "${PASSWORD}" }) { membershipRole } }`,
        );
        expect(result.data).toEqual({ [run === 0 ? "register" : "login"]: { membershipRole: "owner" } });
      } finally {
        await server.stop();
      }
    }
    const root = new pg.Client({ connectionString: template.rootUrl });
    await root.connect();
    const { rows } = await root.query(
      "select rolname, rolinherit, rolcanlogin from pg_roles where rolname like $1 order by rolname",
      [`${databaseName}_%`],
    );
    await root.end();
    expect(rows).toEqual([
      { rolname: `${databaseName}_anonymous`, rolinherit: true, rolcanlogin: false },
      { rolname: `${databaseName}_authenticator`, rolinherit: false, rolcanlogin: true },
      { rolname: `${databaseName}_owner`, rolinherit: true, rolcanlogin: true },
      { rolname: `${databaseName}_visitor`, rolinherit: true, rolcanlogin: false },
    ]);
  });
});
