/**
 * The emails subscribers receive: the confirmation (double opt-in) and one notification per
 * public event. Each carries the permanent unsubscribe link in its text and in the
 * `List-Unsubscribe` headers (RFC 2369, with RFC 8058 one-click). They say only what the
 * public page says: titles, statuses, public update text and visible services; everything
 * tenant-controlled is escaped in the HTML part.
 */
import type { OutgoingMail } from "../mail/mailer.ts";
import { escapeHtml } from "../public/feeds.ts";
import { CONFIRMATION_VALID_DAYS } from "./tokens.ts";

/** The organization as events describe it (app_private.event_organization_json). */
export interface PageOrganization {
  id: string;
  slug: string;
  name: string;
  status_page_path: string;
}

interface EventService {
  id: string;
  name: string;
  hidden: boolean;
}

/** The parts of an event payload (migrations/current/1-events.sql) a notification shows. */
export interface SubscriberEventPayload {
  organization: PageOrganization;
  incident?: { id: string; title: string; status: string; impact: string; services: EventService[] };
  incident_update?: { status: string; body: string; affected_services: EventService[] };
  maintenance?: {
    id: string;
    title: string;
    body: string | null;
    starts_at: string;
    ends_at: string;
    services: EventService[];
  };
}

/** Absolute links of one page, from the public origin and the page's path. */
export class PageLinks {
  readonly page: string;

  constructor(publicUrl: string, organization: PageOrganization) {
    this.page = `${publicUrl.replace(/\/+$/, "")}${organization.status_page_path}`;
  }

  confirm(token: string): string {
    return `${this.page}/subscriptions/confirm?token=${encodeURIComponent(token)}`;
  }

  unsubscribe(token: string): string {
    return `${this.page}/subscriptions/unsubscribe?token=${encodeURIComponent(token)}`;
  }

  incident(id: string): string {
    return `${this.page}/incidents/${id}`;
  }

  maintenance(id: string): string {
    return `${this.page}/maintenance/${id}`;
  }
}

const STATUS_LABELS: Record<string, string> = {
  investigating: "Investigating",
  identified: "Identified",
  monitoring: "Monitoring",
  resolved: "Resolved",
};

const label = (status: string) => STATUS_LABELS[status] ?? status;
/** Titles become one header line: no line breaks, no runs of spaces. */
const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();
const utc = (iso: string) => `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;
const visibleNames = (services: EventService[] | undefined) =>
  (services ?? []).filter((service) => !service.hidden).map((service) => service.name);

/** What a message says, before it is laid out as text and HTML. */
interface MessageContent {
  subject: string;
  heading: string;
  /** Short lines such as "Status: Investigating". */
  facts: string[];
  /** Free text written by the organization (an update, a maintenance description). */
  body?: string | undefined;
  action: { label: string; url: string };
  footer: string;
}

function render(to: string, content: MessageContent, unsubscribeUrl: string): OutgoingMail {
  const text = [
    content.heading,
    "",
    ...content.facts,
    ...(content.body ? ["", content.body] : []),
    "",
    `${content.action.label}: ${content.action.url}`,
    "",
    "--",
    content.footer,
    `Unsubscribe: ${unsubscribeUrl}`,
    "",
  ].join("\n");
  const paragraph = (value: string) => `<p>${escapeHtml(value).replace(/\r?\n/g, "<br>")}</p>`;
  const link = (url: string, text: string) => `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>`;
  const html = [
    "<!doctype html>",
    '<html><body style="font-family: sans-serif; line-height: 1.5; color: #1f2933">',
    `<h2 style="margin: 0 0 12px">${escapeHtml(content.heading)}</h2>`,
    ...content.facts.map(paragraph),
    ...(content.body ? [paragraph(content.body)] : []),
    `<p>${link(content.action.url, content.action.label)}</p>`,
    '<hr style="border: 0; border-top: 1px solid #d9e2ec">',
    `<p style="font-size: 12px; color: #52606d">${escapeHtml(content.footer)}<br>`,
    `${link(unsubscribeUrl, "Unsubscribe")}</p>`,
    "</body></html>",
  ].join("\n");
  return {
    to,
    subject: content.subject,
    text,
    html,
    headers: {
      "List-Unsubscribe": `<${unsubscribeUrl}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
  };
}

export interface ConfirmationMailInput {
  to: string;
  organization: PageOrganization;
  serviceNames: string[];
  links: PageLinks;
  confirmationToken: string;
  unsubscribeToken: string;
}

export function confirmationMail(input: ConfirmationMailInput): OutgoingMail {
  const name = oneLine(input.organization.name);
  const scope = input.serviceNames.length > 0 ? `Services: ${input.serviceNames.join(", ")}` : "Services: all services";
  return render(
    input.to,
    {
      subject: `Confirm your subscription to ${name} status updates`,
      heading: `Confirm your subscription to ${name} status updates`,
      facts: [
        `Someone, hopefully you, asked for ${name} incident and maintenance notifications to be sent to ${input.to}.`,
        scope,
        `The link works for ${CONFIRMATION_VALID_DAYS} days. If you did not ask for this, ignore this email: you will receive nothing more.`,
      ],
      action: { label: "Confirm your subscription", url: input.links.confirm(input.confirmationToken) },
      footer: `You receive this because this address was entered on the ${name} status page.`,
    },
    input.links.unsubscribe(input.unsubscribeToken),
  );
}

export interface NotificationMailInput {
  to: string;
  eventType: string;
  payload: SubscriberEventPayload;
  links: PageLinks;
  unsubscribeToken: string;
}

const MAINTENANCE_SUBJECTS: Record<string, string> = {
  "maintenance.scheduled": "Scheduled maintenance",
  "maintenance.started": "Maintenance in progress",
  "maintenance.completed": "Maintenance completed",
};

/** Null for an event that is not told to subscribers (the database only queues those that are). */
export function notificationMail(input: NotificationMailInput): OutgoingMail | null {
  const { payload, links } = input;
  const name = oneLine(payload.organization.name);
  const footer = `You receive this because you subscribed to ${name} status updates.`;
  let content: MessageContent;
  if (payload.incident && input.eventType.startsWith("incident")) {
    const { incident } = payload;
    const update = input.eventType === "incident_update.posted" ? payload.incident_update : undefined;
    const status = update?.status ?? incident.status;
    const services = [...new Set([...visibleNames(incident.services), ...visibleNames(update?.affected_services)])];
    const title = oneLine(incident.title);
    content = {
      subject: `[${name}] ${label(status)}: ${title}`,
      heading: title,
      facts: [
        `Status: ${label(status)}`,
        ...(incident.impact !== "none" ? [`Impact: ${incident.impact}`] : []),
        ...(services.length > 0 ? [`Affected services: ${services.join(", ")}`] : []),
      ],
      body:
        update?.body ??
        (input.eventType === "incident.resolved"
          ? "This incident has been resolved."
          : "We are investigating this incident."),
      action: { label: "View the incident", url: links.incident(incident.id) },
      footer,
    };
  } else if (payload.maintenance && MAINTENANCE_SUBJECTS[input.eventType]) {
    const { maintenance } = payload;
    const services = visibleNames(maintenance.services);
    const title = oneLine(maintenance.title);
    content = {
      subject: `[${name}] ${MAINTENANCE_SUBJECTS[input.eventType]}: ${title}`,
      heading: title,
      facts: [
        `${MAINTENANCE_SUBJECTS[input.eventType]}`,
        `Window: ${utc(maintenance.starts_at)} to ${utc(maintenance.ends_at)}`,
        ...(services.length > 0 ? [`Affected services: ${services.join(", ")}`] : []),
      ],
      body: maintenance.body ?? undefined,
      action: { label: "View the maintenance", url: links.maintenance(maintenance.id) },
      footer,
    };
  } else {
    return null;
  }
  return render(input.to, content, links.unsubscribe(input.unsubscribeToken));
}
