/**
 * `/` for visitors: what IncidentPulse is, the demo organization's status page live, the
 * plans with their limits as the database defines them, and how to run it.
 */
import { Link } from "react-router";
import { useQuery } from "urql";
import { humanize } from "../../lib/format.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { useSession } from "../session/SessionContext.tsx";
import { useStatusPage } from "../statusPage/useStatusPage.ts";
import { PlansQuery, type PlanLimits } from "./plans.ts";

/** The demo organization seeded on first start: "default" alone, "demo" among many. */
const demoSlug = (multiTenant: boolean) => (multiTenant ? "demo" : "default");

function LiveExample({ slug }: { slug: string }) {
  const { summary, connection } = useStatusPage(slug);
  if (!summary) return null;
  const services = summary.components.filter((component) => !component.group).slice(0, 6);
  return (
    <section className="card live-example" aria-labelledby="live-example">
      <h2 id="live-example">A live status page</h2>
      <p>
        <strong>{summary.page.name}</strong>: {summary.status.description}{" "}
        {connection === "live" && <span className="live-indicator live-indicator--on">Live</span>}
      </p>
      <ul className="service-list service-list--compact">
        {services.map((service) => (
          <li key={service.id} className="service-row__head">
            <span>{service.name}</span> <StatusBadge value={service.status} />
          </li>
        ))}
      </ul>
      {summary.incidents[0] && (
        <p>
          Now: <strong>{summary.incidents[0].name}</strong> ({humanize(summary.incidents[0].status)})
        </p>
      )}
      <Link to={`/status/${slug}`}>Open the full status page</Link>
    </section>
  );
}

const limitText = (value: number | null, unit: string) => (value === null ? `Unlimited ${unit}` : `${value} ${unit}`);

function Plans() {
  const [{ data, error, fetching }] = useQuery<{ plans: { nodes: PlanLimits[] } | null }>({ query: PlansQuery });
  const plans = data?.plans?.nodes ?? [];
  return (
    <section aria-labelledby="plans">
      <h2 id="plans">Plans</h2>
      {fetching && !data && <Loading label="Loading the plans…" />}
      <ErrorNotice error={error} />
      <div className="plans">
        {plans.map((plan) => (
          <article key={plan.plan} className="card plan">
            <h3>{humanize(plan.plan)}</h3>
            <ul>
              <li>{limitText(plan.servicesLimit, "services")}</li>
              <li>{limitText(plan.membersLimit, "members")}</li>
              <li>{limitText(plan.incidentsPerMonthLimit, "incidents a month")}</li>
            </ul>
          </article>
        ))}
      </div>
      <p className="muted">Limits apply on the multi-tenant cloud; a self-hosted single organization has none.</p>
    </section>
  );
}

export function LandingPage() {
  const { multiTenant } = useSession();
  return (
    <div className="landing">
      <header className="app-header">
        <span className="brand">IncidentPulse</span>
        <nav aria-label="Account" className="app-header__end">
          <Link to="/sign-in" className="header-link">
            Sign in
          </Link>
          {multiTenant && (
            <Link to="/sign-up" className="btn btn--primary">
              Sign up
            </Link>
          )}
        </nav>
      </header>
      <main id="main" className="landing__main">
        <PageHeader title="Incidents handled, customers informed">
          <p className="lead">
            IncidentPulse is open-source incident management with a public status page. Declare and work incidents with
            your team, keep a timeline and postmortems, and let customers follow along live — every organization’s data
            kept apart by the database itself.
          </p>
        </PageHeader>
        <LiveExample slug={demoSlug(multiTenant)} />
        <Plans />
        <section aria-labelledby="run-it" className="run-options">
          <h2 id="run-it">Two ways to run it</h2>
          <div className="plans">
            <article className="card">
              <h3>Self-host</h3>
              <p>One organization on your own server: no limits, one command.</p>
              <pre>
                <code>npm ci && npm start</code>
              </pre>
              <p>The README covers configuration, backups and bringing your own PostgreSQL.</p>
            </article>
            <article className="card">
              <h3>Cloud</h3>
              <p>Many organizations on one deployment, each with its own status page and plan.</p>
              {multiTenant ? (
                <Link to="/sign-up" className="btn btn--primary">
                  Create your organization
                </Link>
              ) : (
                <p>
                  Start the server with <code>MULTI_TENANT_ENABLED=true</code> to host many organizations.
                </p>
              )}
            </article>
          </div>
        </section>
      </main>
    </div>
  );
}
