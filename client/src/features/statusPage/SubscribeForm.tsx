import { useState, type FormEvent } from "react";
import type { CodedError } from "../../lib/errors.ts";
import { postJson } from "../../lib/http.ts";
import { emailProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import type { ComponentJson } from "./types.ts";

/**
 * Email subscriptions: all services, or only some. The server answers the same whatever the
 * address (so nobody learns who subscribed) and mails a confirmation link: the form can only
 * say to check the inbox.
 */
export function SubscribeForm({ slug, services }: { slug: string; services: ComponentJson[] }) {
  const [email, setEmail] = useState("");
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [problem, setProblem] = useState<string | null>(null);
  const [errors, setErrors] = useState<CodedError[] | null>(null);
  const [pending, setPending] = useState(false);
  const [done, setDone] = useState(false);

  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = emailProblem(email);
    setProblem(found);
    if (found) return;
    setPending(true);
    setErrors(null);
    const result = await postJson(`/status/${encodeURIComponent(slug)}/api/subscriptions`, {
      email: email.trim(),
      serviceIds: [...chosen],
    });
    setPending(false);
    if (!result.ok) {
      setErrors(result.errors);
      if (result.errors.some((error) => error.code === "INVALID_EMAIL")) setProblem("Check this address.");
      return;
    }
    setDone(true);
  };

  if (done) {
    return (
      <div role="status" className="success-text">
        <p>
          <strong>Check your inbox.</strong> If {email.trim()} can receive notifications, a confirmation email is on its
          way. Updates start once you follow its link.
        </p>
      </div>
    );
  }
  return (
    <form onSubmit={submit} aria-label="Subscribe to updates" noValidate>
      <Field label="Email address" problem={problem}>
        <input type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
      </Field>
      {services.length > 0 && (
        <details>
          <summary>Only some services ({chosen.size === 0 ? "all for now" : `${chosen.size} chosen`})</summary>
          <fieldset className="checkbox-list">
            <legend className="sr-only">Services to follow</legend>
            {services.map((service) => (
              <label key={service.id} className="inline-choice">
                <input
                  type="checkbox"
                  checked={chosen.has(service.id)}
                  onChange={(e) => toggle(service.id, e.target.checked)}
                />
                {service.name}
              </label>
            ))}
          </fieldset>
        </details>
      )}
      <ErrorNotice error={errors} />
      <button type="submit" className="btn btn--primary" disabled={pending}>
        {pending ? "Subscribing…" : "Subscribe"}
      </button>
    </form>
  );
}
