/**
 * The public status page at /status/<slug>: rendered from the public files only (no GraphQL,
 * no sign-in) and kept live by the server-sent events stream.
 */
import { useEffect } from "react";
import { useParams } from "react-router";
import { formatDateTime, humanize } from "../../lib/format.ts";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { sectionsOf, worstStatus } from "./components.ts";
import { rememberStatusPage } from "./lastPage.ts";
import { SubscribeForm } from "./SubscribeForm.tsx";
import type { ComponentUptime, IncidentJson, MaintenanceJson, UptimeFile } from "./types.ts";
import { UptimeBars } from "./UptimeBars.tsx";
import { useStatusPage, type Connection } from "./useStatusPage.ts";

function ConnectionNotice({ connection, checkedAt }: { connection: Connection; checkedAt: Date | null }) {
  const words =
    connection === "live"
      ? "Live: this page updates by itself."
      : connection === "connecting"
        ? "Connecting…"
        : `Offline: reconnecting. Showing what was current ${checkedAt ? `at ${checkedAt.toLocaleTimeString()}` : "earlier"}.`;
  return (
    <p className={`connection connection--${connection}`} role="status" data-connection={connection}>
      {words}
    </p>
  );
}

function IncidentUpdates({ incident }: { incident: IncidentJson }) {
  return (
    <ol className="timeline">
      {incident.incident_updates.map((update) => (
        <li key={update.id} className="timeline__entry">
          <div className="timeline__meta">
            <StatusBadge value={update.status} />
            <time dateTime={update.display_at}>{formatDateTime(update.display_at)}</time>
          </div>
          <p className="timeline__body">{update.body}</p>
        </li>
      ))}
    </ol>
  );
}

function ActiveIncident({ incident }: { incident: IncidentJson }) {
  return (
    <article className={`incident-card incident-card--${incident.impact}`} aria-labelledby={`incident-${incident.id}`}>
      <h3 id={`incident-${incident.id}`}>{incident.name}</h3>
      <p className="badges">
        <StatusBadge value={incident.status} />
        <StatusBadge value={incident.impact} label={`${humanize(incident.impact)} impact`} />
      </p>
      {incident.components.length > 0 && (
        <p className="muted">Affects {incident.components.map((component) => component.name).join(", ")}</p>
      )}
      <IncidentUpdates incident={incident} />
    </article>
  );
}

function Maintenance({ maintenance }: { maintenance: MaintenanceJson }) {
  return (
    <article className="incident-card incident-card--maintenance" aria-labelledby={`maintenance-${maintenance.id}`}>
      <h3 id={`maintenance-${maintenance.id}`}>{maintenance.name}</h3>
      <p className="badges">
        <StatusBadge value={maintenance.status} />
        <span>
          {formatDateTime(maintenance.scheduled_for)} – {formatDateTime(maintenance.scheduled_until)}
        </span>
      </p>
      {maintenance.components.length > 0 && (
        <p className="muted">Affects {maintenance.components.map((component) => component.name).join(", ")}</p>
      )}
      {maintenance.incident_updates[0] && <p>{maintenance.incident_updates[0].body}</p>}
    </article>
  );
}

function History({ incidents }: { incidents: IncidentJson[] }) {
  const past = incidents.filter((incident) => incident.status === "resolved" || incident.status === "postmortem");
  if (past.length === 0) return <p className="empty">No incidents reported.</p>;
  return (
    <ul className="history">
      {past.map((incident) => (
        <li key={incident.id}>
          <details>
            <summary>
              <span className="history__name">{incident.name}</span>{" "}
              <StatusBadge value={incident.impact} label={`${humanize(incident.impact)} impact`} />{" "}
              <time dateTime={incident.started_at ?? incident.created_at}>
                {formatDateTime(incident.started_at ?? incident.created_at)}
              </time>
            </summary>
            <IncidentUpdates incident={incident} />
          </details>
        </li>
      ))}
    </ul>
  );
}

function uptimeOf(uptime: UptimeFile | null, id: string): ComponentUptime | undefined {
  return uptime?.uptime.components.find((component) => component.id === id);
}

export function StatusPage() {
  const { slug = "" } = useParams();
  const { summary, history, uptime, connection, notFound, checkedAt } = useStatusPage(slug);

  useEffect(() => {
    if (summary) {
      rememberStatusPage(slug);
      document.title = `${summary.page.name} status`;
    }
  }, [slug, summary]);

  if (notFound) {
    return (
      <main id="main" className="status-page">
        <h1>No such status page</h1>
        <p>There is no public status page at this address.</p>
      </main>
    );
  }
  if (!summary) {
    return (
      <main id="main" className="status-page">
        <p role="status">Loading the status page…</p>
      </main>
    );
  }

  const sections = sectionsOf(summary.components);
  const services = summary.components.filter((component) => !component.group);
  const base = `/status/${encodeURIComponent(slug)}`;
  return (
    <div className="status-page">
      <header className="status-page__header">
        <h1>{summary.page.name}</h1>
        <nav aria-label="Status page">
          <a href="#subscribe">Subscribe</a>
          <a href={`${base}/history.rss`}>RSS</a>
          <a href={`${base}/history.atom`}>Atom</a>
        </nav>
      </header>
      <main id="main">
        <section className={`banner banner--${summary.status.indicator}`} aria-live="polite">
          <h2>{summary.status.description}</h2>
          <ConnectionNotice connection={connection} checkedAt={checkedAt} />
        </section>

        {summary.incidents.length > 0 && (
          <section aria-labelledby="active-incidents">
            <h2 id="active-incidents">Active incidents</h2>
            {summary.incidents.map((incident) => (
              <ActiveIncident key={incident.id} incident={incident} />
            ))}
          </section>
        )}

        {summary.scheduled_maintenances.length > 0 && (
          <section aria-labelledby="maintenance">
            <h2 id="maintenance">Maintenance</h2>
            {summary.scheduled_maintenances.map((maintenance) => (
              <Maintenance key={maintenance.id} maintenance={maintenance} />
            ))}
          </section>
        )}

        <section aria-labelledby="services">
          <h2 id="services">Services</h2>
          {sections.map(({ group, services: members }) => (
            <div key={group?.id ?? "ungrouped"} className="service-group">
              {group && (
                <h3 className="service-group__name">
                  {group.name} <StatusBadge value={worstStatus(members)} />
                </h3>
              )}
              <ul className="service-list">
                {members.map((service) => {
                  const serviceUptime = uptimeOf(uptime, service.id);
                  return (
                    <li key={service.id} className="service-row">
                      <div className="service-row__head">
                        <span className="service-row__name">{service.name}</span>
                        <StatusBadge value={service.status} />
                      </div>
                      {service.description && <p className="muted">{service.description}</p>}
                      {serviceUptime && (
                        <UptimeBars
                          name={service.name}
                          days={serviceUptime.days}
                          uptimePercent={serviceUptime.uptime_percent}
                          window={uptime?.uptime.days ?? 90}
                        />
                      )}
                    </li>
                  );
                })}
              </ul>
            </div>
          ))}
        </section>

        <section aria-labelledby="history">
          <h2 id="history">Past incidents</h2>
          <History incidents={history?.incidents ?? []} />
        </section>

        <section aria-labelledby="subscribe" className="card">
          <h2 id="subscribe">Get updates by email</h2>
          <SubscribeForm slug={slug} services={services} />
        </section>
      </main>
      <footer className="status-page__footer">
        <p>
          Updated {formatDateTime(summary.page.updated_at)} · <a href={`${base}/api/v2/summary.json`}>JSON</a> ·{" "}
          <a href={`${base}/history.rss`}>RSS feed</a> · <a href={`${base}/history.atom`}>Atom feed</a> · Powered by{" "}
          <a href="/">IncidentPulse</a>
        </p>
      </footer>
    </div>
  );
}
