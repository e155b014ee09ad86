/**
 * How the plan-limit prompt offers an upgrade. Provided by the billing feature (it knows the
 * role and calls startCheckout); without a provider the prompt only explains the limit.
 */
import { createContext, useContext } from "react";
import type { CodedError } from "../lib/errors.ts";

export interface UpgradeAction {
  /** Null when the viewer may not upgrade; the prompt then says who can. */
  start: ((plan: string) => Promise<CodedError[] | null>) | null;
  /** The plan to offer after the given one, or null when there is none. */
  nextPlan(plan: string): string | null;
}

export const UpgradeContext = createContext<UpgradeAction | null>(null);

export const useUpgradeAction = () => useContext(UpgradeContext);
