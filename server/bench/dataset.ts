/**
 * The scale dataset: N organizations × M incidents, each organization with one owner (who
 * can sign in), a service group and services, incidents with updates and affected services,
 * and maintenance windows. Loaded with set-based SQL (insert … select generate_series) as the
 * superuser, so 1,000 × 1,000 takes a minute or two rather than hours.
 *
 * Triggers: every tenant table carries row triggers (timestamps, lifecycle, audit log, events
 * for integrations, a status-snapshot job per row). Fired for a million rows they would
 * dominate the load and fill the audit log, events and job queue with rows no benchmark
 * wants. So the load runs with `session_replication_role = replica`, which skips all of them,
 * foreign-key checks included, and the generator itself writes what they would have:
 * consistent timestamps, acknowledged/resolved times and impact (lifecycle), service status
 * from the open incidents' claims plus one open status interval per service (status
 * triggers), and finally one status snapshot per organization through the real
 * app_private.rebuild_status_snapshot (what the rebuild jobs would have done). Identifiers
 * are derived with md5 from the row's numbers, so related rows are joined by computation
 * rather than lookups. Check constraints still apply. ANALYZE closes the load.
 *
 * Organization `n` (1-based) has slug bench-<n>; its owner signs in as bench-<n>@example.com.
 */
import pg from "pg";
import type { DatabaseConfig } from "../../db/src/config.ts";

export const SERVICES_PER_ORGANIZATION = 5;
export const MAINTENANCE_PER_ORGANIZATION = 10;
/** The newest incidents of every organization are open; the rest are resolved. */
export const OPEN_INCIDENTS_PER_ORGANIZATION = 2;

export interface DatasetSummary {
  organizations: number;
  incidentsPerOrganization: number;
  rows: Record<string, number>;
  loadSeconds: number;
  snapshotSeconds: number;
  analyzeSeconds: number;
}

/**
 * A uuid derived from a text key (SQL expression): md5 with the version (4) and variant bits
 * set, so it passes every uuid validator (the worker's payload checks among them).
 */
export const id = (key: string) => `overlay(overlay(md5(${key}) placing '4' from 13) placing '8' from 17)::uuid`;

// The sizes are $1 (organizations) and $2 (incidents per organization).
const LOAD: { table: string; sql: string }[] = [
  {
    table: "app_public.users",
    sql: `insert into app_public.users (id, email, name, created_at, updated_at)
          select ${id("'user-' || n")}, 'bench-' || n || '@example.com', 'Bench owner ' || n, now(), now()
          from generate_series(1, $1) n`,
  },
  {
    // One bcrypt hash (low cost: sign-in speed is not what is measured) shared by every owner.
    table: "app_private.user_credentials",
    sql: `insert into app_private.user_credentials (user_id, password_hash)
          select ${id("'user-' || n")}, h.hash
          from generate_series(1, $1) n,
               (select public.crypt('benchmark-password', public.gen_salt('bf', 4)) as hash) h`,
  },
  {
    table: "app_private.sessions",
    sql: `insert into app_private.sessions (id, user_id, expires_at)
          select ${id("'session-' || n")}, ${id("'user-' || n")}, now() + interval '30 days'
          from generate_series(1, $1) n`,
  },
  {
    table: "app_public.organizations",
    sql: `insert into app_public.organizations (id, name, slug, plan, created_at, updated_at)
          select ${id("'org-' || n")}, 'Bench organization ' || n, 'bench-' || n, 'enterprise',
                 now() - interval '3 years', now() - interval '3 years'
          from generate_series(1, $1) n`,
  },
  {
    table: "app_public.status_page_settings",
    sql: `insert into app_public.status_page_settings (organization_id, description, created_at, updated_at)
          select ${id("'org-' || n")}, 'Generated for the benchmark.', now() - interval '3 years',
                 now() - interval '3 years'
          from generate_series(1, $1) n`,
  },
  {
    table: "app_public.organization_memberships",
    sql: `insert into app_public.organization_memberships (organization_id, user_id, role)
          select ${id("'org-' || n")}, ${id("'user-' || n")}, 'owner'
          from generate_series(1, $1) n`,
  },
  {
    table: "app_public.service_groups",
    sql: `insert into app_public.service_groups (organization_id, id, name, position)
          select ${id("'org-' || n")}, ${id("'group-' || n")}, 'Platform', 0
          from generate_series(1, $1) n`,
  },
  {
    table: "app_public.services",
    sql: `insert into app_public.services (organization_id, id, name, position, group_id, hidden, created_at,
                                           updated_at, status_changed_at)
          select ${id("'org-' || n")}, ${id("'service-' || n || '-' || s")}, 'Service ' || s, s,
                 case when s <= 3 then ${id("'group-' || n")} end, s = ${SERVICES_PER_ORGANIZATION},
                 now() - interval '3 years', now() - interval '3 years', now() - interval '3 years'
          from generate_series(1, $1) n, generate_series(1, ${SERVICES_PER_ORGANIZATION}) s`,
  },
  {
    // Incident i of each organization started i hours before the newest; the newest are open.
    // Every tenth is internal. Open incidents claim service 1 degraded, so their impact is minor.
    table: "app_public.incidents",
    sql: `insert into app_public.incidents (organization_id, id, title, description, severity, status, impact,
                                            visibility, started_at, acknowledged_at, resolved_at, root_cause,
                                            resolution_summary, created_by_id, created_at, updated_at)
          select ${id("'org-' || n")}, ${id("'incident-' || n || '-' || i")}, 'Incident ' || i || ' of ' || n,
                 'Generated for the benchmark.',
                 (array['low', 'medium', 'high', 'critical'])[1 + i % 4]::app_public.incident_severity,
                 case when i <= ${OPEN_INCIDENTS_PER_ORGANIZATION} then 'investigating' else 'resolved' end
                   ::app_public.incident_status,
                 case when i <= ${OPEN_INCIDENTS_PER_ORGANIZATION} then 'minor' else 'none' end
                   ::app_public.incident_impact,
                 case when i % 10 = 0 then 'internal' else 'public' end::app_public.incident_visibility,
                 t.started_at, t.started_at + interval '5 minutes',
                 case when i > ${OPEN_INCIDENTS_PER_ORGANIZATION} then t.started_at + interval '1 hour' end,
                 case when i > ${OPEN_INCIDENTS_PER_ORGANIZATION} then 'A generated root cause.' end,
                 case when i > ${OPEN_INCIDENTS_PER_ORGANIZATION} then 'A generated resolution.' end,
                 ${id("'user-' || n")}, t.started_at, t.started_at + interval '1 hour'
          from generate_series(1, $1) n, generate_series(1, $2) i,
               lateral (select now() - i * interval '1 hour' - (n % 60) * interval '1 minute' as started_at) t`,
  },
  {
    table: "app_public.incident_services",
    sql: `insert into app_public.incident_services (organization_id, incident_id, service_id, status)
          select ${id("'org-' || n")}, ${id("'incident-' || n || '-' || i")},
                 ${id(`'service-' || n || '-' || (case when i <= ${OPEN_INCIDENTS_PER_ORGANIZATION} then 1 else 1 + i % 4 end)`)},
                 'degraded_performance'
          from generate_series(1, $1) n, generate_series(1, $2) i`,
  },
  {
    // Open incidents have one update (investigating); resolved ones two (investigating, resolved).
    table: "app_public.incident_updates",
    sql: `insert into app_public.incident_updates (organization_id, id, incident_id, status, previous_status, body,
                                                   display_at, author_user_id, created_at, updated_at)
          select ${id("'org-' || n")}, ${id("'update-' || n || '-' || i || '-' || u")},
                 ${id("'incident-' || n || '-' || i")},
                 case when u = 1 then 'investigating' else 'resolved' end::app_public.incident_status,
                 case when u = 2 then 'investigating' end::app_public.incident_status,
                 case when u = 1 then 'We are looking into it.' else 'Resolved.' end,
                 t.at, ${id("'user-' || n")}, t.at, t.at
          from generate_series(1, $1) n, generate_series(1, $2) i, generate_series(1, 2) u,
               lateral (select now() - i * interval '1 hour' - (n % 60) * interval '1 minute'
                               + (u - 1) * interval '1 hour' as at) t
          where u = 1 or i > ${OPEN_INCIDENTS_PER_ORGANIZATION}`,
  },
  {
    // Weekly windows: the newest is scheduled a week ahead, the others completed.
    table: "app_public.maintenance_windows",
    sql: `insert into app_public.maintenance_windows (organization_id, id, title, body, status, starts_at, ends_at,
                                                      started_at, completed_at, created_by_id, created_at, updated_at)
          select ${id("'org-' || n")}, ${id("'maintenance-' || n || '-' || w")}, 'Maintenance ' || w, '',
                 case when w = 1 then 'scheduled' else 'completed' end::app_public.maintenance_status,
                 t.starts_at, t.starts_at + interval '2 hours',
                 case when w > 1 then t.starts_at end, case when w > 1 then t.starts_at + interval '2 hours' end,
                 ${id("'user-' || n")}, now() - interval '1 year', now() - interval '1 year'
          from generate_series(1, $1) n, generate_series(1, ${MAINTENANCE_PER_ORGANIZATION}) w,
               lateral (select date_trunc('hour', now()) + (2 - w) * interval '7 days' as starts_at) t`,
  },
  {
    table: "app_public.maintenance_services",
    sql: `insert into app_public.maintenance_services (organization_id, maintenance_window_id, service_id)
          select ${id("'org-' || n")}, ${id("'maintenance-' || n || '-' || w")}, ${id("'service-' || n || '-' || 2")}
          from generate_series(1, $1) n, generate_series(1, ${MAINTENANCE_PER_ORGANIZATION}) w`,
  },
];

/** What the status triggers would have left: each service's status from open claims, and its open interval. */
const DERIVED = [
  `update app_public.services s
   set status = c.status
   from (select c.organization_id, c.service_id, max(c.status) as status
         from app_public.incident_services c
         join app_public.incidents i on i.organization_id = c.organization_id and i.id = c.incident_id
         where i.status <> 'resolved'
         group by 1, 2) c
   where s.organization_id = c.organization_id and s.id = c.service_id`,
  `insert into app_public.service_status_intervals (organization_id, service_id, status, started_at)
   select organization_id, id, status, created_at from app_public.services`,
];

export interface DatasetOptions {
  organizations: number;
  incidentsPerOrganization: number;
  /** Build every organization's snapshot (the bench); a plan test needs none. */
  snapshots: boolean;
  log?: (message: string) => void;
}

export async function generateDataset(
  database: DatabaseConfig,
  rootPool: pg.Pool,
  options: DatasetOptions,
): Promise<DatasetSummary> {
  const { organizations, incidentsPerOrganization, log = () => undefined } = options;
  const rows: Record<string, number> = {};
  const client = await rootPool.connect();
  const loadStarted = performance.now();
  try {
    await client.query("begin");
    await client.query("set local session_replication_role = replica");
    for (const step of LOAD) {
      const started = performance.now();
      const sizes = step.sql.includes("$2") ? [organizations, incidentsPerOrganization] : [organizations];
      const result = await client.query(step.sql, sizes);
      rows[step.table] = result.rowCount ?? 0;
      log(`  ${step.table}: ${rows[step.table]} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    for (const sql of DERIVED) await client.query(sql);
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  // The analyzer needs statistics before the snapshot builds plan their queries.
  let analyzeStarted = performance.now();
  await rootPool.query("analyze");
  let analyzeSeconds = (performance.now() - analyzeStarted) / 1000;

  // One snapshot per organization, as the rebuild jobs would have built them (after the nightly
  // uptime roll-up), on two connections.
  const snapshotStarted = performance.now();
  const { rows: orgs } = await rootPool.query<{ id: string }>("select id from app_public.organizations");
  const queue = options.snapshots ? orgs.map((org) => org.id) : [];
  await Promise.all(
    [0, 1].map(async () => {
      if (queue.length === 0) return;
      const worker = new pg.Client({ connectionString: rootUrlOf(database) });
      await worker.connect();
      try {
        for (let next = queue.pop(); next; next = queue.pop()) {
          // Any installation older than a day has had its nightly roll-up: finished days'
          // uptime comes from service_uptime_days, and only today is computed at each rebuild.
          await worker.query("select app_private.roll_up_uptime($1)", [next]);
          await worker.query("select app_private.rebuild_status_snapshot($1)", [next]);
        }
      } finally {
        await worker.end();
      }
    }),
  );
  const snapshotSeconds = (performance.now() - snapshotStarted) / 1000;
  rows["app_public.status_snapshots"] = options.snapshots ? orgs.length : 0;

  analyzeStarted = performance.now();
  await rootPool.query("analyze app_public.status_snapshots");
  analyzeSeconds += (performance.now() - analyzeStarted) / 1000;
  return { organizations, incidentsPerOrganization, rows, loadSeconds, snapshotSeconds, analyzeSeconds };
}

/** The superuser's URL on the bench database. */
export function rootUrlOf(database: DatabaseConfig): string {
  const url = new URL(database.rootUrl!);
  url.pathname = `/${database.name}`;
  return url.toString();
}

/** Organization `n`'s id and owner (user and session), as the generator derived them. */
export async function benchIdentity(
  pool: pg.Pool,
  n: number,
): Promise<{ organizationId: string; userId: string; sessionId: string }> {
  const { rows } = await pool.query<{ organization_id: string; user_id: string; session_id: string }>(
    `select ${id("'org-' || $1::int")} as organization_id, ${id("'user-' || $1::int")} as user_id,
            ${id("'session-' || $1::int")} as session_id`,
    [n],
  );
  return { organizationId: rows[0]!.organization_id, userId: rows[0]!.user_id, sessionId: rows[0]!.session_id };
}
