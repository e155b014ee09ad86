/**
 * Supplies the plan-limit prompt's upgrade action: owners start a Stripe Checkout and are sent
 * to it; other roles are told to ask an owner.
 */
import { useMemo, type ReactNode } from "react";
import { gql, useMutation } from "urql";
import { fromCombinedError } from "../../lib/errors.ts";
import { UpgradeContext, type UpgradeAction } from "../../ui/upgradeContext.ts";
import { useRole } from "../session/useRole.ts";

export const StartCheckoutMutation = gql`
  mutation StartCheckout($plan: Plan!) {
    startCheckout(input: { plan: $plan }) {
      url
    }
  }
`;

const NEXT_PLAN: Record<string, string | undefined> = { free: "pro", pro: "enterprise" };

export const nextPlan = (plan: string) => NEXT_PLAN[plan] ?? null;

/** Sends the browser to Stripe; separate so tests can replace it. */
export const goTo = (url: string) => window.location.assign(url);

export function UpgradeProvider({ children }: { children: ReactNode }) {
  const { can } = useRole();
  const [, startCheckout] = useMutation<{ startCheckout: { url: string } | null }>(StartCheckoutMutation);
  const mayUpgrade = can("manageBilling");
  const action = useMemo<UpgradeAction>(
    () => ({
      nextPlan,
      start: mayUpgrade
        ? async (plan) => {
            const result = await startCheckout({ plan });
            if (result.error) return fromCombinedError(result.error);
            if (result.data?.startCheckout) goTo(result.data.startCheckout.url);
            return null;
          }
        : null,
    }),
    [mayUpgrade, startCheckout],
  );
  return <UpgradeContext.Provider value={action}>{children}</UpgradeContext.Provider>;
}
