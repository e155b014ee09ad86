/**
 * Turns a pending delivery row into the request to make: for a webhook endpoint, the signed
 * Standard Webhooks body `{ type, timestamp, data }`; for a chat integration, the message in
 * its service's format. Runs in the worker's transaction for the delivery's organization, so
 * everything it reads (the event, the target, its sealed secret) belongs to that organization.
 */
import type { PoolClient } from "pg";
import type { SecretBox } from "../secretBox.ts";
import { chatMessage, type ChatKind } from "../chat/messages.ts";
import { summarizeEvent } from "../chat/eventSummary.ts";
import { withoutInternalDetails } from "../publicPayload.ts";
import { webhookHeaders } from "./signature.ts";

export interface PreparedDelivery {
  url: string;
  body: string;
  headers: Record<string, string>;
  origin: "event" | "test" | "redelivery";
  attempt: number;
}

interface DeliveryRow {
  id: string;
  status: string;
  origin: PreparedDelivery["origin"];
  attempt: number;
  message_id: string;
  event_type: string;
  endpoint_url: string | null;
  endpoint_enabled: boolean | null;
  /** The target's settings now: they may have changed since the delivery was queued. */
  include_internal: boolean | null;
  subscribed_types: string[] | null;
  sealed_secret: Buffer | null;
  chat_kind: ChatKind | null;
  chat_enabled: boolean | null;
  chat_include_internal: boolean | null;
  sealed_url: Buffer | null;
  event_payload: Record<string, unknown> | null;
  event_is_public: boolean | null;
  event_created_at: Date | null;
  organization: Record<string, unknown>;
}

const LOAD_DELIVERY = `
  select d.id, d.status, d.origin, d.attempt, d.message_id, d.event_type,
         e.url as endpoint_url, e.enabled as endpoint_enabled, s.sealed_secret,
         coalesce(e.include_internal, c.include_internal) as include_internal,
         coalesce(e.event_types, c.event_types) as subscribed_types,
         c.kind as chat_kind, c.enabled as chat_enabled, c.include_internal as chat_include_internal, u.sealed_url,
         ev.payload as event_payload, ev.is_public as event_is_public, ev.created_at as event_created_at,
         app_private.event_organization_json(d.organization_id) as organization
  from app_public.webhook_deliveries d
  left join app_public.webhook_endpoints e on e.organization_id = d.organization_id and e.id = d.webhook_endpoint_id
  left join app_private.webhook_endpoint_secrets s
    on s.organization_id = d.organization_id and s.webhook_endpoint_id = d.webhook_endpoint_id
  left join app_public.chat_integrations c on c.organization_id = d.organization_id and c.id = d.chat_integration_id
  left join app_private.chat_integration_urls u
    on u.organization_id = d.organization_id and u.chat_integration_id = d.chat_integration_id
  left join app_public.events ev on ev.organization_id = d.organization_id and ev.id = d.event_id
  where d.organization_id = $1 and d.id = $2
  for update of d`;

const CANCEL_DELIVERY = `
  update app_public.webhook_deliveries
  set status = 'canceled', finished_at = now(), error = $3
  where organization_id = $1 and id = $2`;

/** Why a queued delivery must not go out any more, or null when it still may. */
function reasonToCancel(row: DeliveryRow): string | null {
  if (!(row.endpoint_enabled ?? row.chat_enabled)) return "The endpoint was turned off before this attempt.";
  if (row.event_type === "test") return null;
  const types = row.subscribed_types ?? [];
  if (types.length > 0 && !types.includes(row.event_type)) {
    return "The endpoint no longer subscribes to this event type.";
  }
  if (row.event_is_public !== true && row.include_internal !== true) {
    return "The endpoint no longer receives internal events.";
  }
  return null;
}

export interface PrepareOptions {
  secrets: SecretBox;
  publicUrl: string;
  now?: Date;
}

/**
 * Null when there is nothing to send: already handled, or canceled because the target was
 * turned off or no longer wants this event (its settings are read at each attempt).
 */
export async function prepareDelivery(
  client: PoolClient,
  organizationId: string,
  deliveryId: string,
  { secrets, publicUrl, now = new Date() }: PrepareOptions,
): Promise<PreparedDelivery | null> {
  const { rows } = await client.query<DeliveryRow>(LOAD_DELIVERY, [organizationId, deliveryId]);
  const row = rows[0];
  if (!row || row.status !== "pending") return null;
  const cancelBecause = reasonToCancel(row);
  if (cancelBecause) {
    await client.query(CANCEL_DELIVERY, [organizationId, deliveryId, cancelBecause]);
    return null;
  }
  const test = row.event_type === "test";
  const data = test
    ? { organization: row.organization, message: "This is a test event from IncidentPulse." }
    : row.include_internal
      ? row.event_payload!
      : withoutInternalDetails(row.event_payload!);
  const common = { origin: row.origin, attempt: row.attempt };

  if (row.endpoint_url !== null && row.sealed_secret) {
    const body = JSON.stringify({
      type: row.event_type,
      timestamp: (test ? now : row.event_created_at!).toISOString(),
      data,
    });
    const secret = secrets.open(row.sealed_secret);
    return { ...common, url: row.endpoint_url, body, headers: webhookHeaders(secret, row.message_id, body, now) };
  }
  const summary = summarizeEvent({
    type: row.event_type,
    isPublic: test || row.event_is_public === true,
    payload: data,
    publicUrl,
    includeInternal: row.chat_include_internal === true,
  });
  return {
    ...common,
    url: secrets.open(row.sealed_url!),
    body: JSON.stringify(chatMessage(row.chat_kind!, summary)),
    headers: {},
  };
}
