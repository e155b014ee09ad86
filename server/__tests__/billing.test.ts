/**
 * Stripe billing over HTTP: signed webhook events change plans (and nothing else does),
 * replays and late events change nothing, and the owner-only mutations hand out Stripe URLs.
 * Nothing reaches Stripe: events are signed locally with the stripe library's own test helper,
 * and the API calls go to a small fake Stripe on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

const WEBHOOK_SECRET = "whsec_test_incidentpulse_billing_secret";
const PRICE_PRO = "price_test_pro";
const PRICE_ENTERPRISE = "price_test_enterprise";
const WEBHOOK_PATH = "/billing/stripe/webhook";

// ---------------------------------------------------------------------------------------------
// A fake Stripe API: records requests, answers the three endpoints billing uses.
// ---------------------------------------------------------------------------------------------

interface RecordedRequest {
  method: string;
  path: string;
  params: URLSearchParams;
  headers: IncomingMessage["headers"];
}

interface FakeStripe {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

async function startFakeStripe(): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  let counter = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!;
      const params = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      requests.push({ method: req.method ?? "", path, params, headers: req.headers });
      const id = ++counter;
      let body: object | null = null;
      if (req.method === "POST" && path === "/v1/customers") {
        body = { id: `cus_fake_${id}`, object: "customer", metadata: {} };
      } else if (req.method === "POST" && path === "/v1/checkout/sessions") {
        body = {
          id: `cs_fake_${id}`,
          object: "checkout.session",
          url: `https://checkout.stripe.test/c/pay/cs_fake_${id}`,
        };
      } else if (req.method === "POST" && path === "/v1/billing_portal/sessions") {
        body = {
          id: `bps_fake_${id}`,
          object: "billing_portal.session",
          url: `https://billing.stripe.test/p/session/bps_fake_${id}`,
        };
      }
      res.setHeader("content-type", "application/json");
      if (!body) {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { type: "invalid_request_error", message: `No fake for ${path}` } }));
        return;
      }
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", () => resolveListen()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Servers: one with Stripe configured (pointed at the fake), one without any Stripe settings.
// ---------------------------------------------------------------------------------------------

let fake: FakeStripe;
let server: TestServer;
let unconfigured: TestServer;

beforeAll(async () => {
  fake = await startFakeStripe();
  [server, unconfigured] = await Promise.all([
    startTestServer({
      MULTI_TENANT_ENABLED: "true",
      STRIPE_SECRET_KEY: "sk_test_fake_key",
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_PRICE_PRO: PRICE_PRO,
      STRIPE_PRICE_ENTERPRISE: PRICE_ENTERPRISE,
      STRIPE_API_URL: fake.url,
    }),
    startTestServer({ MULTI_TENANT_ENABLED: "true" }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), unconfigured?.stop()]);
  await fake?.close();
});

// ---------------------------------------------------------------------------------------------
// Events and their delivery
// ---------------------------------------------------------------------------------------------

let eventCounter = 0;
let slugCounter = 0;
/** Event creation times: distinct, increasing, a little in the past like real deliveries. */
const BASE_CREATED = Math.floor(Date.now() / 1000) - 3600;

interface EventOptions {
  id?: string;
  created?: number;
}

function event(type: string, object: Record<string, unknown>, options: EventOptions = {}) {
  eventCounter += 1;
  return {
    id: options.id ?? `evt_test_${process.pid}_${eventCounter}`,
    object: "event",
    api_version: "2025-03-31.basil",
    created: options.created ?? BASE_CREATED + eventCounter,
    livemode: false,
    type,
    data: { object },
  };
}

interface SubscriptionOptions extends EventOptions {
  subscriptionId: string;
  customerId: string;
  status: string;
  price?: string;
  organizationId?: string;
}

function subscriptionEvent(type: string, options: SubscriptionOptions) {
  return event(
    type,
    {
      id: options.subscriptionId,
      object: "subscription",
      customer: options.customerId,
      status: options.status,
      metadata: options.organizationId ? { organizationId: options.organizationId } : {},
      items: {
        object: "list",
        data: [
          {
            id: `si_${options.subscriptionId}`,
            object: "subscription_item",
            price: { id: options.price ?? PRICE_PRO, object: "price" },
            current_period_end: BASE_CREATED + 30 * 24 * 3600,
          },
        ],
      },
    },
    options,
  );
}

function invoiceEvent(
  type: string,
  options: EventOptions & { customerId: string; subscriptionId: string; organizationId?: string },
) {
  return event(
    type,
    {
      id: `in_test_${eventCounter + 1}`,
      object: "invoice",
      customer: options.customerId,
      parent: {
        type: "subscription_details",
        subscription_details: {
          subscription: options.subscriptionId,
          metadata: options.organizationId ? { organizationId: options.organizationId } : {},
        },
      },
    },
    options,
  );
}

function checkoutCompletedEvent(
  options: EventOptions & { organizationId: string; customerId: string; subscriptionId: string },
) {
  return event(
    "checkout.session.completed",
    {
      id: `cs_test_${eventCounter + 1}`,
      object: "checkout.session",
      mode: "subscription",
      client_reference_id: options.organizationId,
      customer: options.customerId,
      subscription: options.subscriptionId,
    },
    options,
  );
}

interface Delivery {
  status: number;
  body: { received?: boolean; duplicate?: boolean; outcome?: string; errors?: { extensions: { code: string } }[] };
  code: string | undefined;
}

async function post(target: TestServer, payload: string, headers: Record<string, string>): Promise<Delivery> {
  const response = await fetch(`${target.url}${WEBHOOK_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: payload,
  });
  const body = (await response.json()) as Delivery["body"];
  return { status: response.status, body, code: body.errors?.[0]?.extensions.code };
}

/** Signs like Stripe does (HMAC over timestamp + raw body) and delivers. */
async function deliver(
  payloadObject: object | string,
  options: { secret?: string; timestamp?: number; target?: TestServer } = {},
): Promise<Delivery> {
  const payload = typeof payloadObject === "string" ? payloadObject : JSON.stringify(payloadObject);
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? WEBHOOK_SECRET,
    timestamp: options.timestamp,
  });
  return post(options.target ?? server, payload, { "stripe-signature": signature });
}

// ---------------------------------------------------------------------------------------------
// Database state
// ---------------------------------------------------------------------------------------------

async function newOrganization(): Promise<string> {
  slugCounter += 1;
  const slug = `billing-${process.pid}-${slugCounter}`;
  const { rows } = await server.db.rootPool.query<{ id: string }>(
    "insert into app_public.organizations (name, slug) values ($1, $2) returning id",
    [slug, slug],
  );
  return rows[0]!.id;
}

async function organizationState(organizationId: string, target: TestServer = server) {
  const { rows } = await target.db.rootPool.query<{
    plan: string;
    billing_status: string;
    past_due_since: Date | null;
  }>("select plan, billing_status, past_due_since from app_public.organizations where id = $1", [organizationId]);
  return rows[0]!;
}

async function billingRow(organizationId: string, target: TestServer = server) {
  const { rows } = await target.db.rootPool.query<{
    stripe_customer_id: string | null;
    stripe_subscription_id: string | null;
    stripe_price_id: string | null;
    subscription_status: string | null;
    last_event_at: Date | null;
  }>("select * from app_private.organization_billing where organization_id = $1", [organizationId]);
  return rows[0];
}

async function recordedEvent(id: string, target: TestServer = server) {
  const { rows } = await target.db.rootPool.query<{ outcome: string; organization_id: string | null; type: string }>(
    "select outcome, organization_id, type from app_private.stripe_events where id = $1",
    [id],
  );
  return rows[0];
}

async function recordedEventCount(target: TestServer = server): Promise<number> {
  const { rows } = await target.db.rootPool.query<{ n: number }>(
    "select count(*)::int as n from app_private.stripe_events",
  );
  return rows[0]!.n;
}

const at = (created: number) => new Date(created * 1000).toISOString();

/** An organization on pro through the normal sequence: checkout completed, subscription created. */
async function proOrganization() {
  const organizationId = await newOrganization();
  const ids = { customerId: `cus_${organizationId.slice(0, 8)}`, subscriptionId: `sub_${organizationId.slice(0, 8)}` };
  expect((await deliver(checkoutCompletedEvent({ organizationId, ...ids }))).status).toBe(200);
  const created = await deliver(
    subscriptionEvent("customer.subscription.created", { ...ids, status: "active", organizationId }),
  );
  expect(created.body).toMatchObject({ received: true, duplicate: false, outcome: "applied" });
  expect(await organizationState(organizationId)).toMatchObject({ plan: "pro", billing_status: "active" });
  return { organizationId, ...ids };
}

// ---------------------------------------------------------------------------------------------
// Webhook: each event kind
// ---------------------------------------------------------------------------------------------

describe("Stripe webhook: verified events", () => {
  it("checkout.session.completed stores the customer and subscription of client_reference_id's organization", async () => {
    const organizationId = await newOrganization();
    const completed = checkoutCompletedEvent({
      organizationId,
      customerId: "cus_checkout_1",
      subscriptionId: "sub_c1",
    });
    const result = await deliver(completed);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ received: true, duplicate: false, outcome: "applied" });
    expect(await billingRow(organizationId)).toMatchObject({
      stripe_customer_id: "cus_checkout_1",
      stripe_subscription_id: "sub_c1",
      last_event_at: new Date(completed.created * 1000),
    });
    // Checkout alone does not change the plan: the subscription's events do.
    expect(await organizationState(organizationId)).toMatchObject({ plan: "free", billing_status: "none" });
    expect(await recordedEvent(completed.id)).toEqual({
      outcome: "applied",
      organization_id: organizationId,
      type: "checkout.session.completed",
    });
  });

  it("customer.subscription.created with the pro price (matched by metadata) makes the organization pro and active", async () => {
    const organizationId = await newOrganization();
    const created = subscriptionEvent("customer.subscription.created", {
      subscriptionId: "sub_meta_1",
      customerId: "cus_meta_1",
      status: "active",
      organizationId,
    });
    expect((await deliver(created)).status).toBe(200);
    expect(await organizationState(organizationId)).toEqual({
      plan: "pro",
      billing_status: "active",
      past_due_since: null,
    });
    expect(await billingRow(organizationId)).toMatchObject({
      stripe_customer_id: "cus_meta_1",
      stripe_subscription_id: "sub_meta_1",
      stripe_price_id: PRICE_PRO,
      subscription_status: "active",
    });
  });

  it("customer.subscription.updated to the enterprise price (matched by the stored customer, no metadata) makes it enterprise", async () => {
    const { organizationId, customerId, subscriptionId } = await proOrganization();
    const updated = subscriptionEvent("customer.subscription.updated", {
      subscriptionId,
      customerId,
      status: "trialing",
      price: PRICE_ENTERPRISE,
    });
    expect((await deliver(updated)).body.outcome).toBe("applied");
    expect(await organizationState(organizationId)).toMatchObject({ plan: "enterprise", billing_status: "active" });
    expect((await billingRow(organizationId))?.stripe_price_id).toBe(PRICE_ENTERPRISE);
  });

  it("past_due keeps the first failure's time, unpaid stays past due, active clears it", async () => {
    const { organizationId, customerId, subscriptionId } = await proOrganization();
    const pastDue = subscriptionEvent("customer.subscription.updated", {
      subscriptionId,
      customerId,
      status: "past_due",
    });
    await deliver(pastDue);
    expect(await organizationState(organizationId)).toEqual({
      plan: "pro",
      billing_status: "past_due",
      past_due_since: new Date(pastDue.created * 1000),
    });

    const unpaid = subscriptionEvent("customer.subscription.updated", { subscriptionId, customerId, status: "unpaid" });
    await deliver(unpaid);
    const stillPastDue = await organizationState(organizationId);
    expect(stillPastDue.billing_status).toBe("past_due");
    expect(stillPastDue.past_due_since?.toISOString()).toBe(at(pastDue.created));

    await deliver(subscriptionEvent("customer.subscription.updated", { subscriptionId, customerId, status: "active" }));
    expect(await organizationState(organizationId)).toEqual({
      plan: "pro",
      billing_status: "active",
      past_due_since: null,
    });
  });

  it.each(["canceled", "incomplete_expired"])(
    "customer.subscription.updated with status %s drops to free and canceled",
    async (status) => {
      const { organizationId, customerId, subscriptionId } = await proOrganization();
      await deliver(subscriptionEvent("customer.subscription.updated", { subscriptionId, customerId, status }));
      expect(await organizationState(organizationId)).toEqual({
        plan: "free",
        billing_status: "canceled",
        past_due_since: null,
      });
    },
  );

  it("customer.subscription.deleted drops to free and canceled", async () => {
    const { organizationId, customerId, subscriptionId } = await proOrganization();
    const deleted = subscriptionEvent("customer.subscription.deleted", {
      subscriptionId,
      customerId,
      status: "active",
    });
    expect((await deliver(deleted)).body.outcome).toBe("applied");
    expect(await organizationState(organizationId)).toMatchObject({ plan: "free", billing_status: "canceled" });
  });

  it("invoice.payment_failed marks past due from the first failure; invoice.paid makes it active again", async () => {
    const { organizationId, customerId, subscriptionId } = await proOrganization();
    const failed = invoiceEvent("invoice.payment_failed", { customerId, subscriptionId });
    await deliver(failed);
    expect(await organizationState(organizationId)).toEqual({
      plan: "pro",
      billing_status: "past_due",
      past_due_since: new Date(failed.created * 1000),
    });

    await deliver(invoiceEvent("invoice.payment_failed", { customerId, subscriptionId }));
    expect((await organizationState(organizationId)).past_due_since?.toISOString()).toBe(at(failed.created));

    await deliver(invoiceEvent("invoice.paid", { customerId, subscriptionId }));
    expect(await organizationState(organizationId)).toEqual({
      plan: "pro",
      billing_status: "active",
      past_due_since: null,
    });
  });

  it("deleting an old subscription after moving to a new one does not downgrade", async () => {
    const { organizationId, customerId, subscriptionId } = await proOrganization();
    await deliver(
      subscriptionEvent("customer.subscription.created", {
        subscriptionId: `${subscriptionId}_new`,
        customerId,
        status: "active",
        price: PRICE_ENTERPRISE,
        organizationId,
      }),
    );
    expect((await billingRow(organizationId))?.stripe_subscription_id).toBe(`${subscriptionId}_new`);
    const oldDeleted = subscriptionEvent("customer.subscription.deleted", {
      subscriptionId,
      customerId,
      status: "canceled",
    });
    expect((await deliver(oldDeleted)).body.outcome).toBe("ignored");
    expect(await organizationState(organizationId)).toMatchObject({ plan: "enterprise", billing_status: "active" });
  });
});

// ---------------------------------------------------------------------------------------------
// Webhook: what must change nothing
// ---------------------------------------------------------------------------------------------

describe("Stripe webhook: refusals, replays and late events", () => {
  it("refuses a wrong secret, a tampered body, a missing and a stale signature with INVALID_SIGNATURE, recording nothing", async () => {
    const organizationId = await newOrganization();
    const upgrade = subscriptionEvent("customer.subscription.created", {
      subscriptionId: "sub_forged",
      customerId: "cus_forged",
      status: "active",
      price: PRICE_ENTERPRISE,
      organizationId,
    });
    const before = await recordedEventCount();

    const wrongSecret = await deliver(upgrade, { secret: "whsec_not_the_right_one" });
    const payload = JSON.stringify(upgrade);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const tampered = await post(server, payload.replace(PRICE_ENTERPRISE, PRICE_PRO), {
      "stripe-signature": signature,
    });
    const missing = await post(server, payload, {});
    const garbageHeader = await post(server, payload, { "stripe-signature": "t=1,v1=deadbeef" });
    // Signed correctly, but ten minutes ago: outside Stripe's five-minute tolerance.
    const stale = await deliver(upgrade, { timestamp: Math.floor(Date.now() / 1000) - 600 });

    for (const result of [wrongSecret, tampered, missing, garbageHeader, stale]) {
      expect([result.status, result.code]).toEqual([400, "INVALID_SIGNATURE"]);
    }
    expect(await recordedEventCount()).toBe(before);
    expect(await recordedEvent(upgrade.id)).toBeUndefined();
    expect(await organizationState(organizationId)).toMatchObject({ plan: "free", billing_status: "none" });
    expect(await billingRow(organizationId)).toBeUndefined();
  });

  it("answers bodies that are not JSON events with 400, never 500", async () => {
    const before = await recordedEventCount();
    const notJson = await deliver("{ this is not json");
    const notAnEvent = await deliver({ hello: "world" });
    const unsigned = await post(server, "{ not json either", { "stripe-signature": "garbage" });
    expect([notJson.status, notJson.code]).toEqual([400, "BAD_REQUEST"]);
    expect([notAnEvent.status, notAnEvent.code]).toEqual([400, "BAD_REQUEST"]);
    expect([unsigned.status, unsigned.code]).toEqual([400, "INVALID_SIGNATURE"]);
    expect(await recordedEventCount()).toBe(before);
  });

  it("a replayed event id is answered as a duplicate and changes nothing, even after a later event", async () => {
    const { organizationId, customerId, subscriptionId } = await proOrganization();
    const toEnterprise = subscriptionEvent("customer.subscription.updated", {
      subscriptionId,
      customerId,
      status: "active",
      price: PRICE_ENTERPRISE,
    });
    expect((await deliver(toEnterprise)).body).toMatchObject({ duplicate: false, outcome: "applied" });
    const deleted = subscriptionEvent("customer.subscription.deleted", {
      subscriptionId,
      customerId,
      status: "canceled",
    });
    await deliver(deleted);
    expect(await organizationState(organizationId)).toMatchObject({ plan: "free", billing_status: "canceled" });

    const replay = await deliver(toEnterprise);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ received: true, duplicate: true, outcome: "applied" });
    expect(await organizationState(organizationId)).toMatchObject({ plan: "free", billing_status: "canceled" });

    const { rows } = await server.db.rootPool.query<{ n: number }>(
      "select count(*)::int as n from app_private.stripe_events where id = $1",
      [toEnterprise.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it("an event created before the newest applied one is recorded as stale and changes nothing", async () => {
    const { organizationId, customerId, subscriptionId } = await proOrganization();
    const created = BASE_CREATED + 100_000 + eventCounter;
    // Stripe created "updated to enterprise" first and "deleted" later, but delivers them reversed.
    const earlier = subscriptionEvent("customer.subscription.updated", {
      subscriptionId,
      customerId,
      status: "active",
      price: PRICE_ENTERPRISE,
      created,
    });
    const later = subscriptionEvent("customer.subscription.deleted", {
      subscriptionId,
      customerId,
      status: "canceled",
      created: created + 10,
    });
    expect((await deliver(later)).body.outcome).toBe("applied");
    const late = await deliver(earlier);
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ duplicate: false, outcome: "stale" });
    expect(await organizationState(organizationId)).toMatchObject({ plan: "free", billing_status: "canceled" });
    expect((await billingRow(organizationId))?.last_event_at?.toISOString()).toBe(at(created + 10));
    expect(await recordedEvent(earlier.id)).toMatchObject({ outcome: "stale", organization_id: organizationId });
  });

  it("records an unknown event type as ignored and answers 200", async () => {
    const unknown = event("customer.tax_id.created", { id: "txi_1", object: "tax_id", customer: "cus_whoever" });
    const result = await deliver(unknown);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ received: true, duplicate: false, outcome: "ignored" });
    expect(await recordedEvent(unknown.id)).toEqual({
      outcome: "ignored",
      organization_id: null,
      type: "customer.tax_id.created",
    });
  });

  it("records an event for no known organization as unmatched and answers 200", async () => {
    const stranger = subscriptionEvent("customer.subscription.created", {
      subscriptionId: "sub_nobody",
      customerId: "cus_nobody",
      status: "active",
      // Looks like an organization id but names none.
      organizationId: "00000000-0000-4000-8000-000000000000",
    });
    const result = await deliver(stranger);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ received: true, outcome: "unmatched" });
    expect(await recordedEvent(stranger.id)).toEqual({
      outcome: "unmatched",
      organization_id: null,
      type: "customer.subscription.created",
    });
    const { rows } = await server.db.rootPool.query(
      "select 1 from app_private.organization_billing where stripe_customer_id = 'cus_nobody'",
    );
    expect(rows).toHaveLength(0);
  });

  it("answers 503 BILLING_NOT_CONFIGURED without STRIPE_WEBHOOK_SECRET and records nothing", async () => {
    const result = await deliver(event("invoice.paid", { id: "in_x", object: "invoice", customer: "cus_x" }), {
      target: unconfigured,
    });
    expect([result.status, result.code]).toEqual([503, "BILLING_NOT_CONFIGURED"]);
    expect(await recordedEventCount(unconfigured)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// startCheckout and openBillingPortal
// ---------------------------------------------------------------------------------------------

const START_CHECKOUT = `mutation S($plan: Plan!) { startCheckout(input: { plan: $plan }) { url } }`;
const OPEN_PORTAL = `mutation { openBillingPortal { url } }`;

describe("billing mutations", () => {
  let members: OrganizationMembers;
  let unconfiguredMembers: OrganizationMembers;

  beforeAll(async () => {
    [members, unconfiguredMembers] = await Promise.all([
      organizationWithMembers(server, `billing-mutations-${process.pid}`, "free"),
      organizationWithMembers(unconfigured, `billing-off-${process.pid}`, "free"),
    ]);
  });

  it("answer 503 BILLING_NOT_CONFIGURED to an owner when STRIPE_SECRET_KEY is not set", async () => {
    const token = unconfiguredMembers.tokens.owner;
    const checkout = await graphql(unconfigured.url, START_CHECKOUT, { plan: "pro" }, { token });
    const portal = await graphql(unconfigured.url, OPEN_PORTAL, {}, { token });
    expect([checkout.status, checkout.code]).toEqual([503, "BILLING_NOT_CONFIGURED"]);
    expect([portal.status, portal.code]).toEqual([503, "BILLING_NOT_CONFIGURED"]);
  });

  it("refuse admins and viewers with 403 FORBIDDEN and the signed-out with 401, without calling Stripe", async () => {
    const before = fake.requests.length;
    for (const role of ["admin", "viewer"] as const) {
      const token = members.tokens[role];
      const checkout = await graphql(server.url, START_CHECKOUT, { plan: "pro" }, { token });
      const portal = await graphql(server.url, OPEN_PORTAL, {}, { token });
      expect([checkout.status, checkout.code, checkout.data?.startCheckout ?? null]).toEqual([403, "FORBIDDEN", null]);
      expect([portal.status, portal.code]).toEqual([403, "FORBIDDEN"]);
    }
    const anonymous = await graphql(server.url, START_CHECKOUT, { plan: "pro" });
    expect([anonymous.status, anonymous.code]).toEqual([401, "UNAUTHENTICATED"]);
    expect(fake.requests.length).toBe(before);
    expect(await billingRow(members.organizationId)).toBeUndefined();
  });

  it("refuse a checkout for the free plan with 422 VALIDATION_FAILED", async () => {
    const result = await graphql(server.url, START_CHECKOUT, { plan: "free" }, { token: members.tokens.owner });
    expect([result.status, result.code]).toEqual([422, "VALIDATION_FAILED"]);
  });

  it("startCheckout creates the customer once, stores it, and asks Stripe for a subscription checkout tied to the organization", async () => {
    const { organizationId } = members;
    const token = members.tokens.owner;
    const first = fake.requests.length;
    const checkout = await graphql(server.url, START_CHECKOUT, { plan: "enterprise" }, { token });
    expect(checkout.errors).toBeUndefined();
    expect(checkout.data!.startCheckout.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_fake_\d+$/);

    const sent = fake.requests.slice(first);
    expect(sent.map((request) => `${request.method} ${request.path}`)).toEqual([
      "POST /v1/customers",
      "POST /v1/checkout/sessions",
    ]);
    const [customerRequest, sessionRequest] = sent as [RecordedRequest, RecordedRequest];
    expect(customerRequest.headers.authorization).toBe("Bearer sk_test_fake_key");
    expect(customerRequest.params.get("metadata[organizationId]")).toBe(organizationId);

    const stored = await billingRow(organizationId);
    expect(stored?.stripe_customer_id).toMatch(/^cus_fake_\d+$/);
    const params = sessionRequest.params;
    expect(params.get("mode")).toBe("subscription");
    expect(params.get("customer")).toBe(stored!.stripe_customer_id);
    expect(params.get("client_reference_id")).toBe(organizationId);
    expect(params.get("subscription_data[metadata][organizationId]")).toBe(organizationId);
    expect(params.get("line_items[0][price]")).toBe(PRICE_ENTERPRISE);
    expect(params.get("line_items[0][quantity]")).toBe("1");
    expect(params.get("success_url")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/billing\?checkout=success$/);
    expect(params.get("cancel_url")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/billing\?checkout=canceled$/);

    // Asking is not paying: the plan is unchanged until Stripe's events arrive.
    expect(await organizationState(organizationId)).toMatchObject({ plan: "free", billing_status: "none" });

    // A second checkout reuses the stored customer.
    const again = fake.requests.length;
    const second = await graphql(server.url, START_CHECKOUT, { plan: "pro" }, { token });
    expect(second.errors).toBeUndefined();
    const secondSent = fake.requests.slice(again);
    expect(secondSent.map((request) => request.path)).toEqual(["/v1/checkout/sessions"]);
    expect(secondSent[0]!.params.get("customer")).toBe(stored!.stripe_customer_id);
    expect(secondSent[0]!.params.get("line_items[0][price]")).toBe(PRICE_PRO);
  });

  it("openBillingPortal returns the portal URL for the organization's customer", async () => {
    const token = members.tokens.owner;
    await graphql(server.url, START_CHECKOUT, { plan: "pro" }, { token });
    const customerId = (await billingRow(members.organizationId))!.stripe_customer_id;
    const first = fake.requests.length;
    const portal = await graphql(server.url, OPEN_PORTAL, {}, { token });
    expect(portal.errors).toBeUndefined();
    expect(portal.data!.openBillingPortal.url).toMatch(/^https:\/\/billing\.stripe\.test\/p\/session\/bps_fake_\d+$/);
    const sent = fake.requests.slice(first);
    expect(sent.map((request) => request.path)).toEqual(["/v1/billing_portal/sessions"]);
    expect(sent[0]!.params.get("customer")).toBe(customerId);
    expect(sent[0]!.params.get("return_url")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/billing$/);
  });

  it("after checkout, events for the stored customer (no metadata) reach the organization", async () => {
    const token = members.tokens.owner;
    await graphql(server.url, START_CHECKOUT, { plan: "pro" }, { token });
    const customerId = (await billingRow(members.organizationId))!.stripe_customer_id!;
    const result = await deliver(
      subscriptionEvent("customer.subscription.created", {
        subscriptionId: "sub_after_checkout",
        customerId,
        status: "active",
      }),
    );
    expect(result.body.outcome).toBe("applied");
    expect(await organizationState(members.organizationId)).toMatchObject({ plan: "pro", billing_status: "active" });
    // Billing state is the database's to say, and members read it back through the API.
    const usage = await graphql(
      server.url,
      `
        query {
          currentUsage {
            plan
            billingStatus
          }
        }
      `,
      {},
      { token },
    );
    expect(usage.data?.currentUsage).toEqual({ plan: "pro", billingStatus: "active" });
  });
});
