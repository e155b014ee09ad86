import { adviceFor, planLimitDetails, toCodedErrors, type ErrorSource } from "../lib/errors.ts";
import { PlanLimitPrompt } from "./PlanLimitPrompt.tsx";

/**
 * The one way errors are shown: placed right after the control or form that caused them,
 * announced to screen readers, with the server's message, its code and what to do about it.
 * A plan limit becomes the upgrade prompt.
 */
export function ErrorNotice({ error, id }: { error: ErrorSource; id?: string }) {
  const errors = toCodedErrors(error);
  if (errors.length === 0) return null;
  return (
    <div id={id} className="error-notice-list">
      {errors.map((coded, index) => {
        const limit = planLimitDetails(coded);
        if (limit) return <PlanLimitPrompt key={index} details={limit} />;
        const advice = adviceFor(coded.code);
        return (
          <div key={index} className="error-notice" role="alert" data-code={coded.code}>
            <p>
              {coded.message} <code className="error-notice__code">{coded.code}</code>
            </p>
            {advice && <p className="error-notice__advice">{advice}</p>}
          </div>
        );
      })}
    </div>
  );
}
