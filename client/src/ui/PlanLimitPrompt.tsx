import { useState } from "react";
import { humanize } from "../lib/format.ts";
import type { CodedError, PlanLimitDetails } from "../lib/errors.ts";
import { useUpgradeAction } from "./upgradeContext.ts";

const RESOURCE_NAMES: Record<string, string> = {
  services: "services",
  members: "members (pending invitations included)",
  incidents_per_month: "incidents this month",
};

/** A 402: which limit was reached, how much is used, and the way up. */
export function PlanLimitPrompt({ details }: { details: PlanLimitDetails }) {
  const upgrade = useUpgradeAction();
  const [pending, setPending] = useState(false);
  const [failure, setFailure] = useState<CodedError | null>(null);
  const resource = RESOURCE_NAMES[details.resource] ?? humanize(details.resource).toLowerCase();
  const nextPlan = upgrade?.nextPlan(details.plan) ?? null;
  const start = upgrade?.start;

  const onUpgrade = async () => {
    if (!start || !nextPlan) return;
    setPending(true);
    setFailure(null);
    const errors = await start(nextPlan);
    setPending(false);
    if (errors) setFailure(errors[0] ?? null);
  };

  return (
    <div className="plan-limit" role="alert" data-code="PLAN_LIMIT_EXCEEDED">
      <p className="plan-limit__title">
        <strong>Plan limit reached.</strong> The {humanize(details.plan)} plan allows {details.limit} {resource}.
      </p>
      <p>
        <meter
          min={0}
          max={details.limit}
          value={Math.min(details.current, details.limit)}
          aria-label={`Usage of ${resource}`}
        />{" "}
        Using {details.current} of {details.limit}.
      </p>
      {nextPlan &&
        (start ? (
          <button type="button" className="btn btn--primary" onClick={onUpgrade} disabled={pending}>
            {pending ? "Opening checkout…" : `Upgrade to ${humanize(nextPlan)}`}
          </button>
        ) : (
          <p>Ask an owner of this organization to upgrade to {humanize(nextPlan)}.</p>
        ))}
      {failure && (
        <p className="error-text">
          {failure.message} <code>{failure.code}</code>
        </p>
      )}
    </div>
  );
}
