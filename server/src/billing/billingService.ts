/**
 * Starting a checkout and opening the billing portal: the parts of billing that call Stripe.
 * Who may do this is decided by the database before these run (BillingPlugin); these only
 * find or create the organization's Stripe customer and ask Stripe for a session URL. Nothing
 * here changes a plan: that happens when Stripe's signed events arrive (applyStripeEvent.ts).
 */
import type pg from "pg";
import type Stripe from "stripe";
import type { ServerConfig } from "../config.ts";
import { codedError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import { billingConfigured, createStripeClient, isStripeError, priceForPlan, type PaidPlan } from "./stripeClient.ts";

type BillingConfig = Pick<
  ServerConfig,
  "STRIPE_SECRET_KEY" | "STRIPE_PRICE_PRO" | "STRIPE_PRICE_ENTERPRISE" | "STRIPE_API_URL" | "PUBLIC_URL"
>;

/** Where Stripe sends the browser back to (a client route). */
const BILLING_PAGE = "/billing";

export class BillingService {
  private client: Stripe | null = null;

  constructor(
    private readonly config: BillingConfig,
    /** Owner role: app_private.organization_billing is not reachable by API roles. */
    private readonly ownerPool: pg.Pool,
    private readonly logger: Logger,
  ) {}

  get configured(): boolean {
    return billingConfigured(this.config);
  }

  /** Throws BILLING_NOT_CONFIGURED (503) unless the key and prices are set. */
  assertConfigured(): void {
    if (!this.configured) {
      throw codedError("BILLING_NOT_CONFIGURED", "Billing is not configured on this server.");
    }
  }

  /** PUBLIC_URL when set (the address users know), else the address the request came to. */
  baseUrl(requestOrigin: string | undefined): string {
    return (this.config.PUBLIC_URL ?? requestOrigin ?? "http://localhost").replace(/\/+$/, "");
  }

  async startCheckout(organizationId: string, plan: PaidPlan, baseUrl: string): Promise<string> {
    this.assertConfigured();
    const price = priceForPlan(this.config, plan)!;
    return this.callStripe(async (stripe) => {
      const customer = await this.customerFor(stripe, organizationId);
      const session = await stripe.checkout.sessions.create({
        mode: "subscription",
        customer,
        // checkout.session.completed names the organization even before its customer is stored.
        client_reference_id: organizationId,
        line_items: [{ price, quantity: 1 }],
        // Every subscription event then carries the organization (applyStripeEvent.ts).
        subscription_data: { metadata: { organizationId } },
        success_url: `${baseUrl}${BILLING_PAGE}?checkout=success`,
        cancel_url: `${baseUrl}${BILLING_PAGE}?checkout=canceled`,
      });
      if (!session.url) throw new Error("Stripe returned a checkout session without a URL");
      return session.url;
    });
  }

  async openPortal(organizationId: string, baseUrl: string): Promise<string> {
    this.assertConfigured();
    return this.callStripe(async (stripe) => {
      const customer = await this.customerFor(stripe, organizationId);
      const session = await stripe.billingPortal.sessions.create({ customer, return_url: `${baseUrl}${BILLING_PAGE}` });
      return session.url;
    });
  }

  private stripe(): Stripe {
    this.client ??= createStripeClient(this.config);
    return this.client;
  }

  /** Stripe failing (down, rejecting our key) is not a bug of ours: answer 502 with a code. */
  private async callStripe<T>(fn: (stripe: Stripe) => Promise<T>): Promise<T> {
    try {
      return await fn(this.stripe());
    } catch (error) {
      if (!isStripeError(error)) throw error;
      this.logger.warn({ stripeErrorType: error.type }, `Stripe request failed: ${error.message}`);
      throw codedError("BILLING_UNAVAILABLE", "The payment provider could not be reached. Try again later.");
    }
  }

  /**
   * The organization's Stripe customer, created on first use. The idempotency key makes two
   * concurrent first checkouts create one customer; the first id stored wins.
   */
  private async customerFor(stripe: Stripe, organizationId: string): Promise<string> {
    const { rows } = await this.ownerPool.query<{ stripe_customer_id: string | null; name: string }>(
      `select b.stripe_customer_id, o.name
       from app_public.organizations o
       left join app_private.organization_billing b on b.organization_id = o.id
       where o.id = $1`,
      [organizationId],
    );
    const row = rows[0];
    if (!row) throw codedError("NOT_FOUND", "No organization is active.");
    if (row.stripe_customer_id) return row.stripe_customer_id;

    const customer = await stripe.customers.create(
      { name: row.name, metadata: { organizationId } },
      { idempotencyKey: `incidentpulse-customer-${organizationId}` },
    );
    const stored = await this.ownerPool.query<{ stripe_customer_id: string }>(
      `insert into app_private.organization_billing (organization_id, stripe_customer_id)
       values ($1, $2)
       on conflict (organization_id) do update
         set stripe_customer_id = coalesce(app_private.organization_billing.stripe_customer_id, excluded.stripe_customer_id),
             updated_at = now()
       returning stripe_customer_id`,
      [organizationId, customer.id],
    );
    return stored.rows[0]!.stripe_customer_id;
  }
}
