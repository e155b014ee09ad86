import type { Task } from "graphile-worker";
import { z } from "zod";
import type { WorkerContext } from "../index.ts";
import { tenantPayload, withOrganization } from "../tenantContext.ts";

const disabledPayload = tenantPayload.extend({
  table: z.enum(["webhook_endpoints", "chat_integrations"]),
  targetId: z.string().uuid(),
});

interface DisabledTarget {
  label: string;
  organization_name: string;
  still_disabled: boolean;
  owners: string[];
}

// The chat URL is a secret: its integration is named by its label and kind, never its URL.
const LOAD_TARGET = {
  webhook_endpoints: `
    select 'the webhook endpoint ' || t.url as label, o.name as organization_name,
           t.disabled_reason = 'failing' as still_disabled
    from app_public.webhook_endpoints t join app_public.organizations o on o.id = t.organization_id
    where t.organization_id = $1 and t.id = $2`,
  chat_integrations: `
    select format('the %s integration "%s"', initcap(t.kind::text), t.name) as label, o.name as organization_name,
           t.disabled_reason = 'failing' as still_disabled
    from app_public.chat_integrations t join app_public.organizations o on o.id = t.organization_id
    where t.organization_id = $1 and t.id = $2`,
};

const OWNER_EMAILS = `
  select u.email::text as email
  from app_public.organization_memberships m join app_public.users u on u.id = m.user_id
  where m.organization_id = $1 and m.role = 'owner'
  order by u.email`;

/**
 * Tells the organization's owners, one message each, that a webhook endpoint or chat
 * integration was turned off because its deliveries kept failing. Queued once per turning-off
 * by a trigger (job key per target); skipped when someone turned it back on meanwhile.
 */
export function webhook_targets__notify_disabled(context: WorkerContext): Task {
  return async (payload, helpers) => {
    const { organizationId, table, targetId } = disabledPayload.parse(payload);
    const target = await withOrganization(helpers, organizationId, async (client): Promise<DisabledTarget | null> => {
      const { rows } = await client.query<Omit<DisabledTarget, "owners">>(LOAD_TARGET[table], [
        organizationId,
        targetId,
      ]);
      if (!rows[0]) return null;
      const owners = await client.query<{ email: string }>(OWNER_EMAILS, [organizationId]);
      return { ...rows[0], owners: owners.rows.map((row) => row.email) };
    });
    if (!target?.still_disabled) return;
    const dashboard = `${context.publicUrl()}/`;
    for (const owner of target.owners) {
      await context.mailer.send({
        to: owner,
        subject: `[${target.organization_name}] Turned off ${target.label}`,
        text: [
          `Every attempt to deliver an event to ${target.label} failed for about a day,`,
          `so IncidentPulse turned it off for ${target.organization_name}. No events are sent to it until`,
          `an owner or admin turns it back on.`,
          "",
          `The delivery log shows each attempt with the receiver's answer or the error: ${dashboard}`,
        ].join("\n"),
      });
    }
  };
}
