/**
 * Test databases: each test file clones the migrated template that `npm test` prepared, so
 * files run in parallel without seeing each other's rows or instance settings.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { DatabaseConfig } from "../../src/config.ts";

export function templateDatabase(): DatabaseConfig {
  const raw = process.env.INCIDENTPULSE_TEST_DATABASE;
  if (!raw) throw new Error("Run the tests with `npm test`: it starts the test database.");
  return JSON.parse(raw) as DatabaseConfig;
}

function onDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface TestDatabase {
  config: DatabaseConfig;
  /** Superuser on the test database: bypasses RLS, for fixtures and assertions. */
  rootPool: pg.Pool;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = templateDatabase();
  const name = `${template.name}_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: template.rootUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}" template "${template.name}" owner "${template.roles.owner}"`);
  } finally {
    await admin.end();
  }
  const config: DatabaseConfig = {
    ...template,
    name,
    ownerUrl: onDatabase(template.ownerUrl, name),
    authenticatorUrl: onDatabase(template.authenticatorUrl, name),
    rootUrl: template.rootUrl,
  };
  const rootPool = new pg.Pool({ connectionString: onDatabase(template.rootUrl!, name), max: 4 });
  rootPool.on("error", () => undefined);
  return {
    config,
    rootPool,
    async drop() {
      await rootPool.end();
      const client = new pg.Client({ connectionString: template.rootUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
