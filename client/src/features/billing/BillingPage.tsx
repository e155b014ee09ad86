/** The plan, billing state and usage meters; owners upgrade or manage the subscription. */
import { gql, useMutation, useQuery } from "urql";
import { formatDateTime, humanize } from "../../lib/format.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { useRole } from "../session/useRole.ts";
import { goTo, StartCheckoutMutation } from "./UpgradeProvider.tsx";

const UsageQuery = gql`
  query Usage {
    currentUsage {
      plan
      limitsEnforced
      billingStatus
      pastDueSince
      graceEndsAt
      servicesUsed
      servicesLimit
      membersUsed
      membersLimit
      incidentsThisMonth
      incidentsPerMonthLimit
    }
  }
`;
const OpenPortalMutation = gql`
  mutation OpenBillingPortal {
    openBillingPortal {
      url
    }
  }
`;

interface Usage {
  plan: string;
  limitsEnforced: boolean;
  billingStatus: string;
  pastDueSince: string | null;
  graceEndsAt: string | null;
  servicesUsed: number;
  servicesLimit: number | null;
  membersUsed: number;
  membersLimit: number | null;
  incidentsThisMonth: number;
  incidentsPerMonthLimit: number | null;
}

function Meter({ label, used, limit }: { label: string; used: number; limit: number | null }) {
  return (
    <div className="usage-meter">
      <div className="usage-meter__label">
        <span>{label}</span>
        <span>
          {used} of {limit ?? "unlimited"}
        </span>
      </div>
      {limit !== null && (
        <meter min={0} max={limit} high={limit * 0.8} optimum={0} value={Math.min(used, limit)} aria-label={label} />
      )}
    </div>
  );
}

export function BillingPage() {
  const { can } = useRole();
  const [{ data, fetching, error }] = useQuery<{ currentUsage: Usage | null }>({ query: UsageQuery });
  const [checkout, startCheckout] = useMutation(StartCheckoutMutation);
  const [portal, openPortal] = useMutation(OpenPortalMutation);
  if (fetching && !data) return <Loading />;
  const usage = data?.currentUsage;
  const upgrade = async (plan: string) => {
    const result = await startCheckout({ plan });
    const url = result.data?.startCheckout?.url as string | undefined;
    if (url) goTo(url);
  };
  const manage = async () => {
    const result = await openPortal({});
    const url = result.data?.openBillingPortal?.url as string | undefined;
    if (url) goTo(url);
  };

  return (
    <>
      <PageHeader title="Plan and usage" />
      <ErrorNotice error={error} />
      {usage && (
        <>
          <section className="card">
            <h2>{humanize(usage.plan)} plan</h2>
            <p>
              Billing: {humanize(usage.billingStatus)}
              {usage.pastDueSince &&
                ` since ${formatDateTime(usage.pastDueSince)}; creating stops ${formatDateTime(usage.graceEndsAt)}`}
            </p>
            {!usage.limitsEnforced && <p className="muted">This server hosts one organization: no limits apply.</p>}
            <Meter label="Services" used={usage.servicesUsed} limit={usage.servicesLimit} />
            <Meter label="Members and pending invitations" used={usage.membersUsed} limit={usage.membersLimit} />
            <Meter label="Incidents this month" used={usage.incidentsThisMonth} limit={usage.incidentsPerMonthLimit} />
          </section>
          {can("manageBilling") ? (
            <section className="card">
              <h2>Change plan</h2>
              <div className="form-actions">
                {usage.plan === "free" && (
                  <button
                    type="button"
                    className="btn btn--primary"
                    disabled={checkout.fetching}
                    onClick={() => void upgrade("pro")}
                  >
                    Upgrade to Pro
                  </button>
                )}
                {usage.plan !== "enterprise" && (
                  <button
                    type="button"
                    className="btn"
                    disabled={checkout.fetching}
                    onClick={() => void upgrade("enterprise")}
                  >
                    Upgrade to Enterprise
                  </button>
                )}
                {usage.billingStatus !== "none" && (
                  <button type="button" className="btn" disabled={portal.fetching} onClick={() => void manage()}>
                    Manage subscription
                  </button>
                )}
              </div>
              <ErrorNotice error={checkout.error ?? portal.error} />
            </section>
          ) : (
            <p className="muted">Owners change the plan.</p>
          )}
        </>
      )}
    </>
  );
}
