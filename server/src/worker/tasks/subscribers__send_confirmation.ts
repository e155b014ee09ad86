import type { Task } from "graphile-worker";
import { z } from "zod";
import { confirmationMail, PageLinks, type PageOrganization } from "../../subscribers/messages.ts";
import { issueConfirmationToken, unsubscribeTokenFor } from "../../subscribers/tokens.ts";
import type { WorkerContext } from "../index.ts";
import { tenantPayload, withOrganization } from "../tenantContext.ts";

const payloadSchema = tenantPayload.extend({ subscriberId: z.string().uuid() });

/**
 * Mails a pending subscriber the link that confirms their address (double opt-in). The token
 * is minted here and committed only once the mail is accepted, so a failed send leaves no
 * usable link behind; a subscriber who confirmed or left meanwhile gets nothing.
 */
export const subscribers__send_confirmation =
  (context: WorkerContext): Task =>
  async (payload, helpers) => {
    const { organizationId, subscriberId } = payloadSchema.parse(payload);
    await withOrganization(helpers, organizationId, async (client) => {
      const { rows } = await client.query<{
        email: string;
        organization: PageOrganization;
        service_names: string[];
      }>(
        `select s.email::text, app_private.event_organization_json(s.organization_id) as organization,
                array(select sv.name from app_public.subscriber_services ss
                      join app_public.services sv on sv.organization_id = ss.organization_id and sv.id = ss.service_id
                      where ss.organization_id = s.organization_id and ss.subscriber_id = s.id
                      order by sv.position, sv.name) as service_names
         from app_public.subscribers s
         where s.organization_id = $1 and s.id = $2 and s.status = 'pending'
         for update of s`,
        [organizationId, subscriberId],
      );
      const subscriber = rows[0];
      if (!subscriber) return;
      const confirmationToken = await issueConfirmationToken(client, organizationId, subscriberId);
      const unsubscribeToken = await unsubscribeTokenFor(client, context.secrets, organizationId, subscriberId);
      await context.mailer.send(
        confirmationMail({
          to: subscriber.email,
          organization: subscriber.organization,
          serviceNames: subscriber.service_names,
          links: new PageLinks(context.publicUrl(), subscriber.organization),
          confirmationToken,
          unsubscribeToken,
        }),
      );
    });
  };
