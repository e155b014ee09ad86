import type { Task } from "graphile-worker";
import { z } from "zod";
import { tenantPayload, withOrganization } from "../tenantContext.ts";

const payloadSchema = tenantPayload.extend({ eventId: z.string().uuid() });

/**
 * Fans a public event out to its subscribers: the database records each recipient (confirmed,
 * following one of the event's services or all of them) and queues one
 * subscribers__send_notification job per recipient not mailed yet, so a large list is many
 * small jobs, and running this again mails nobody twice.
 */
export const subscribers__notify: Task = async (payload, helpers) => {
  const { organizationId, eventId } = payloadSchema.parse(payload);
  const queued = await withOrganization(helpers, organizationId, async (client) => {
    const { rows } = await client.query<{ queued: number }>(
      "select app_private.fan_out_subscriber_notifications($1, $2) as queued",
      [organizationId, eventId],
    );
    return rows[0]?.queued ?? 0;
  });
  helpers.logger.debug(`event ${eventId}: ${queued} subscriber notifications queued`);
};
