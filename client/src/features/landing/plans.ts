/**
 * The plans and their limits, read from the database's own definition (app_hidden.plan_limit)
 * through the `plans` query, so the landing page can never disagree with what is enforced.
 */
import { gql } from "urql";

export interface PlanLimits {
  plan: string;
  /** Null: unlimited. */
  servicesLimit: number | null;
  membersLimit: number | null;
  incidentsPerMonthLimit: number | null;
}

export const PlansQuery = gql`
  query Plans {
    plans {
      nodes {
        plan
        servicesLimit
        membersLimit
        incidentsPerMonthLimit
      }
    }
  }
`;
