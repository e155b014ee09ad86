import type { Task } from "graphile-worker";
import { withOrganization } from "../tenantContext.ts";

/**
 * Nightly: rolls up each organization's finished UTC days of service status into uptime
 * rows, so history is never recomputed from scratch, and rebuilds its snapshot for the new day.
 */
export const status_snapshots__roll_up: Task = async (_payload, helpers) => {
  // Organizations are readable by the owner without an organization context.
  const organizations = await helpers.withPgClient((client) =>
    client.query<{ id: string }>("select id from app_public.organizations order by id"),
  );
  for (const { id } of organizations.rows) {
    await withOrganization(helpers, id, async (client) => {
      await client.query("select app_private.roll_up_uptime($1)", [id]);
      await client.query("select app_private.rebuild_status_snapshot($1)", [id]);
    });
  }
  helpers.logger.info(`rolled up uptime for ${organizations.rowCount} organizations`);
};
