/**
 * One transaction per test, rolled back: as root (fixtures), as a signed-in user acting in an
 * organization (the visitor role with the settings the server would set), or as anonymous.
 */
import type pg from "pg";
import { expect } from "vitest";
import type { DatabaseConfig } from "../../src/config.ts";

export type Client = pg.PoolClient;

async function inRolledBackTransaction<T>(pool: pg.Pool, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    return await fn(client);
  } finally {
    await client.query("rollback").catch(() => undefined);
    client.release();
  }
}

export const withRootDb = <T>(pool: pg.Pool, fn: (client: Client) => Promise<T>) => inRolledBackTransaction(pool, fn);

/** Switches the open root transaction to a signed-in user acting in `organizationId`. */
export async function becomeUser(
  client: Client,
  config: DatabaseConfig,
  userId: string,
  organizationId: string | null,
): Promise<string> {
  await client.query("reset role");
  const { rows } = await client.query<{ id: string }>(
    "insert into app_private.sessions (user_id) values ($1) returning id",
    [userId],
  );
  const sessionId = rows[0]!.id;
  await client.query(
    `select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true),
            set_config('jwt.claims.session_id', $3, true), set_config('jwt.claims.org_id', coalesce($4, ''), true)`,
    [config.roles.visitor, userId, sessionId, organizationId],
  );
  return sessionId;
}

export async function becomeAnonymous(client: Client, config: DatabaseConfig): Promise<void> {
  await client.query("reset role");
  await client.query(
    `select set_config('role', $1, true), set_config('jwt.claims.user_id', '', true),
            set_config('jwt.claims.session_id', '', true), set_config('jwt.claims.org_id', '', true)`,
    [config.roles.anonymous],
  );
}

export async function becomeRoot(client: Client): Promise<void> {
  await client.query("reset role");
}

/** Runs a statement that must fail with `sqlstate`, inside a savepoint so the test goes on. */
export async function expectSqlState(client: Client, sqlstate: string, text: string, values: unknown[] = []) {
  await client.query("savepoint expect_failure");
  let caught: unknown;
  try {
    await client.query(text, values);
  } catch (error) {
    caught = error;
  }
  await client.query("rollback to savepoint expect_failure");
  expect(caught, `expected ${sqlstate} from: ${text}`).toBeDefined();
  expect((caught as { code?: string }).code, (caught as Error).message).toBe(sqlstate);
}

/** Runs a statement inside a savepoint and returns its rows, or the SQLSTATE it failed with. */
export async function attempt<T extends pg.QueryResultRow = pg.QueryResultRow>(
  client: Client,
  text: string,
  values: unknown[] = [],
): Promise<{ rows: T[]; rowCount: number; error: string | null }> {
  await client.query("savepoint attempt");
  try {
    const result = await client.query<T>(text, values);
    await client.query("release savepoint attempt");
    return { rows: result.rows, rowCount: result.rowCount ?? 0, error: null };
  } catch (error) {
    await client.query("rollback to savepoint attempt");
    return { rows: [], rowCount: 0, error: (error as { code?: string }).code ?? "unknown" };
  }
}
