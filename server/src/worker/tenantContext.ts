/**
 * The worker connects as the owner, whom FORCE RLS still fences into one organization: a
 * tenant task runs its queries inside a transaction that names the organization from its
 * payload, and sees nothing of any other.
 */
import type { JobHelpers } from "graphile-worker";
import type { PoolClient } from "pg";
import { z } from "zod";

export async function withOrganization<T>(
  helpers: JobHelpers,
  organizationId: string,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  return helpers.withPgClient(async (client) => {
    await client.query("begin");
    try {
      await client.query("select set_config('jwt.claims.org_id', $1, true)", [organizationId]);
      const result = await fn(client as PoolClient);
      await client.query("commit");
      return result;
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  });
}

export const tenantPayload = z.object({ organizationId: z.string().uuid() });
