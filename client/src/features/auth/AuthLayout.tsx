import type { ReactNode } from "react";
import { Link } from "react-router";
import { PageHeader } from "../../ui/PageHeader.tsx";

/** The narrow, centred frame of the sign-in, sign-up and invitation pages. */
export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="auth-layout">
      <Link to="/" className="brand">
        IncidentPulse
      </Link>
      <main id="main" className="card auth-card">
        <PageHeader title={title} />
        {children}
      </main>
    </div>
  );
}
