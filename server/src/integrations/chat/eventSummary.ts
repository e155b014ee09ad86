/**
 * What a chat message says about an event, independent of the chat service: a title, a line
 * saying what happened, a few facts (status, impact, services, window), the text of an update,
 * and a link. Public items link to the organization's status page; internal ones to the
 * dashboard, which only members can open.
 */
export interface EventSummary {
  title: string;
  headline: string;
  facts: { name: string; value: string }[];
  body: string | null;
  link: { url: string; label: string };
  tone: "critical" | "warning" | "good" | "info";
  organizationName: string;
}

type Json = Record<string, unknown>;

export interface SummaryInput {
  type: string;
  isPublic: boolean;
  /** The event's payload (snake_case, as webhooks receive it). */
  payload: Json;
  /** The web server's origin, e.g. https://status.example.com. */
  publicUrl: string;
  /** Whether the receiver may hear of hidden services (its include_internal setting). */
  includeInternal: boolean;
}

const object = (value: unknown): Json => (value && typeof value === "object" ? (value as Json) : {});
const text = (value: unknown): string => (value === null || value === undefined ? "" : String(value));

/** "degraded_performance" → "Degraded performance". */
export function humanize(value: unknown): string {
  const words = text(value).replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const IMPACT_TONE: Record<string, EventSummary["tone"]> = {
  none: "info",
  minor: "warning",
  major: "critical",
  critical: "critical",
};

const INCIDENT_HEADLINES: Record<string, string> = {
  "incident.created": "New incident",
  "incident.updated": "Incident updated",
  "incident.resolved": "Incident resolved",
};

export function summarizeEvent({ type, isPublic, payload, publicUrl, includeInternal }: SummaryInput): EventSummary {
  const organization = object(payload.organization);
  const organizationName = text(organization.name);
  const base = publicUrl.replace(/\/+$/, "");
  const link = isPublic
    ? { url: `${base}${text(organization.status_page_path)}`, label: "View the status page" }
    : { url: `${base}/`, label: "Open the dashboard" };
  const withServices = (facts: EventSummary["facts"], services: unknown) => {
    const names = (Array.isArray(services) ? services : [])
      .map(object)
      .filter((service) => includeInternal || !service.hidden)
      .map((service) => text(service.name))
      .join(", ");
    return names ? [...facts, { name: "Services", value: names }] : facts;
  };
  const common = { link, organizationName, body: null };

  if (type.startsWith("incident")) {
    const incident = object(payload.incident);
    const update = payload.incident_update ? object(payload.incident_update) : null;
    const internal = incident.visibility === "internal" || (update !== null && !update.is_public);
    const status = update?.status ?? incident.status;
    const headline = INCIDENT_HEADLINES[type] ?? `Update: ${humanize(status)}`;
    return {
      ...common,
      title: text(incident.title) || "Incident",
      headline: `${headline}${internal ? " (internal)" : ""}`,
      facts: withServices(
        [
          { name: "Status", value: humanize(status) },
          { name: "Impact", value: humanize(incident.impact) },
          { name: "Severity", value: humanize(incident.severity) },
        ],
        incident.services,
      ),
      body: update?.body ? text(update.body) : null,
      tone: type === "incident.resolved" ? "good" : (IMPACT_TONE[text(incident.impact)] ?? "warning"),
    };
  }
  if (type.startsWith("maintenance.")) {
    const maintenance = object(payload.maintenance);
    const action = type.slice("maintenance.".length);
    return {
      ...common,
      title: text(maintenance.title) || "Maintenance",
      headline: `Maintenance ${action}`,
      facts: withServices(
        [
          { name: "Status", value: humanize(maintenance.status) },
          { name: "Window", value: `${text(maintenance.starts_at)} – ${text(maintenance.ends_at)}` },
        ],
        maintenance.services,
      ),
      body: maintenance.body ? text(maintenance.body) : null,
      tone: action === "completed" ? "good" : "info",
    };
  }
  if (type === "service.status_changed") {
    const service = object(payload.service);
    return {
      ...common,
      title: text(service.name) || "Service",
      headline: `Status changed from ${humanize(payload.previous_status)} to ${humanize(service.status)}`,
      facts: [{ name: "Status", value: humanize(service.status) }],
      tone: service.status === "operational" ? "good" : service.status === "under_maintenance" ? "info" : "warning",
    };
  }
  if (type === "page.status_changed") {
    const status = object(payload.status);
    return {
      ...common,
      title: `${organizationName} status`,
      headline: text(status.description) || humanize(status.indicator),
      facts: [{ name: "Indicator", value: humanize(status.indicator) }],
      tone: status.indicator === "none" ? "good" : (IMPACT_TONE[text(status.indicator)] ?? "warning"),
    };
  }
  return {
    ...common,
    title: "Test message from IncidentPulse",
    headline: `Notifications for ${organizationName} will appear here.`,
    facts: [],
    tone: "info",
  };
}
