import type { Task } from "graphile-worker";
import { withOrganization } from "../tenantContext.ts";

/**
 * Nightly: forgets integration history past its use (app_private.purge_integration_history),
 * one organization at a time, since the worker is fenced to one organization per transaction.
 */
export const integrations__purge_history: Task = async (_payload, helpers) => {
  const organizations = await helpers.withPgClient(async (client) => {
    const { rows } = await client.query<{ id: string }>("select id from app_public.organizations order by id");
    return rows.map((row) => row.id);
  });
  let removed = 0;
  for (const organizationId of organizations) {
    removed += await withOrganization(helpers, organizationId, async (client) => {
      const { rows } = await client.query<{ removed: number }>(
        "select app_private.purge_integration_history($1) as removed",
        [organizationId],
      );
      return rows[0]!.removed;
    });
  }
  helpers.logger.info(`purged ${removed} rows of integration history in ${organizations.length} organizations`);
};
