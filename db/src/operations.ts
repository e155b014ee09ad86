/**
 * Operator commands that change an organization outside the API.
 */
import pg from "pg";

export const PLANS = ["free", "pro", "enterprise"] as const;
export type Plan = (typeof PLANS)[number];

export class OperatorError extends Error {}

/**
 * Sets an organization's plan (for deals made outside Stripe, or to correct one). Downgrading
 * deletes nothing: creation stays blocked until usage is under the new limits.
 */
export async function setOrganizationPlan(ownerUrl: string, slug: string, plan: string): Promise<{ previous: Plan }> {
  if (!PLANS.includes(plan as Plan)) {
    throw new OperatorError(`Unknown plan "${plan}": use one of ${PLANS.join(", ")}.`);
  }
  const client = new pg.Client({ connectionString: ownerUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ previous: Plan }>(
      `update app_public.organizations o set plan = $2
       from (select id, plan from app_public.organizations where slug = $1 for update) before
       where o.id = before.id
       returning before.plan as previous`,
      [slug, plan],
    );
    if (!rows[0]) throw new OperatorError(`No organization has the slug "${slug}".`);
    return rows[0];
  } finally {
    await client.end();
  }
}
