import type { Task } from "graphile-worker";
import { z } from "zod";
import { tenantPayload, withOrganization } from "../tenantContext.ts";

const payloadSchema = tenantPayload.extend({ maintenanceId: z.string().uuid() });

/**
 * Moves a maintenance window to the state it should have now (scheduled → in_progress →
 * completed); triggers then set its services under maintenance or restore them. Scheduled by
 * the database at the window's start and end, so it runs on time, and idempotent.
 */
export const maintenance_windows__advance: Task = async (payload, helpers) => {
  const { organizationId, maintenanceId } = payloadSchema.parse(payload);
  const status = await withOrganization(helpers, organizationId, async (client) => {
    const { rows } = await client.query<{ status: string | null }>(
      "select (app_private.advance_maintenance_window($1, $2)).status",
      [organizationId, maintenanceId],
    );
    return rows[0]?.status ?? null;
  });
  helpers.logger.debug(`maintenance ${maintenanceId}: ${status ?? "gone"}`);
};
