/**
 * `POST /billing/stripe/webhook`: Stripe tells us about checkouts, subscriptions and invoices.
 *
 * The signature is an HMAC over the exact bytes Stripe sent, so this route reads the body raw
 * (express.raw, for this route only) and must be installed before anything that parses JSON.
 * Verification is offline (the stripe library, STRIPE_WEBHOOK_SECRET); only verified events
 * reach the database. Stripe retries anything but a 2xx, so events we do not use, or cannot
 * match to an organization, are recorded and answered 200; a failure of ours answers 500 so
 * Stripe delivers again (the event id makes that safe).
 */
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import Stripe from "stripe";
import { applyStripeEvent, isStripeEventLike } from "../billing/applyStripeEvent.ts";
import { webhookConfigured } from "../billing/stripeClient.ts";
import { errorBody } from "../errors.ts";
import type { Services } from "../services.ts";

export const STRIPE_WEBHOOK_PATH = "/billing/stripe/webhook";

/** Stripe's events are a few kilobytes; anything near this is not from Stripe. */
const MAX_WEBHOOK_BYTES = 1_000_000;

function refuse(res: Response, status: number, code: string, message: string) {
  res.status(status).json(errorBody(code, message));
}

export function installBilling(app: Express, services: Services): void {
  const { config, ownerPool } = services;

  app.post(
    STRIPE_WEBHOOK_PATH,
    // Any content type: the bytes are verified, not trusted because of a header.
    express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES }),
    async (req: Request, res: Response, next: NextFunction) => {
      if (!webhookConfigured(config)) {
        return refuse(res, 503, "BILLING_NOT_CONFIGURED", "Billing is not configured on this server.");
      }
      const signature = req.get("stripe-signature");
      const body: unknown = req.body;
      if (!signature || !Buffer.isBuffer(body)) {
        return refuse(res, 400, "INVALID_SIGNATURE", "The Stripe-Signature header is missing.");
      }

      let event: unknown;
      try {
        // Checks the HMAC and that the signed timestamp is within Stripe's 5-minute tolerance
        // (a captured delivery cannot be replayed later), then parses the JSON.
        event = Stripe.webhooks.constructEvent(body, signature, config.STRIPE_WEBHOOK_SECRET!);
      } catch (error) {
        if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
          return refuse(res, 400, "INVALID_SIGNATURE", "The Stripe signature does not match this request.");
        }
        // A correctly signed body that is not JSON: a client mistake, never a 500.
        return refuse(res, 400, "BAD_REQUEST", "The webhook body is not a JSON event.");
      }
      if (!isStripeEventLike(event)) {
        return refuse(res, 400, "BAD_REQUEST", "The webhook body is not a Stripe event.");
      }

      try {
        const result = await applyStripeEvent(ownerPool, config, event);
        res.status(200).json({ received: true, duplicate: result.duplicate, outcome: result.outcome });
      } catch (error) {
        next(error);
      }
    },
  );
}
