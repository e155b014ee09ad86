import type { Task } from "graphile-worker";
import { z } from "zod";
import { notificationMail, PageLinks, type SubscriberEventPayload } from "../../subscribers/messages.ts";
import { unsubscribeTokenFor } from "../../subscribers/tokens.ts";
import type { WorkerContext } from "../index.ts";
import { tenantPayload, withOrganization } from "../tenantContext.ts";

const payloadSchema = tenantPayload.extend({ eventId: z.string().uuid(), subscriberId: z.string().uuid() });

/**
 * Mails one event to one subscriber, once. The recipient's row stays locked while the message
 * is handed to the mail server and is marked sent in the same transaction, so a retried or
 * duplicated job finds it sent and does nothing. Someone who unsubscribed since the event
 * was fanned out is skipped.
 */
export const subscribers__send_notification =
  (context: WorkerContext): Task =>
  async (payload, helpers) => {
    const { organizationId, eventId, subscriberId } = payloadSchema.parse(payload);
    await withOrganization(helpers, organizationId, async (client) => {
      const { rows } = await client.query<{
        email: string;
        subscribed: boolean;
        type: string;
        payload: SubscriberEventPayload;
      }>(
        `select s.email::text, s.status = 'confirmed' as subscribed, e.type, e.payload
         from app_private.subscriber_notifications n
         join app_public.subscribers s on s.organization_id = n.organization_id and s.id = n.subscriber_id
         join app_public.events e on e.organization_id = n.organization_id and e.id = n.event_id
         where n.organization_id = $1 and n.event_id = $2 and n.subscriber_id = $3 and n.sent_at is null
         for update of n`,
        [organizationId, eventId, subscriberId],
      );
      const notification = rows[0];
      if (!notification?.subscribed) return;
      const unsubscribeToken = await unsubscribeTokenFor(client, context.secrets, organizationId, subscriberId);
      const message = notificationMail({
        to: notification.email,
        eventType: notification.type,
        payload: notification.payload,
        links: new PageLinks(context.publicUrl(), notification.payload.organization),
        unsubscribeToken,
      });
      if (message) await context.mailer.send(message);
      await client.query(
        `update app_private.subscriber_notifications set sent_at = now()
         where organization_id = $1 and event_id = $2 and subscriber_id = $3`,
        [organizationId, eventId, subscriberId],
      );
    });
  };
