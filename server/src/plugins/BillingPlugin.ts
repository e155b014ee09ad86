/**
 * startCheckout and openBillingPortal: hand an owner a Stripe URL. The role check runs in the
 * request's own transaction as the caller (`app_hidden.assert_org_role`), so the database
 * decides who manages billing, exactly as for every other action. These mutations never change
 * a plan: Stripe's signed webhook events do (middleware/installBilling.ts).
 */
import { context, object, type Step } from "postgraphile/grafast";
import { sideEffectWithPgClientTransaction, type PgClient } from "postgraphile/@dataplan/pg";
import { extendSchema, gql } from "postgraphile/utils";
import type { BillingService } from "../billing/billingService.ts";
import type { PaidPlan } from "../billing/stripeClient.ts";
import { codedError } from "../errors.ts";

/** The billing service and where Stripe should send this request's browser back to. */
export interface BillingContext {
  service: BillingService;
  baseUrl: string;
}

declare global {
  namespace Grafast {
    interface Context {
      billing: BillingContext;
    }
  }
}

const PAID_PLANS: readonly string[] = ["pro", "enterprise"] satisfies PaidPlan[];

/** Owners only (IPF01 FORBIDDEN otherwise, IPA01 when signed out); returns the organization. */
async function assertOwnerOfActiveOrganization(client: PgClient): Promise<string> {
  const { rows } = await client.query<{ organization_id: string }>({
    // Billing needs a person (never an API key), and the owner role.
    text: `select app_hidden.assert_signed_in(), app_hidden.assert_org_role('owner', 'manage billing'),
                  app_hidden.current_org_id() as organization_id`,
  });
  return rows[0]!.organization_id;
}

export const BillingPlugin = extendSchema((build) => {
  const organizations = build.input.pgRegistry.pgResources.organizations;
  if (!organizations) throw new Error("BillingPlugin needs the organizations table");
  const executor = organizations.executor;

  return {
    typeDefs: gql`
      input StartCheckoutInput {
        "The plan to subscribe to: pro or enterprise."
        plan: Plan!
      }

      type CheckoutPayload {
        "Stripe Checkout: send the browser here. The plan changes once Stripe confirms payment."
        url: String!
      }

      type BillingPortalPayload {
        "Stripe's billing portal: payment methods, invoices, cancellation."
        url: String!
      }

      extend type Mutation {
        "Starts a Stripe Checkout for a paid plan (owners)."
        startCheckout(input: StartCheckoutInput!): CheckoutPayload
        "Opens the Stripe billing portal for the active organization (owners)."
        openBillingPortal: BillingPortalPayload
      }
    `,
    objects: {
      Mutation: {
        plans: {
          startCheckout(_$root, { $input }) {
            const $billing = context().get("billing");
            return sideEffectWithPgClientTransaction(
              executor,
              object({ input: $input as Step, billing: $billing }),
              async (client, { input, billing }) => {
                const organizationId = await assertOwnerOfActiveOrganization(client);
                const { plan } = input as { plan: string };
                if (!PAID_PLANS.includes(plan)) {
                  throw codedError("VALIDATION_FAILED", "Choose the pro or enterprise plan.", { field: "plan" });
                }
                const url = await billing.service.startCheckout(organizationId, plan as PaidPlan, billing.baseUrl);
                return { url };
              },
            );
          },

          openBillingPortal() {
            const $billing = context().get("billing");
            return sideEffectWithPgClientTransaction(executor, $billing, async (client, billing) => {
              const organizationId = await assertOwnerOfActiveOrganization(client);
              const url = await billing.service.openPortal(organizationId, billing.baseUrl);
              return { url };
            });
          },
        },
      },
    },
  };
});
