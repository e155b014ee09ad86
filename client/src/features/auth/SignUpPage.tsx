import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { homePathFor, safeNext } from "../session/guards.tsx";
import { useSession } from "../session/SessionContext.tsx";
import { AuthLayout } from "./AuthLayout.tsx";
import { SignUpForm } from "./SignUpForm.tsx";

export function SignUpPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  if (session.user) return <Navigate to={next ?? homePathFor(session)} replace />;

  const registered = async () => {
    if (next) await navigate(next, { replace: true });
    session.restart();
  };
  return (
    <AuthLayout title="Create your account">
      <SignUpForm onRegistered={registered} />
      <p>
        Already have an account?{" "}
        <Link to={next ? `/sign-in?next=${encodeURIComponent(next)}` : "/sign-in"}>Sign in</Link>
      </p>
    </AuthLayout>
  );
}
