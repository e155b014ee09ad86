/**
 * A committed world for the generated isolation tests: organizations A and B (see world.ts),
 * each with at least one row in every tenant table, API keys of A per role and an alert source
 * of A to act as. Each organization is seeded in a transaction of its own with its id as the
 * active organization, so the deferred triggers that record events at commit (SECURITY DEFINER,
 * fenced to the active organization) write them too.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type pg from "pg";
import { addMember, createInvitation, createUser, type OrganizationFixture } from "./factories.ts";
import { seedOrganization, type OrgSeed } from "./incidentFixtures.ts";
import type { Client } from "./transactions.ts";
import { createWorld, type World } from "./world.ts";

export type KeyRole = "viewer" | "editor" | "admin";
export const KEY_ROLES: readonly KeyRole[] = ["viewer", "editor", "admin"];

export interface OrgExtras {
  alertSourceId: string;
  apiKeyIds: Record<KeyRole, string>;
  webhookEndpointId: string;
  chatIntegrationId: string;
  subscriberId: string;
  eventId: string;
  /** A viewer who is no test actor: the target of membership changes in the role grid. */
  spareUserId: string;
}

export interface FullWorld {
  world: World;
  a: OrgSeed & OrgExtras;
  b: OrgSeed & OrgExtras;
}

async function inTransaction<T>(pool: pg.Pool, organizationId: string | null, fn: (c: Client) => Promise<T>) {
  const client = await pool.connect();
  try {
    await client.query("begin");
    if (organizationId) await client.query("select set_config('jwt.claims.org_id', $1, true)", [organizationId]);
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const one = async (client: Client, text: string, values: unknown[]) =>
  (await client.query<{ id: string }>(text, values)).rows[0]!.id;

/** Rows of the tables seedOrganization leaves empty, inserted as root in the organization. */
async function seedExtras(client: Client, org: string, seed: OrgSeed): Promise<OrgExtras> {
  const o = seed.organizationId;
  const spare = await createUser(client, `Spare ${org}`);
  await addMember(client, o, spare.id, "viewer");
  const apiKeyIds = {} as Record<KeyRole, string>;
  for (const role of KEY_ROLES) {
    apiKeyIds[role] = await one(
      client,
      "insert into app_public.api_keys (organization_id, name, role, display_prefix) values ($1, $2, $3, 'ipk_test') returning id",
      [o, `${org} ${role} key`, role],
    );
    await client.query(
      "insert into app_private.api_key_hashes (key_hash, organization_id, api_key_id) values ($1, $2, $3)",
      [randomBytes(32), o, apiKeyIds[role]],
    );
  }
  const alertSourceId = await one(
    client,
    "insert into app_public.alert_sources (organization_id, name, default_service_id, secret_hint) values ($1, $2, $3, 'ips_…abcd') returning id",
    [o, `${org} monitor`, seed.serviceId],
  );
  await client.query(
    "insert into app_private.alert_source_secrets (alert_source_id, organization_id, sealed_secret) values ($1, $2, $3)",
    [alertSourceId, o, randomBytes(48)],
  );
  await client.query(
    `insert into app_public.incident_alerts (organization_id, alert_source_id, fingerprint, incident_id)
     values ($1, $2, $3, $4)`,
    [o, alertSourceId, `fp-${org}`, seed.incidentId],
  );
  await client.query(
    `insert into app_public.alert_requests (organization_id, alert_source_id, accepted, code, http_status, alert_count,
       incident_ids, authenticated_by, api_key_id, idempotency_key, body_excerpt)
     values ($1, $2, true, 'ACCEPTED', 202, 1, $3, 'api_key', $4, $5, '{}')`,
    [o, alertSourceId, [seed.incidentId], apiKeyIds.editor, `idem-${org}`],
  );
  await client.query(
    `insert into app_private.alert_idempotency_keys (organization_id, alert_source_id, idempotency_key, request_hash, response)
     values ($1, $2, $3, 'hash', '{}')`,
    [o, alertSourceId, `idem-${org}`],
  );
  const webhookEndpointId = await one(
    client,
    `insert into app_public.webhook_endpoints (organization_id, url, description, secret_hint)
     values ($1, $2, $3, 'whsec_…abcd') returning id`,
    [o, `https://hooks.example.com/${org}`, `${org} receiver`],
  );
  await client.query(
    "insert into app_private.webhook_endpoint_secrets (organization_id, webhook_endpoint_id, sealed_secret) values ($1, $2, $3)",
    [o, webhookEndpointId, randomBytes(48)],
  );
  const chatIntegrationId = await one(
    client,
    `insert into app_public.chat_integrations (organization_id, kind, name, url_hint)
     values ($1, 'slack', $2, 'https://hooks.slack.com/…abcd') returning id`,
    [o, `${org} channel`],
  );
  await client.query(
    "insert into app_private.chat_integration_urls (organization_id, chat_integration_id, sealed_url) values ($1, $2, $3)",
    [o, chatIntegrationId, randomBytes(48)],
  );
  const eventId = await one(
    client,
    `insert into app_public.events (organization_id, type, subject_id, is_public, payload)
     values ($1, 'incident.updated', $2, false, '{}') returning id`,
    [o, seed.incidentId],
  );
  await client.query(
    `insert into app_public.webhook_deliveries (organization_id, webhook_endpoint_id, event_id, event_type, origin, message_id)
     values ($1, $2, $3, 'incident.updated', 'event', $4)`,
    [o, webhookEndpointId, eventId, `msg_${randomUUID()}`],
  );
  const subscriberId = await one(
    client,
    `insert into app_public.subscribers (organization_id, email, status, source, confirmed_at)
     values ($1, $2, 'confirmed', 'import', now()) returning id`,
    [o, `subscriber-${org}-${randomBytes(3).toString("hex")}@example.com`],
  );
  await client.query(
    "insert into app_public.subscriber_services (organization_id, subscriber_id, service_id) values ($1, $2, $3)",
    [o, subscriberId, seed.serviceId],
  );
  await client.query(
    `insert into app_private.subscriber_confirmation_tokens (token_hash, organization_id, subscriber_id, expires_at)
     values ($1, $2, $3, now() + interval '7 days')`,
    [randomBytes(32), o, subscriberId],
  );
  await client.query(
    `insert into app_private.subscriber_unsubscribe_tokens (organization_id, subscriber_id, token_hash, sealed_token)
     values ($1, $2, $3, $4)`,
    [o, subscriberId, randomBytes(32), randomBytes(48)],
  );
  await client.query(
    "insert into app_private.subscriber_notifications (organization_id, event_id, subscriber_id) values ($1, $2, $3)",
    [o, eventId, subscriberId],
  );
  await client.query(
    `insert into app_public.service_uptime_days (organization_id, service_id, day, operational_seconds)
     values ($1, $2, current_date - 1, 86400)`,
    [o, seed.serviceId],
  );
  await client.query(
    `insert into app_public.incident_update_service_changes (organization_id, incident_update_id, service_id, old_status, new_status)
     values ($1, $2, $3, 'operational', 'degraded_performance') on conflict do nothing`,
    [o, seed.updateId, seed.serviceId],
  );
  await client.query(
    `insert into app_public.status_page_settings (organization_id, title, published) values ($1, $2, true)
     on conflict (organization_id) do nothing`,
    [o, `${org} status`],
  );
  // The public view, built the way the worker builds it.
  await client.query("select app_private.rebuild_status_snapshot($1)", [o]);
  await createInvitation(client, o, `invited-${org}-${randomBytes(3).toString("hex")}@example.com`, "viewer");
  await client.query(
    "insert into app_private.organization_billing (organization_id, stripe_customer_id) values ($1, $2) on conflict do nothing",
    [o, `cus_${org}${randomBytes(4).toString("hex")}`],
  );
  await client.query(
    `insert into app_private.stripe_events (id, type, event_created_at, organization_id, outcome)
     values ($1, 'customer.subscription.updated', now(), $2, 'applied')`,
    [`evt_${randomBytes(8).toString("hex")}`, o],
  );
  return {
    alertSourceId,
    apiKeyIds,
    webhookEndpointId,
    chatIntegrationId,
    subscriberId,
    eventId,
    spareUserId: spare.id,
  };
}

/** Creates and commits the world: call once per test database. */
export async function createFullWorld(pool: pg.Pool): Promise<FullWorld> {
  const world = await inTransaction(pool, null, async (client) => {
    const created = await createWorld(client);
    await client.query("update app_public.organizations set plan = 'enterprise' where id = any($1)", [
      [created.a.id, created.b.id],
    ]);
    return created;
  });
  const a = await seedOrganizationFully(pool, world.a, "a");
  const b = await seedOrganizationFully(pool, world.b, "b");
  return { world, a, b };
}

/**
 * One row or more in every tenant table of an existing organization (committed), `label` making
 * its names recognisable. Extra rows go in through `more`, in the same transaction.
 */
export function seedOrganizationFully(
  pool: pg.Pool,
  organization: OrganizationFixture,
  label: string,
  more?: (client: Client, seed: OrgSeed & OrgExtras) => Promise<void>,
): Promise<OrgSeed & OrgExtras> {
  return inTransaction(pool, organization.id, async (client) => {
    const seed = await seedOrganization(client, organization);
    const full = { ...seed, ...(await seedExtras(client, label, seed)) };
    if (more) await more(client, full);
    return full;
  });
}
