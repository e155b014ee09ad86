/**
 * Verified Stripe events → the organization's plan and billing state (DESIGN.md §9). This is
 * the only code that changes `organizations.plan`; clients never can.
 *
 * Everything for one event happens in one transaction on the owner pool:
 *  - the event id is recorded first (`app_private.stripe_events`), so a replayed delivery finds
 *    it and changes nothing, also when two deliveries race (the second waits on the first's
 *    uncommitted key and then sees it);
 *  - the organization's row and then its billing row are locked, so two events for the same
 *    organization apply one after the other;
 *  - events created before the newest one already applied (`organization_billing.last_event_at`)
 *    are recorded as 'stale' and change nothing: Stripe does not deliver in order.
 *
 * Payloads are read defensively (plain JSON, not the SDK's types): the account's API version
 * decides their shape, and older versions put invoice → subscription links elsewhere.
 */
import type pg from "pg";
import type { ServerConfig } from "../config.ts";
import { planForPrice } from "./stripeClient.ts";

/** What happened to an event; stored in stripe_events.outcome. */
export type EventOutcome = "applied" | "ignored" | "unmatched" | "stale";

export interface ApplyResult {
  duplicate: boolean;
  outcome: EventOutcome | string;
  organizationId: string | null;
}

/** The parts of a Stripe event we rely on, checked before anything is written. */
export interface StripeEventLike {
  id: string;
  type: string;
  created: number;
  data: { object: Record<string, unknown> };
}

type BillingSettings = Pick<ServerConfig, "STRIPE_PRICE_PRO" | "STRIPE_PRICE_ENTERPRISE">;

export function isStripeEventLike(value: unknown): value is StripeEventLike {
  const event = value as Partial<StripeEventLike> | null;
  return (
    typeof event === "object" &&
    event !== null &&
    typeof event.id === "string" &&
    event.id.length > 0 &&
    event.id.length <= 255 &&
    typeof event.type === "string" &&
    event.type.length <= 255 &&
    typeof event.created === "number" &&
    Number.isFinite(event.created) &&
    typeof event.data === "object" &&
    event.data !== null &&
    typeof event.data.object === "object" &&
    event.data.object !== null
  );
}

// ---------------------------------------------------------------------------------------------
// Reading payloads
// ---------------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json | null =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : null;

/** Stripe fields are an id or, when expanded, an object carrying the id. */
function idOf(value: unknown): string | null {
  if (typeof value === "string" && value.length > 0) return value;
  const id = asObject(value)?.id;
  return typeof id === "string" && id.length > 0 ? id : null;
}

/** A metadata organizationId is only a hint: it must look like one of our ids. */
function organizationIdIn(metadata: unknown): string | null {
  const candidate = asObject(metadata)?.organizationId;
  return typeof candidate === "string" && UUID.test(candidate) ? candidate : null;
}

interface SubscriptionFacts {
  subscriptionId: string | null;
  customerId: string | null;
  status: string | null;
  priceId: string | null;
  currentPeriodEnd: number | null;
  metadataOrganizationId: string | null;
}

function subscriptionFacts(subscription: Json, config: BillingSettings): SubscriptionFacts {
  const items = (asObject(subscription.items)?.data as unknown[] | undefined) ?? [];
  const prices = items.map((item) => idOf(asObject(item)?.price)).filter((id): id is string => id !== null);
  // A subscription can carry several items (add-ons); the one with a plan's price decides.
  const priceId = prices.find((id) => planForPrice(config, id) !== null) ?? prices[0] ?? null;
  // API versions before 2025-03 carry the period on the subscription, later ones on each item.
  const periodEnds = [subscription.current_period_end, ...items.map((item) => asObject(item)?.current_period_end)];
  const currentPeriodEnd = periodEnds.find((value): value is number => typeof value === "number") ?? null;
  return {
    subscriptionId: idOf(subscription.id),
    customerId: idOf(subscription.customer),
    status: typeof subscription.status === "string" ? subscription.status : null,
    priceId,
    currentPeriodEnd,
    metadataOrganizationId: organizationIdIn(subscription.metadata),
  };
}

/** An invoice's subscription and its metadata: `parent.subscription_details` since 2025-03. */
function invoiceFacts(invoice: Json) {
  const details = asObject(asObject(invoice.parent)?.subscription_details) ?? asObject(invoice.subscription_details);
  return {
    customerId: idOf(invoice.customer),
    subscriptionId: idOf(details?.subscription) ?? idOf(invoice.subscription),
    metadataOrganizationId: organizationIdIn(details?.metadata),
  };
}

// ---------------------------------------------------------------------------------------------
// The transaction
// ---------------------------------------------------------------------------------------------

interface BillingRow {
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  last_event_at: Date | null;
}

/** What a handler needs: the locked organization, its billing row and the event's time. */
interface EventContext {
  client: pg.PoolClient;
  config: BillingSettings;
  organizationId: string;
  billing: BillingRow;
  eventAt: Date;
}

/**
 * Finds the organization an event is about. Metadata we set ourselves comes first; the stored
 * customer (then subscription) id covers objects created outside our checkout.
 */
async function findOrganization(
  client: pg.PoolClient,
  hints: { organizationId?: string | null; customerId?: string | null; subscriptionId?: string | null },
): Promise<string | null> {
  const lookups: [string, string | null | undefined][] = [
    ["select id from app_public.organizations where id = $1", hints.organizationId],
    [
      "select organization_id as id from app_private.organization_billing where stripe_customer_id = $1",
      hints.customerId,
    ],
    [
      "select organization_id as id from app_private.organization_billing where stripe_subscription_id = $1",
      hints.subscriptionId,
    ],
  ];
  for (const [text, value] of lookups) {
    if (!value) continue;
    const { rows } = await client.query<{ id: string }>(text, [value]);
    if (rows[0]) return rows[0].id;
  }
  return null;
}

/**
 * Locks the organization (the plan-limit triggers lock the same row, so a plan change and a
 * creation serialise), then its billing row, created on first use.
 */
async function lockBilling(client: pg.PoolClient, organizationId: string): Promise<BillingRow | null> {
  const organization = await client.query("select 1 from app_public.organizations where id = $1 for update", [
    organizationId,
  ]);
  if (organization.rowCount === 0) return null;
  await client.query(
    "insert into app_private.organization_billing (organization_id) values ($1) on conflict (organization_id) do nothing",
    [organizationId],
  );
  const { rows } = await client.query<BillingRow>(
    `select stripe_customer_id, stripe_subscription_id, last_event_at
     from app_private.organization_billing where organization_id = $1 for update`,
    [organizationId],
  );
  return rows[0]!;
}

/**
 * Remembers Stripe's ids for the organization, each only if no other organization holds it
 * (the columns are unique; a customer shared by mistake must not abort the event).
 */
async function rememberStripeIds(
  context: EventContext,
  ids: { customerId?: string | null; subscriptionId?: string | null },
): Promise<void> {
  await context.client.query(
    `update app_private.organization_billing b set
       stripe_customer_id = case
         when $2::text is null or exists (select 1 from app_private.organization_billing o
                                          where o.stripe_customer_id = $2 and o.organization_id <> $1)
         then b.stripe_customer_id else $2 end,
       stripe_subscription_id = case
         when $3::text is null or exists (select 1 from app_private.organization_billing o
                                          where o.stripe_subscription_id = $3 and o.organization_id <> $1)
         then b.stripe_subscription_id else $3 end,
       updated_at = now()
     where b.organization_id = $1`,
    [context.organizationId, ids.customerId ?? null, ids.subscriptionId ?? null],
  );
}

type BillingStatus = "active" | "past_due" | "canceled";

/** The one statement that changes an organization's plan or billing state. */
async function setOrganizationBilling(
  context: EventContext,
  change: { plan?: "free" | "pro" | "enterprise"; billingStatus: BillingStatus },
): Promise<void> {
  // past_due_since keeps the first failure's time: the grace period runs from there.
  await context.client.query(
    `update app_public.organizations set
       plan = coalesce($2::app_public.plan, plan),
       billing_status = $3::app_public.billing_status,
       past_due_since = case when $3 = 'past_due' then coalesce(past_due_since, $4) else null end
     where id = $1`,
    [context.organizationId, change.plan ?? null, change.billingStatus, context.eventAt],
  );
}

// ---------------------------------------------------------------------------------------------
// One handler per event kind. Each returns its outcome.
// ---------------------------------------------------------------------------------------------

/** Checkout finished: remember the customer and subscription. The plan follows from the subscription's events. */
async function checkoutCompleted(context: EventContext, session: Json): Promise<EventOutcome> {
  await rememberStripeIds(context, { customerId: idOf(session.customer), subscriptionId: idOf(session.subscription) });
  return "applied";
}

const ACTIVE = new Set(["active", "trialing"]);
const PAST_DUE = new Set(["past_due", "unpaid"]);
const ENDED = new Set(["canceled", "incomplete_expired"]);

/**
 * The organization's current subscription is the stored one. Another subscription (an old one
 * being canceled after an upgrade, an abandoned checkout) must not downgrade the organization;
 * a live one replaces the stored one.
 */
function isCurrentSubscription(context: EventContext, subscriptionId: string | null, status: string | null): boolean {
  const stored = context.billing.stripe_subscription_id;
  if (!stored || !subscriptionId || stored === subscriptionId) return true;
  return status !== null && (ACTIVE.has(status) || PAST_DUE.has(status));
}

async function subscriptionChanged(context: EventContext, subscription: Json, deleted: boolean): Promise<EventOutcome> {
  const facts = subscriptionFacts(subscription, context.config);
  const status = deleted ? "canceled" : facts.status;
  if (!isCurrentSubscription(context, facts.subscriptionId, status)) return "ignored";

  let change: Parameters<typeof setOrganizationBilling>[1] | null = null;
  if (status !== null && ENDED.has(status)) {
    change = { plan: "free", billingStatus: "canceled" };
  } else if (status !== null && (ACTIVE.has(status) || PAST_DUE.has(status))) {
    const plan = planForPrice(context.config, facts.priceId);
    // A price that is not one of ours buys no plan: leave everything as it is.
    if (!plan) return "ignored";
    change = { plan, billingStatus: ACTIVE.has(status) ? "active" : "past_due" };
  }
  // Other statuses (incomplete, paused) wait for the next event; the details are still kept.

  await rememberStripeIds(context, { customerId: facts.customerId, subscriptionId: facts.subscriptionId });
  await context.client.query(
    `update app_private.organization_billing set
       stripe_price_id = coalesce($2, stripe_price_id),
       subscription_status = coalesce($3, subscription_status),
       current_period_end = coalesce(to_timestamp($4::double precision), current_period_end),
       updated_at = now()
     where organization_id = $1`,
    [context.organizationId, facts.priceId, status, facts.currentPeriodEnd],
  );
  if (change) await setOrganizationBilling(context, change);
  return "applied";
}

async function invoiceSettled(context: EventContext, invoice: Json, paid: boolean): Promise<EventOutcome> {
  const facts = invoiceFacts(invoice);
  const stored = context.billing.stripe_subscription_id;
  // An invoice of another subscription (or a one-off invoice) says nothing about the plan's.
  if (stored && facts.subscriptionId && facts.subscriptionId !== stored) return "ignored";
  await rememberStripeIds(context, { customerId: facts.customerId });
  await setOrganizationBilling(context, { billingStatus: paid ? "active" : "past_due" });
  return "applied";
}

interface Handler {
  /** How to find the organization from the event's object. */
  hints(object: Json, config: BillingSettings): Parameters<typeof findOrganization>[1];
  apply(context: EventContext, object: Json): Promise<EventOutcome>;
}

const subscriptionHints: Handler["hints"] = (object, config) => {
  const facts = subscriptionFacts(object, config);
  return {
    organizationId: facts.metadataOrganizationId,
    customerId: facts.customerId,
    subscriptionId: facts.subscriptionId,
  };
};

const invoiceHints: Handler["hints"] = (object) => {
  const facts = invoiceFacts(object);
  return {
    organizationId: facts.metadataOrganizationId,
    customerId: facts.customerId,
    subscriptionId: facts.subscriptionId,
  };
};

const HANDLERS: Record<string, Handler> = {
  "checkout.session.completed": {
    hints: (session) => ({
      organizationId:
        typeof session.client_reference_id === "string" && UUID.test(session.client_reference_id)
          ? session.client_reference_id
          : organizationIdIn(session.metadata),
      customerId: idOf(session.customer),
    }),
    apply: checkoutCompleted,
  },
  "customer.subscription.created": {
    hints: subscriptionHints,
    apply: (context, object) => subscriptionChanged(context, object, false),
  },
  "customer.subscription.updated": {
    hints: subscriptionHints,
    apply: (context, object) => subscriptionChanged(context, object, false),
  },
  "customer.subscription.deleted": {
    hints: subscriptionHints,
    apply: (context, object) => subscriptionChanged(context, object, true),
  },
  "invoice.payment_failed": { hints: invoiceHints, apply: (context, object) => invoiceSettled(context, object, false) },
  "invoice.paid": { hints: invoiceHints, apply: (context, object) => invoiceSettled(context, object, true) },
};

export const HANDLED_EVENT_TYPES = Object.keys(HANDLERS);

/**
 * Records and applies one verified event. Returns `duplicate: true` (and the first delivery's
 * outcome) when the event id was seen before.
 */
export async function applyStripeEvent(
  pool: pg.Pool,
  config: BillingSettings,
  event: StripeEventLike,
): Promise<ApplyResult> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const eventAt = new Date(event.created * 1000);
    const inserted = await client.query(
      `insert into app_private.stripe_events (id, type, event_created_at, outcome)
       values ($1, $2, $3, 'pending') on conflict (id) do nothing`,
      [event.id, event.type, eventAt],
    );
    if (inserted.rowCount === 0) {
      const { rows } = await client.query<{ outcome: string; organization_id: string | null }>(
        "select outcome, organization_id from app_private.stripe_events where id = $1",
        [event.id],
      );
      await client.query("commit");
      return {
        duplicate: true,
        outcome: rows[0]?.outcome ?? "applied",
        organizationId: rows[0]?.organization_id ?? null,
      };
    }

    let outcome: EventOutcome;
    let organizationId: string | null = null;
    const handler = HANDLERS[event.type];
    const object = event.data.object;
    if (!handler) {
      outcome = "ignored";
    } else {
      organizationId = await findOrganization(client, handler.hints(object, config));
      const billing = organizationId ? await lockBilling(client, organizationId) : null;
      if (!organizationId || !billing) {
        organizationId = null;
        outcome = "unmatched";
      } else if (billing.last_event_at && eventAt < billing.last_event_at) {
        // A newer event already decided this organization's state.
        outcome = "stale";
      } else {
        outcome = await handler.apply({ client, config, organizationId, billing, eventAt }, object);
        if (outcome === "applied") {
          await client.query(
            `update app_private.organization_billing
             set last_event_at = greatest(coalesce(last_event_at, $2), $2), updated_at = now()
             where organization_id = $1`,
            [organizationId, eventAt],
          );
        }
      }
    }

    await client.query("update app_private.stripe_events set outcome = $2, organization_id = $3 where id = $1", [
      event.id,
      outcome,
      organizationId,
    ]);
    await client.query("commit");
    return { duplicate: false, outcome, organizationId };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
