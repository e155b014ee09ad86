import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { useMutation } from "urql";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { homePathFor, safeNext } from "../session/guards.tsx";
import { useSession } from "../session/SessionContext.tsx";
import { AuthLayout } from "./AuthLayout.tsx";
import { LoginMutation } from "./mutations.ts";

export function SignInPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [result, login] = useMutation(LoginMutation);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

  if (session.user) return <Navigate to={next ?? homePathFor(session)} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const signedIn = await login({ email: email.trim(), password });
    if (signedIn.error) return;
    // The session query decides where to go once it has re-read who is signed in.
    if (next) await navigate(next, { replace: true });
    session.restart();
  };

  const signUpLink = next ? `/sign-up?next=${encodeURIComponent(next)}` : "/sign-up";
  return (
    <AuthLayout title="Sign in">
      <form onSubmit={submit} aria-label="Sign in" noValidate>
        <Field label="Email">
          <input type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </Field>
        <Field label="Password">
          <input
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </Field>
        <ErrorNotice error={result.error} />
        <button type="submit" className="btn btn--primary" disabled={result.fetching}>
          {result.fetching ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <Link to={signUpLink}>Create an account</Link>
      </p>
    </AuthLayout>
  );
}
