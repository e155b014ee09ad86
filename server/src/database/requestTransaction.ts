/**
 * Runs SQL outside GraphQL (REST routes) exactly as GraphQL would: on the authenticator pool,
 * in a transaction switched to the caller's role and claims, so the same policies decide.
 */
import type { PoolClient } from "pg";
import type { RequestIdentity } from "../auth/session.ts";
import { pgSettingsFor } from "../graphile.config.ts";
import type { Services } from "../services.ts";

export async function withRequestTransaction<T>(
  services: Services,
  identity: RequestIdentity | null | undefined,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const settings = pgSettingsFor(identity, services.database.roles, services.config.STATEMENT_TIMEOUT_MS);
  const client = await services.authenticatorPool.connect();
  try {
    await client.query("begin");
    await client.query("select set_config(key, value, true) from json_each_text($1::json)", [JSON.stringify(settings)]);
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
