/**
 * The Stripe client, built from configuration. Billing is optional: a deployment without
 * Stripe settings runs on the free plan, and the billing mutations answer
 * BILLING_NOT_CONFIGURED instead of failing somewhere inside the Stripe library.
 */
import Stripe from "stripe";
import type { ServerConfig } from "../config.ts";

type BillingSettings = Pick<
  ServerConfig,
  "STRIPE_SECRET_KEY" | "STRIPE_PRICE_PRO" | "STRIPE_PRICE_ENTERPRISE" | "STRIPE_API_URL"
>;

export type PaidPlan = "pro" | "enterprise";

/** Checkout and the portal need the secret key and a price for every paid plan. */
export function billingConfigured(config: BillingSettings): boolean {
  return Boolean(config.STRIPE_SECRET_KEY && config.STRIPE_PRICE_PRO && config.STRIPE_PRICE_ENTERPRISE);
}

/** Webhooks only need their signing secret: verification is offline (HMAC over the raw body). */
export function webhookConfigured(config: Pick<ServerConfig, "STRIPE_WEBHOOK_SECRET">): boolean {
  return Boolean(config.STRIPE_WEBHOOK_SECRET);
}

export function priceForPlan(config: BillingSettings, plan: PaidPlan): string | undefined {
  return plan === "pro" ? config.STRIPE_PRICE_PRO : config.STRIPE_PRICE_ENTERPRISE;
}

/** The reverse: which plan a subscription's price buys. Unknown prices buy nothing. */
export function planForPrice(config: BillingSettings, priceId: string | null | undefined): PaidPlan | null {
  if (!priceId) return null;
  if (priceId === config.STRIPE_PRICE_PRO) return "pro";
  if (priceId === config.STRIPE_PRICE_ENTERPRISE) return "enterprise";
  return null;
}

/**
 * STRIPE_API_URL points the client elsewhere (stripe-mock in development, a fake in tests), so
 * nothing but configuration decides whether requests leave the machine.
 */
export function createStripeClient(config: BillingSettings): Stripe {
  if (!config.STRIPE_SECRET_KEY) throw new Error("STRIPE_SECRET_KEY is not set");
  const options: ConstructorParameters<typeof Stripe>[1] = {
    appInfo: { name: "IncidentPulse" },
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
  };
  if (config.STRIPE_API_URL) {
    const url = new URL(config.STRIPE_API_URL);
    const protocol = url.protocol === "http:" ? "http" : "https";
    options.host = url.hostname;
    options.port = url.port || (protocol === "http" ? 80 : 443);
    options.protocol = protocol;
  }
  return new Stripe(config.STRIPE_SECRET_KEY, options);
}

/** Stripe's own errors (API answers, network failures) as opposed to bugs in our code. */
export function isStripeError(error: unknown): error is Stripe.errors.StripeError {
  return error instanceof Stripe.errors.StripeError;
}

export { Stripe };
