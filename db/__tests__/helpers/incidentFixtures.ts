/**
 * Fixtures for services, incidents, updates, attachments and maintenance windows, created as
 * root inside the test's transaction.
 *
 * The database's SECURITY DEFINER triggers (status intervals, status refresh, audit) run as
 * the owner, whom the restrictive tenant fence binds to the active organization, so fixtures
 * name the organization in `jwt.claims.org_id` while they write (as the worker does), then
 * put the previous claim back.
 */
import type { Client } from "./transactions.ts";
import type { OrganizationFixture } from "./factories.ts";

export type ServiceStatus =
  "operational" | "under_maintenance" | "degraded_performance" | "partial_outage" | "major_outage";
export type IncidentStatus = "investigating" | "identified" | "monitoring" | "resolved";
export type Severity = "low" | "medium" | "high" | "critical";
export type Impact = "none" | "minor" | "major" | "critical";
export type MaintenanceStatus = "scheduled" | "in_progress" | "completed" | "canceled";

/** Runs `fn` as root with `organizationId` as the active organization, then restores the claim. */
export async function asRootIn<T>(client: Client, organizationId: string, fn: () => Promise<T>): Promise<T> {
  const { rows } = await client.query<{ role: string; org: string | null }>(
    "select current_user as role, current_setting('jwt.claims.org_id', true) as org",
  );
  const { role, org } = rows[0]!;
  await client.query("reset role");
  await client.query("select set_config('jwt.claims.org_id', $1, true)", [organizationId]);
  const result = await fn();
  await client.query("select set_config('jwt.claims.org_id', $1, true)", [org ?? ""]);
  const { rows: superuser } = await client.query<{ is: boolean }>(
    "select rolsuper as is from pg_roles where rolname = $1",
    [role],
  );
  if (!superuser[0]?.is) await client.query("select set_config('role', $1, true)", [role]);
  return result;
}

export async function createServiceGroup(
  client: Client,
  organizationId: string,
  name = "Core",
  position = 0,
): Promise<string> {
  return asRootIn(client, organizationId, async () => {
    const { rows } = await client.query<{ id: string }>(
      "insert into app_public.service_groups (organization_id, name, position) values ($1, $2, $3) returning id",
      [organizationId, name, position],
    );
    return rows[0]!.id;
  });
}

export interface ServiceOptions {
  name?: string;
  groupId?: string | null;
  hidden?: boolean;
  status?: ServiceStatus;
  position?: number;
  description?: string | null;
}

export async function createService(client: Client, organizationId: string, options: ServiceOptions = {}) {
  return asRootIn(client, organizationId, async () => {
    const { rows } = await client.query<{ id: string }>(
      `insert into app_public.services (organization_id, name, group_id, hidden, status, position, description)
       values ($1, $2, $3, $4, $5, $6, $7) returning id`,
      [
        organizationId,
        options.name ?? `Service ${Math.random().toString(36).slice(2, 8)}`,
        options.groupId ?? null,
        options.hidden ?? false,
        options.status ?? "operational",
        options.position ?? 0,
        options.description ?? null,
      ],
    );
    return rows[0]!.id;
  });
}

export interface IncidentOptions {
  title?: string;
  severity?: Severity;
  status?: IncidentStatus;
  assigneeId?: string | null;
  startedAt?: string | Date;
  acknowledgedAt?: string | Date | null;
  resolvedAt?: string | Date | null;
  rootCause?: string | null;
  resolutionSummary?: string | null;
  impactOverride?: Impact | null;
  visibility?: "public" | "internal";
}

export async function createIncident(
  client: Client,
  organizationId: string,
  options: IncidentOptions = {},
): Promise<string> {
  const resolved = options.status === "resolved";
  return asRootIn(client, organizationId, async () => {
    const { rows } = await client.query<{ id: string }>(
      `insert into app_public.incidents
         (organization_id, title, severity, status, assignee_id, started_at, acknowledged_at, resolved_at,
          root_cause, resolution_summary, impact_override, visibility)
       values ($1, $2, $3, $4, $5, coalesce($6::timestamptz, now()), $7, $8, $9, $10, $11, $12) returning id`,
      [
        organizationId,
        options.title ?? "Something is wrong",
        options.severity ?? "medium",
        options.status ?? "investigating",
        options.assigneeId ?? null,
        options.startedAt ?? null,
        options.acknowledgedAt ?? null,
        options.resolvedAt ?? null,
        options.rootCause ?? (resolved ? "A cause" : null),
        options.resolutionSummary ?? (resolved ? "A fix" : null),
        options.impactOverride ?? null,
        options.visibility ?? "public",
      ],
    );
    return rows[0]!.id;
  });
}

/** Gives an incident the root cause and summary resolving needs. */
export async function makeResolvable(client: Client, organizationId: string, incidentId: string): Promise<void> {
  await asRootIn(client, organizationId, async () => {
    await client.query(
      "update app_public.incidents set root_cause = 'A cause', resolution_summary = 'A fix' where organization_id = $1 and id = $2",
      [organizationId, incidentId],
    );
  });
}

/** Claims a status for a service in an incident (insert or change the claim). */
export async function claim(
  client: Client,
  organizationId: string,
  incidentId: string,
  serviceId: string,
  status: ServiceStatus,
): Promise<void> {
  await asRootIn(client, organizationId, async () => {
    await client.query(
      `insert into app_public.incident_services (organization_id, incident_id, service_id, status) values ($1, $2, $3, $4)
       on conflict (organization_id, incident_id, service_id) do update set status = excluded.status`,
      [organizationId, incidentId, serviceId, status],
    );
  });
}

/** Moves an incident's status the way an update does (as root, through incident_updates). */
export async function postUpdate(
  client: Client,
  organizationId: string,
  incidentId: string,
  status: IncidentStatus,
  body = "Update",
): Promise<string> {
  return asRootIn(client, organizationId, async () => {
    const { rows } = await client.query<{ id: string }>(
      "insert into app_public.incident_updates (organization_id, incident_id, status, body) values ($1, $2, $3, $4) returning id",
      [organizationId, incidentId, status, body],
    );
    return rows[0]!.id;
  });
}

export async function createAttachment(
  client: Client,
  organizationId: string,
  incidentId: string,
  content: Buffer = Buffer.from("log line\n"),
  contentType = "text/plain",
  filename = "log.txt",
): Promise<string> {
  return asRootIn(client, organizationId, async () => {
    const { rows } = await client.query<{ id: string }>(
      `insert into app_public.incident_attachments (organization_id, incident_id, filename, content_type, content)
       values ($1, $2, $3, $4, $5) returning id`,
      [organizationId, incidentId, filename, contentType, content],
    );
    return rows[0]!.id;
  });
}

export interface MaintenanceOptions {
  title?: string;
  /** SQL interval relative to now(), e.g. '-1 hour'. */
  startsIn?: string;
  endsIn?: string;
  serviceIds?: string[];
}

export async function createMaintenance(
  client: Client,
  organizationId: string,
  options: MaintenanceOptions = {},
): Promise<string> {
  return asRootIn(client, organizationId, async () => {
    const { rows } = await client.query<{ id: string }>(
      `insert into app_public.maintenance_windows (organization_id, title, starts_at, ends_at)
       values ($1, $2, now() + $3::interval, now() + $4::interval) returning id`,
      [organizationId, options.title ?? "Planned work", options.startsIn ?? "1 day", options.endsIn ?? "1 day 2 hours"],
    );
    const id = rows[0]!.id;
    for (const serviceId of options.serviceIds ?? []) {
      await client.query(
        "insert into app_public.maintenance_services (organization_id, maintenance_window_id, service_id) values ($1, $2, $3)",
        [organizationId, id, serviceId],
      );
    }
    return id;
  });
}

/** Moves a window to the state it should have now, as the worker does. */
export async function advanceMaintenance(client: Client, organizationId: string, maintenanceId: string) {
  return asRootIn(client, organizationId, async () => {
    const { rows } = await client.query<{ status: MaintenanceStatus }>(
      "select status::text as status from app_private.advance_maintenance_window($1, $2)",
      [organizationId, maintenanceId],
    );
    return rows[0]?.status;
  });
}

/** The statuses of services as root sees them, in the order given. */
export async function statusesOf(client: Client, ...serviceIds: string[]): Promise<(ServiceStatus | undefined)[]> {
  const { rows } = await client.query<{ id: string; status: ServiceStatus }>(
    "select id, status::text as status from app_public.services where id = any($1)",
    [serviceIds],
  );
  return serviceIds.map((id) => rows.find((row) => row.id === id)?.status);
}

export interface IncidentState {
  status: IncidentStatus;
  impact: Impact;
  reopened_count: number;
  acknowledged: boolean;
  resolved: boolean;
}

export async function incidentState(client: Client, incidentId: string): Promise<IncidentState | undefined> {
  const { rows } = await client.query<IncidentState>(
    `select status::text as status, impact::text as impact, reopened_count,
            acknowledged_at is not null as acknowledged, resolved_at is not null as resolved
     from app_public.incidents where id = $1`,
    [incidentId],
  );
  return rows[0];
}

/** Rows of a table, as root, counted with a filter. */
export async function countRows(client: Client, text: string, values: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from (${text}) as counted`, values);
  return rows[0]!.n;
}

/** One of everything in an organization, for the access matrix of each table. */
export interface OrgSeed {
  organizationId: string;
  groupId: string;
  serviceId: string;
  /** Not claimed by any incident. */
  otherServiceId: string;
  incidentId: string;
  updateId: string;
  attachmentId: string;
  maintenanceId: string;
}

export async function seedOrganization(client: Client, organization: OrganizationFixture): Promise<OrgSeed> {
  const organizationId = organization.id;
  const groupId = await createServiceGroup(client, organizationId, "Core");
  const serviceId = await createService(client, organizationId, { name: "API", groupId });
  const otherServiceId = await createService(client, organizationId, { name: "Web" });
  const incidentId = await createIncident(client, organizationId, {
    title: "Database latency",
    assigneeId: organization.members.editor.id,
  });
  await claim(client, organizationId, incidentId, serviceId, "degraded_performance");
  const updateId = await postUpdate(client, organizationId, incidentId, "identified", "Found it");
  const attachmentId = await createAttachment(client, organizationId, incidentId);
  const maintenanceId = await createMaintenance(client, organizationId, { serviceIds: [otherServiceId] });
  return {
    organizationId,
    groupId,
    serviceId,
    otherServiceId,
    incidentId,
    updateId,
    attachmentId,
    maintenanceId,
  };
}
