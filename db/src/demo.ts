/**
 * A realistic demo organization, so a newcomer's first `npm start` shows a real status page:
 * grouped services (one hidden), resolved incidents with full timelines, an active incident,
 * a scheduled maintenance and 90 days of status history. Seeded once per database
 * (app_private.instance_settings.demo_seeded_at); tests reuse it.
 *
 * Runs as the owner inside one transaction fenced to the demo organization, through the same
 * tables and triggers as the API; only history is back-dated by hand.
 */
import pg from "pg";

export interface DemoSeedResult {
  organizationId: string;
  slug: string;
}

type Client = pg.PoolClient | pg.Client;

const HOUR = 3600_000;
const DAY = 24 * HOUR;

interface DemoIncident {
  title: string;
  severity: "low" | "medium" | "high" | "critical";
  daysAgo: number;
  durationMinutes: number;
  services: Record<string, "degraded_performance" | "partial_outage" | "major_outage">;
  rootCause: string;
  resolutionSummary: string;
  timeline: [
    minutesAfterStart: number,
    status: "investigating" | "identified" | "monitoring" | "resolved",
    body: string,
  ][];
  internalNote?: string;
}

const GROUPS = ["Core platform", "Integrations"];
const SERVICES: { name: string; group: string | null; description: string; hidden?: boolean }[] = [
  { name: "API", group: "Core platform", description: "The public REST and GraphQL API." },
  { name: "Web app", group: "Core platform", description: "The dashboard at app.acme.example." },
  { name: "Database", group: "Core platform", description: "Primary data store." },
  { name: "Webhooks", group: "Integrations", description: "Outbound event deliveries." },
  { name: "Email notifications", group: "Integrations", description: "Alert and digest emails." },
  { name: "Internal admin", group: null, description: "Back-office tools.", hidden: true },
];

const RESOLVED_INCIDENTS: DemoIncident[] = [
  {
    title: "Elevated API error rates",
    severity: "high",
    daysAgo: 9,
    durationMinutes: 47,
    services: { API: "partial_outage", "Web app": "degraded_performance" },
    rootCause: "A configuration change halved the API's connection pool.",
    resolutionSummary: "Rolled back the change and added a pool-size check to deploys.",
    timeline: [
      [0, "investigating", "We are seeing elevated error rates on the API and are investigating."],
      [12, "identified", "A configuration change reduced database connections. Rolling it back."],
      [25, "monitoring", "The rollback is complete; error rates are back to normal. Monitoring."],
      [47, "resolved", "This incident has been resolved."],
    ],
    internalNote: "Pager fired at 14:02; rollback approved by on-call lead.",
  },
  {
    title: "Delayed webhook deliveries",
    severity: "medium",
    daysAgo: 4,
    durationMinutes: 95,
    services: { Webhooks: "degraded_performance" },
    rootCause: "A retry storm from one large customer saturated the delivery queue.",
    resolutionSummary: "Added per-endpoint concurrency limits; the backlog drained.",
    timeline: [
      [0, "investigating", "Webhook deliveries are delayed by up to 20 minutes."],
      [30, "identified", "A queue backlog is the cause; we are adding capacity."],
      [95, "resolved", "All delayed webhooks have been delivered."],
    ],
  },
  {
    title: "Sign-in failures for some users",
    severity: "critical",
    daysAgo: 23,
    durationMinutes: 31,
    services: { "Web app": "major_outage" },
    rootCause: "An expired TLS certificate on the identity provider connection.",
    resolutionSummary: "Renewed the certificate and added expiry monitoring.",
    timeline: [
      [0, "investigating", "Some users cannot sign in. We are investigating."],
      [10, "identified", "An expired certificate is the cause; renewing it now."],
      [31, "resolved", "Sign-in works again for everyone."],
    ],
  },
];

async function inOrganization(client: Client, organizationId: string): Promise<void> {
  await client.query("select set_config('jwt.claims.org_id', $1, true)", [organizationId]);
}

async function demoOrganization(client: Client, multiTenant: boolean): Promise<DemoSeedResult> {
  if (!multiTenant) {
    const { rows } = await client.query<{ id: string; slug: string }>(
      "select id, slug from app_private.ensure_default_organization()",
    );
    return { organizationId: rows[0]!.id, slug: rows[0]!.slug };
  }
  const { rows } = await client.query<{ id: string; slug: string }>(
    // A showcase, not a customer: the enterprise plan, so its sample data fits the plan limits.
    `insert into app_public.organizations (name, slug, plan) values ('Acme Cloud (demo)', 'demo', 'enterprise')
     on conflict (slug) do update set name = excluded.name returning id, slug`,
  );
  return { organizationId: rows[0]!.id, slug: rows[0]!.slug };
}

/** Rewrites a service's status history: operational for 90 days but for the given outages. */
async function writeHistory(
  client: Client,
  serviceId: string,
  outages: { from: Date; to: Date; status: string }[],
  now: Date,
): Promise<void> {
  await client.query("delete from app_public.service_status_intervals where service_id = $1 and ended_at is not null", [
    serviceId,
  ]);
  const sorted = [...outages].sort((a, b) => a.from.getTime() - b.from.getTime());
  let cursor = new Date(now.getTime() - 90 * DAY);
  for (const outage of sorted) {
    await client.query(
      `insert into app_public.service_status_intervals (organization_id, service_id, status, started_at, ended_at)
       values (app_hidden.current_org_id(), $1, 'operational', $2, $3), (app_hidden.current_org_id(), $1, $4, $3, $5)`,
      [serviceId, cursor, outage.from, outage.status, outage.to],
    );
    cursor = outage.to;
  }
  // History runs up to the open interval (the current status), read in SQL to keep its
  // microseconds (a JavaScript Date keeps milliseconds only).
  await client.query(
    `insert into app_public.service_status_intervals (organization_id, service_id, status, started_at, ended_at)
     select organization_id, service_id, 'operational', $2, started_at
     from app_public.service_status_intervals where service_id = $1 and ended_at is null`,
    [serviceId, cursor],
  );
}

async function seed(client: Client, multiTenant: boolean): Promise<DemoSeedResult> {
  const organization = await demoOrganization(client, multiTenant);
  await inOrganization(client, organization.organizationId);
  const now = new Date();

  const groupIds = new Map<string, string>();
  for (const [position, name] of GROUPS.entries()) {
    const { rows } = await client.query<{ id: string }>(
      "insert into app_public.service_groups (name, position) values ($1, $2) returning id",
      [name, position],
    );
    groupIds.set(name, rows[0]!.id);
  }
  const serviceIds = new Map<string, string>();
  for (const [position, service] of SERVICES.entries()) {
    const { rows } = await client.query<{ id: string }>(
      `insert into app_public.services (name, description, position, group_id, hidden)
       values ($1, $2, $3, $4, $5) returning id`,
      [
        service.name,
        service.description,
        position,
        service.group ? groupIds.get(service.group) : null,
        !!service.hidden,
      ],
    );
    serviceIds.set(service.name, rows[0]!.id);
  }

  const outagesByService = new Map<string, { from: Date; to: Date; status: string }[]>();
  for (const incident of RESOLVED_INCIDENTS) {
    const startedAt = new Date(now.getTime() - incident.daysAgo * DAY);
    const at = (minutes: number) => new Date(startedAt.getTime() + minutes * 60_000);
    const resolvedAt = at(incident.durationMinutes);
    const { rows } = await client.query<{ id: string }>(
      `insert into app_public.incidents (title, severity, started_at, root_cause, resolution_summary)
       values ($1, $2, $3, $4, $5) returning id`,
      [incident.title, incident.severity, startedAt, incident.rootCause, incident.resolutionSummary],
    );
    const incidentId = rows[0]!.id;
    for (const [service, status] of Object.entries(incident.services)) {
      await client.query(
        "insert into app_public.incident_services (incident_id, service_id, status) values ($1, $2, $3)",
        [incidentId, serviceIds.get(service), status],
      );
      const outages = outagesByService.get(service) ?? [];
      outages.push({ from: startedAt, to: resolvedAt, status });
      outagesByService.set(service, outages);
    }
    for (const [minutes, status, body] of incident.timeline) {
      await client.query(
        "insert into app_public.incident_updates (incident_id, status, body, display_at) values ($1, $2, $3, $4)",
        [incidentId, status, body, at(minutes)],
      );
    }
    if (incident.internalNote) {
      await client.query(
        `insert into app_public.incident_updates (incident_id, status, body, is_public, display_at)
         values ($1, 'resolved', $2, false, $3)`,
        [incidentId, incident.internalNote, at(incident.durationMinutes + 5)],
      );
    }
    await client.query("update app_public.incidents set acknowledged_at = $2, resolved_at = $3 where id = $1", [
      incidentId,
      at(Math.min(5, incident.durationMinutes)),
      resolvedAt,
    ]);
  }

  // The active incident claims a degraded email service; triggers derive the service status.
  const activeStart = new Date(now.getTime() - 40 * 60_000);
  const emailServiceId = serviceIds.get("Email notifications")!;
  const { rows: active } = await client.query<{ id: string }>(
    "insert into app_public.incidents (title, severity, started_at) values ($1, 'medium', $2) returning id",
    ["Delays in email notifications", activeStart],
  );
  const { rows: firstUpdate } = await client.query<{ id: string }>(
    `insert into app_public.incident_updates (incident_id, status, body, display_at)
     values ($1, 'investigating', 'Some notification emails are arriving late. We are investigating.', $2) returning id`,
    [active[0]!.id, activeStart],
  );
  await client.query(
    "insert into app_public.incident_services (incident_id, service_id, status) values ($1, $2, 'degraded_performance')",
    [active[0]!.id, emailServiceId],
  );
  await client.query(
    `insert into app_public.incident_update_service_changes (incident_update_id, service_id, old_status, new_status)
     values ($1, $2, 'operational', 'degraded_performance')`,
    [firstUpdate[0]!.id, emailServiceId],
  );
  await client.query(
    "insert into app_public.incident_updates (incident_id, status, body, display_at) values ($1, 'identified', $2, $3)",
    [
      active[0]!.id,
      "Our email provider is throttling deliveries; we are routing through a second provider.",
      new Date(now.getTime() - 15 * 60_000),
    ],
  );
  await client.query(
    "update app_public.service_status_intervals set started_at = $2 where service_id = $1 and ended_at is null",
    [emailServiceId, activeStart],
  );
  outagesByService.set("Email notifications", outagesByService.get("Email notifications") ?? []);

  for (const [service, outages] of outagesByService) {
    await writeHistory(client, serviceIds.get(service)!, outages, now);
  }
  for (const service of SERVICES) {
    if (!outagesByService.has(service.name)) await writeHistory(client, serviceIds.get(service.name)!, [], now);
  }

  const startsAt = new Date(Math.ceil((now.getTime() + 3 * DAY) / HOUR) * HOUR);
  const { rows: maintenance } = await client.query<{ id: string }>(
    `insert into app_public.maintenance_windows (title, body, starts_at, ends_at) values ($1, $2, $3, $4) returning id`,
    [
      "Database upgrade",
      "We are upgrading the primary database. The API may respond slowly for a few minutes.",
      startsAt,
      new Date(startsAt.getTime() + 2 * HOUR),
    ],
  );
  for (const service of ["Database", "API"]) {
    await client.query(
      "insert into app_public.maintenance_services (maintenance_window_id, service_id) values ($1, $2)",
      [maintenance[0]!.id, serviceIds.get(service)],
    );
  }
  return organization;
}

/** Seeds the demo organization unless this database was seeded before; returns it if seeded now. */
export async function seedDemoDataOnce(ownerUrl: string, multiTenant: boolean): Promise<DemoSeedResult | null> {
  const client = new pg.Client({ connectionString: ownerUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query("begin");
    const { rows } = await client.query<{ demo_seeded_at: Date | null }>(
      "select demo_seeded_at from app_private.instance_settings for update",
    );
    if (rows[0]?.demo_seeded_at) {
      await client.query("rollback");
      return null;
    }
    const result = await seed(client, multiTenant);
    await client.query("update app_private.instance_settings set demo_seeded_at = now()");
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
