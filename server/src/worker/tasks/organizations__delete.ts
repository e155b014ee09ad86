import type { Task } from "graphile-worker";
import { tenantPayload, withOrganization } from "../tenantContext.ts";

/**
 * Deletes an organization whose owner asked for it, once the grace period is over. The
 * database checks that the deletion is still requested and due (an owner may have canceled).
 */
export const organizations__delete: Task = async (payload, helpers) => {
  const { organizationId } = tenantPayload.parse(payload);
  const deleted = await withOrganization(helpers, organizationId, async (client) => {
    const { rows } = await client.query<{ deleted: boolean }>(
      "select app_private.delete_organization_if_due($1) as deleted",
      [organizationId],
    );
    return rows[0]!.deleted;
  });
  helpers.logger.info(
    deleted ? `deleted organization ${organizationId}` : `organization ${organizationId} is not due for deletion`,
  );
};
