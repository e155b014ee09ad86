import type { Task } from "graphile-worker";
import { tenantPayload, withOrganization } from "../tenantContext.ts";

/**
 * Rebuilds an organization's public status snapshot. Triggers queue it under one job key per
 * organization, so a burst of writes is one rebuild; the database notifies every web process
 * of the new version when this transaction commits.
 */
export const status_snapshots__rebuild: Task = async (payload, helpers) => {
  const { organizationId } = tenantPayload.parse(payload);
  await withOrganization(helpers, organizationId, (client) =>
    client.query("select app_private.rebuild_status_snapshot($1)", [organizationId]),
  );
};
