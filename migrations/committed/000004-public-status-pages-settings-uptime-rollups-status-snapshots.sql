--! Previous: sha1:783697365a5e46ac8961edb3590a3dcc6f3cd16c
--! Hash: sha1:760ac44770fccf1d44f20aacff3ed33ae0772fda
--! Message: public status pages: settings, uptime rollups, status snapshots

/*
 * The public status page never reads the live tables. The worker rebuilds one snapshot per
 * organization (the Statuspage summary plus history and uptime) whenever something public
 * changes, and the anonymous role reads snapshots of published, active organizations only.
 */

-- Re-runnable while it is work in progress.
drop table if exists app_public.status_snapshots, app_public.service_uptime_days, app_public.status_page_settings cascade;
drop trigger if exists _310_refresh_impacts on app_public.services;
drop function if exists app_private.tg_services__refresh_impacts cascade;
drop function if exists app_private.build_status_snapshot cascade;
drop function if exists app_private.rebuild_status_snapshot cascade;
drop function if exists app_private.tg__schedule_status_rebuild cascade;
drop trigger if exists _900_status_rebuild on app_public.organizations;
drop function if exists app_private.uptime_seconds cascade;
drop function if exists app_private.roll_up_uptime cascade;
drop function if exists app_private.service_uptime_window cascade;
drop function if exists app_private.component_json cascade;
drop function if exists app_private.incident_json cascade;
drop function if exists app_private.maintenance_json cascade;
drop function if exists app_private.status_indicator cascade;
drop function if exists app_private.tg_status_page_settings__check cascade;
alter table app_public.organizations drop column if exists suspended_at;

alter table app_public.organizations add column suspended_at timestamptz;
comment on column app_public.organizations.suspended_at is
  'Set by operators: a suspended organization''s status page answers 404 and reveals nothing.';

------------------------------------------------------------------------------------------
-- Page settings
------------------------------------------------------------------------------------------

create table app_public.status_page_settings (
  organization_id uuid primary key default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  title text check (length(btrim(title)) between 1 and 100),
  description text check (length(description) <= 2000),
  time_zone text not null default 'Etc/UTC',
  support_url text check (support_url ~ '^https?://[^\s]+$' and length(support_url) <= 500),
  published boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger _100_timestamps before insert or update on app_public.status_page_settings
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.status_page_settings', 'admin', 'admin', null);
grant select on app_public.status_page_settings to :DATABASE_VISITOR;
grant insert (title, description, time_zone, support_url, published),
  update (title, description, time_zone, support_url, published)
  on app_public.status_page_settings to :DATABASE_VISITOR;
comment on table app_public.status_page_settings is
  'How the public status page presents the organization (owners and admins). Without a row, the defaults apply: the organization''s name, UTC, published.';
comment on column app_public.status_page_settings.time_zone is 'An IANA time zone name, e.g. Europe/Berlin.';

create function app_private.tg_status_page_settings__check() returns trigger
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  if not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = new.time_zone) then
    perform app_hidden.raise_error('IPV01', format('Unknown time zone "%s".', left(new.time_zone, 60)));
  end if;
  return new;
end;
$$;
create trigger _200_check before insert or update on app_public.status_page_settings
  for each row execute function app_private.tg_status_page_settings__check();
create trigger _500_audit after insert or update or delete on app_public.status_page_settings
  for each row execute function app_private.tg__audit('organization_id');

------------------------------------------------------------------------------------------
-- Uptime: seconds per status per service per UTC day, rolled up nightly for finished days
------------------------------------------------------------------------------------------

create table app_public.service_uptime_days (
  organization_id uuid not null,
  service_id uuid not null,
  day date not null,
  operational_seconds integer not null default 0,
  degraded_seconds integer not null default 0,
  partial_outage_seconds integer not null default 0,
  major_outage_seconds integer not null default 0,
  maintenance_seconds integer not null default 0,
  primary key (organization_id, service_id, day),
  foreign key (organization_id, service_id) references app_public.services (organization_id, id) on delete cascade
);
select app_private.create_tenant_policies('app_public.service_uptime_days', null, null, null);
grant select on app_public.service_uptime_days to :DATABASE_VISITOR;
comment on table app_public.service_uptime_days is
  E'@behavior -insert -update -delete\nTime per status for each service and finished UTC day, rolled up nightly from the status intervals.';

/* Seconds per status of one service over [from, to), from its status intervals. */
create function app_private.uptime_seconds(organization_id uuid, service_id uuid, from_time timestamptz, to_time timestamptz)
returns table (status app_public.service_status, seconds integer)
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select i.status,
         sum(extract(epoch from least(coalesce(i.ended_at, now()), to_time) - greatest(i.started_at, from_time)))::integer
  from app_public.service_status_intervals i
  where i.organization_id = uptime_seconds.organization_id
    and i.service_id = uptime_seconds.service_id
    and i.started_at < to_time
    and coalesce(i.ended_at, now()) > from_time
  group by i.status;
$$;

/* Rolls up every finished UTC day not rolled up yet (the last 90 days at most) for one organization. */
create function app_private.roll_up_uptime(organization_id uuid) returns integer
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_rows integer;
begin
  insert into app_public.service_uptime_days (
    organization_id, service_id, day, operational_seconds, degraded_seconds,
    partial_outage_seconds, major_outage_seconds, maintenance_seconds
  )
  select s.organization_id, s.id, d.day,
         coalesce(sum(u.seconds) filter (where u.status = 'operational'), 0),
         coalesce(sum(u.seconds) filter (where u.status = 'degraded_performance'), 0),
         coalesce(sum(u.seconds) filter (where u.status = 'partial_outage'), 0),
         coalesce(sum(u.seconds) filter (where u.status = 'major_outage'), 0),
         coalesce(sum(u.seconds) filter (where u.status = 'under_maintenance'), 0)
  from app_public.services s
  cross join lateral (
    select gs::date as day
    from generate_series((now() at time zone 'UTC')::date - 90, (now() at time zone 'UTC')::date - 1, interval '1 day') gs
  ) d
  left join lateral app_private.uptime_seconds(
    s.organization_id, s.id, d.day::timestamp at time zone 'UTC', (d.day + 1)::timestamp at time zone 'UTC'
  ) u on true
  where s.organization_id = roll_up_uptime.organization_id
    and not exists (
      select 1 from app_public.service_uptime_days r
      where r.organization_id = s.organization_id and r.service_id = s.id and r.day = d.day
    )
  group by s.organization_id, s.id, d.day
  -- Days without any recorded status (before the service's history starts) are not rows.
  having coalesce(sum(u.seconds), 0) > 0;
  get diagnostics v_rows = row_count;
  return v_rows;
end;
$$;

------------------------------------------------------------------------------------------
-- The public view, as JSON in the Statuspage v2 vocabulary (../reference: statuspage-v2)
------------------------------------------------------------------------------------------

/* Overall indicator and description from the visible services' statuses and open incidents. */
create function app_private.status_indicator(statuses app_public.service_status[], impacts app_public.incident_impact[])
returns jsonb
language sql
immutable
set search_path = pg_catalog, public, pg_temp
as $$
  select case
    when 'major_outage' = any (statuses) or 'critical' = any (impacts)
      then '{"indicator": "critical", "description": "Major Service Outage"}'
    when 'partial_outage' = any (statuses) or 'major' = any (impacts)
      then '{"indicator": "major", "description": "Partial System Outage"}'
    when 'degraded_performance' = any (statuses) or 'minor' = any (impacts)
      then '{"indicator": "minor", "description": "Minor Service Outage"}'
    when 'under_maintenance' = any (statuses)
      then '{"indicator": "none", "description": "Service Under Maintenance"}'
    else '{"indicator": "none", "description": "All Systems Operational"}'
  end::jsonb;
$$;

create function app_private.component_json(service app_public.services) returns jsonb
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select jsonb_build_object(
    'id', service.id,
    'name', service.name,
    'status', service.status,
    'created_at', service.created_at,
    'updated_at', service.updated_at,
    'position', service.position,
    'description', service.description,
    'showcase', true,
    'start_date', (service.created_at at time zone 'UTC')::date,
    'group_id', service.group_id,
    'page_id', service.organization_id,
    'group', false,
    'only_show_if_degraded', false
  );
$$;

/* An incident with its public updates and affected visible services; URLs are page-relative. */
create function app_private.incident_json(incident app_public.incidents, base_path text) returns jsonb
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select jsonb_build_object(
    'id', incident.id,
    'name', incident.title,
    'status', incident.status,
    'impact', incident.impact,
    'created_at', incident.created_at,
    'updated_at', incident.updated_at,
    'started_at', incident.started_at,
    'monitoring_at', (
      select min(u.display_at) from app_public.incident_updates u
      where u.organization_id = incident.organization_id and u.incident_id = incident.id
        and u.is_public and u.status = 'monitoring'),
    'resolved_at', incident.resolved_at,
    'shortlink', base_path || '/incidents/' || incident.id,
    'page_id', incident.organization_id,
    'incident_updates', coalesce((
      select jsonb_agg(jsonb_build_object(
        'id', u.id,
        'incident_id', u.incident_id,
        'status', u.status,
        'body', u.body,
        'created_at', u.created_at,
        'updated_at', u.updated_at,
        'display_at', u.display_at,
        'affected_components', (
          select jsonb_agg(jsonb_build_object(
            'code', c.service_id, 'name', s.name, 'old_status', c.old_status, 'new_status', c.new_status
          ) order by s.position, s.name)
          from app_public.incident_update_service_changes c
          join app_public.services s on s.organization_id = c.organization_id and s.id = c.service_id
          where c.organization_id = u.organization_id and c.incident_update_id = u.id and not s.hidden),
        'deliver_notifications', true,
        'custom_tweet', null,
        'tweet_id', null
      ) order by u.display_at desc, u.created_at desc)
      from app_public.incident_updates u
      where u.organization_id = incident.organization_id and u.incident_id = incident.id and u.is_public
    ), '[]'),
    'components', coalesce((
      select jsonb_agg(app_private.component_json(s) order by s.position, s.name)
      from app_public.incident_services c
      join app_public.services s on s.organization_id = c.organization_id and s.id = c.service_id
      where c.organization_id = incident.organization_id and c.incident_id = incident.id and not s.hidden
    ), '[]')
  );
$$;

/*
 * A maintenance window in the incident shape, with scheduled_for/until. Its timeline is made
 * from what happened to it; a canceled window reads as completed with a cancellation note
 * (Statuspage has no canceled state).
 */
create function app_private.maintenance_json(maintenance app_public.maintenance_windows, base_path text) returns jsonb
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  with timeline(status, body, at) as (
    select 'scheduled', coalesce(nullif(btrim(maintenance.body), ''), maintenance.title), maintenance.created_at
    union all
    select 'in_progress', 'Maintenance is in progress.', maintenance.started_at where maintenance.started_at is not null
    union all
    select 'completed', 'Maintenance has completed.', maintenance.completed_at where maintenance.completed_at is not null
    union all
    select 'completed', 'This maintenance was canceled.', maintenance.canceled_at where maintenance.canceled_at is not null
  )
  select jsonb_build_object(
    'id', maintenance.id,
    'name', maintenance.title,
    'status', case maintenance.status when 'canceled' then 'completed' else maintenance.status::text end,
    'impact', 'maintenance',
    'created_at', maintenance.created_at,
    'updated_at', maintenance.updated_at,
    'started_at', maintenance.started_at,
    'monitoring_at', null,
    'resolved_at', coalesce(maintenance.completed_at, maintenance.canceled_at),
    'shortlink', base_path || '/maintenance/' || maintenance.id,
    'page_id', maintenance.organization_id,
    'scheduled_for', maintenance.starts_at,
    'scheduled_until', maintenance.ends_at,
    'incident_updates', (
      select jsonb_agg(jsonb_build_object(
        'id', md5(maintenance.id::text || t.status || t.at::text)::uuid,
        'incident_id', maintenance.id,
        'status', t.status,
        'body', t.body,
        'created_at', t.at,
        'updated_at', t.at,
        'display_at', t.at,
        'affected_components', null,
        'deliver_notifications', true,
        'custom_tweet', null,
        'tweet_id', null
      ) order by t.at desc)
      from timeline t),
    'components', coalesce((
      select jsonb_agg(app_private.component_json(s) order by s.position, s.name)
      from app_public.maintenance_services ms
      join app_public.services s on s.organization_id = ms.organization_id and s.id = ms.service_id
      where ms.organization_id = maintenance.organization_id and ms.maintenance_window_id = maintenance.id
        and not s.hidden
    ), '[]')
  );
$$;

/*
 * The 90 UTC days up to today of one service: rolled-up days where the nightly job has run,
 * computed from the intervals otherwise (today, and days not rolled up yet). Days without any
 * recorded status are left out ("no data").
 */
create function app_private.service_uptime_window(service app_public.services, today date)
returns table (
  day date, counted numeric, down numeric,
  major integer, partial integer, degraded integer, maintenance integer
)
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select d.day,
         (t.operational + t.degraded + t.partial + t.major)::numeric,
         (t.major + 0.5 * t.partial)::numeric,
         t.major, t.partial, t.degraded, t.maintenance
  from (select gs::date as day from generate_series(today - 89, today, interval '1 day') gs) d
  cross join lateral (
    select r.operational_seconds as operational, r.degraded_seconds as degraded,
           r.partial_outage_seconds as partial, r.major_outage_seconds as major,
           r.maintenance_seconds as maintenance
    from app_public.service_uptime_days r
    where r.organization_id = service.organization_id and r.service_id = service.id and r.day = d.day
    union all
    select coalesce(sum(u.seconds) filter (where u.status = 'operational'), 0)::integer,
           coalesce(sum(u.seconds) filter (where u.status = 'degraded_performance'), 0)::integer,
           coalesce(sum(u.seconds) filter (where u.status = 'partial_outage'), 0)::integer,
           coalesce(sum(u.seconds) filter (where u.status = 'major_outage'), 0)::integer,
           coalesce(sum(u.seconds) filter (where u.status = 'under_maintenance'), 0)::integer
    from app_private.uptime_seconds(
      service.organization_id, service.id, d.day::timestamp at time zone 'UTC', (d.day + 1)::timestamp at time zone 'UTC'
    ) u
    where not exists (
      select 1 from app_public.service_uptime_days r
      where r.organization_id = service.organization_id and r.service_id = service.id and r.day = d.day
    )
    limit 1
  ) t
  where t.operational + t.degraded + t.partial + t.major + t.maintenance > 0;
$$;

/*
 * The whole public view of one organization, deterministic for the same data: the
 * Statuspage summary (page, status, components, unresolved incidents, upcoming and active
 * maintenance), history for incidents.json and scheduled-maintenances.json, resolved incidents
 * of the last 14 days, and 90 days of uptime per visible service. Runs as the owner fenced
 * to the organization; only public incidents, public updates and visible services appear.
 */
create function app_private.build_status_snapshot(organization_id uuid) returns jsonb
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_org app_public.organizations;
  v_settings app_public.status_page_settings;
  v_base text;
  v_today date := (now() at time zone 'UTC')::date;
  v_components jsonb;
  v_statuses app_public.service_status[];
  v_impacts app_public.incident_impact[];
  v_updated_at timestamptz;
begin
  select * into v_org from app_public.organizations o where o.id = build_status_snapshot.organization_id;
  select * into v_settings from app_public.status_page_settings s where s.organization_id = v_org.id;
  v_base := '/status/' || v_org.slug;

  -- Components: visible services, plus a group row for each group that has any.
  with visible as (
    select * from app_public.services s where s.organization_id = v_org.id and not s.hidden
  ), groups as (
    select g.*, (select max(v.status) from visible v where v.group_id = g.id) as status,
           (select jsonb_agg(v.id order by v.position, v.name) from visible v where v.group_id = g.id) as members
    from app_public.service_groups g
    where g.organization_id = v_org.id and exists (select 1 from visible v where v.group_id = g.id)
  )
  select coalesce(jsonb_agg(c.component order by c.position, c.name), '[]'),
         array_agg(c.status) filter (where not c.is_group)
  into v_components, v_statuses
  from (
    select app_private.component_json(v) as component, v.position, v.name, v.status, false as is_group from visible v
    union all
    select jsonb_build_object(
             'id', g.id, 'name', g.name, 'status', g.status, 'created_at', g.created_at,
             'updated_at', g.updated_at, 'position', g.position, 'description', null, 'showcase', false,
             'start_date', null, 'group_id', null, 'page_id', g.organization_id, 'group', true,
             'only_show_if_degraded', false, 'components', g.members, 'collapsed', g.collapsed),
           g.position, g.name, g.status, true
    from groups g
  ) c;

  select array_agg(i.impact) into v_impacts
  from app_public.incidents i
  where i.organization_id = v_org.id and i.visibility = 'public' and i.status <> 'resolved';

  -- The page changes when any of its content does; the build time is not content.
  select greatest(
    v_org.updated_at, v_settings.updated_at,
    (select max(s.updated_at) from app_public.services s where s.organization_id = v_org.id),
    (select max(i.updated_at) from app_public.incidents i where i.organization_id = v_org.id),
    (select max(u.updated_at) from app_public.incident_updates u where u.organization_id = v_org.id),
    (select max(w.updated_at) from app_public.maintenance_windows w where w.organization_id = v_org.id)
  ) into v_updated_at;

  return jsonb_build_object(
    'page', jsonb_build_object(
      'id', v_org.id,
      'name', coalesce(v_settings.title, v_org.name),
      'url', v_base,
      'time_zone', coalesce(v_settings.time_zone, 'Etc/UTC'),
      'updated_at', v_updated_at
    ),
    'status', app_private.status_indicator(coalesce(v_statuses, '{}'), coalesce(v_impacts, '{}')),
    'components', v_components,
    'incidents', coalesce((
      select jsonb_agg(app_private.incident_json(i, v_base) order by i.started_at desc, i.id)
      from app_public.incidents i
      where i.organization_id = v_org.id and i.visibility = 'public' and i.status <> 'resolved'
    ), '[]'),
    'scheduled_maintenances', coalesce((
      select jsonb_agg(app_private.maintenance_json(w, v_base) order by w.starts_at, w.id)
      from app_public.maintenance_windows w
      where w.organization_id = v_org.id and w.status in ('scheduled', 'in_progress')
    ), '[]'),
    'incident_history', coalesce((
      select jsonb_agg(app_private.incident_json(i, v_base) order by i.started_at desc, i.id)
      from (
        select * from app_public.incidents i
        where i.organization_id = v_org.id and i.visibility = 'public'
        order by i.started_at desc, i.id limit 50
      ) i
    ), '[]'),
    'recent_incidents', coalesce((
      select jsonb_agg(app_private.incident_json(i, v_base) order by i.resolved_at desc, i.id)
      from app_public.incidents i
      where i.organization_id = v_org.id and i.visibility = 'public' and i.status = 'resolved'
        and i.resolved_at >= now() - interval '14 days'
    ), '[]'),
    'maintenance_history', coalesce((
      select jsonb_agg(app_private.maintenance_json(w, v_base) order by w.starts_at desc, w.id)
      from (
        select * from app_public.maintenance_windows w
        where w.organization_id = v_org.id order by w.starts_at desc, w.id limit 50
      ) w
    ), '[]'),
    'uptime', jsonb_build_object(
      'days', 90,
      'method', 'Per UTC day: time in major outage counts as down, partial outage as half down, degraded performance as up; time under maintenance is left out.',
      'components', coalesce((
        select jsonb_agg(jsonb_build_object(
          'id', s.id,
          'name', s.name,
          'uptime_percent', (
            select round(100.0 * (sum(d.counted) - sum(d.down)) / nullif(sum(d.counted), 0), 3)
            from app_private.service_uptime_window(s, v_today) d),
          'days', (
            select jsonb_agg(jsonb_build_object(
              'date', d.day,
              'uptime_percent', round(100.0 * (d.counted - d.down) / nullif(d.counted, 0), 3),
              'major_outage_seconds', d.major,
              'partial_outage_seconds', d.partial,
              'degraded_seconds', d.degraded,
              'maintenance_seconds', d.maintenance
            ) order by d.day)
            from app_private.service_uptime_window(s, v_today) d)
        ) order by s.position, s.name)
        from app_public.services s
        where s.organization_id = v_org.id and not s.hidden
      ), '[]')
    ),
    'support_url', v_settings.support_url,
    'description', v_settings.description
  );
end;
$$;

------------------------------------------------------------------------------------------
-- Snapshots: the status cache the public reads
------------------------------------------------------------------------------------------

create table app_public.status_snapshots (
  organization_id uuid primary key references app_public.organizations (id) on delete cascade,
  slug citext not null,
  published boolean not null,
  active boolean not null,
  version bigint not null,
  etag text not null,
  body jsonb not null,
  built_at timestamptz not null default now()
);
create index on app_public.status_snapshots (slug);
alter table app_public.status_snapshots enable row level security;
alter table app_public.status_snapshots force row level security;
create policy owner_all on app_public.status_snapshots to :DATABASE_OWNER using (true) with check (true);
-- The row carries what the policy needs, so reading it takes no lookup in another tenant's data.
create policy select_published on app_public.status_snapshots for select to :DATABASE_ANONYMOUS, :DATABASE_VISITOR
  using (published and active);
grant select on app_public.status_snapshots to :DATABASE_ANONYMOUS, :DATABASE_VISITOR;
comment on table app_public.status_snapshots is
  E'@behavior -*\nThe public view of each published, active organization, rebuilt by the worker; the only thing the public reads.';

/*
 * Rebuilds one organization's snapshot. The version goes up only when the content changed,
 * and every web process hears of it (NOTIFY status_snapshots, delivered on commit).
 */
create function app_private.rebuild_status_snapshot(organization_id uuid) returns bigint
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_org app_public.organizations;
  v_published boolean;
  v_body jsonb;
  v_old app_public.status_snapshots;
  v_version bigint;
begin
  select * into v_org from app_public.organizations o where o.id = rebuild_status_snapshot.organization_id;
  if v_org.id is null then
    return null;
  end if;
  select coalesce((select s.published from app_public.status_page_settings s where s.organization_id = v_org.id), true)
  into v_published;
  v_body := app_private.build_status_snapshot(v_org.id);

  select * into v_old from app_public.status_snapshots s where s.organization_id = v_org.id for update;
  if v_old.organization_id is not null and v_old.body = v_body and v_old.slug = v_org.slug
     and v_old.published = v_published and v_old.active = (v_org.suspended_at is null) then
    return v_old.version;
  end if;
  v_version := coalesce(v_old.version, 0) + 1;
  insert into app_public.status_snapshots (organization_id, slug, published, active, version, etag, body, built_at)
  values (v_org.id, v_org.slug, v_published, v_org.suspended_at is null, v_version, md5(v_body::text), v_body, now())
  on conflict (organization_id) do update
    set slug = excluded.slug, published = excluded.published, active = excluded.active, version = excluded.version,
        etag = excluded.etag, body = excluded.body, built_at = excluded.built_at;
  perform pg_notify('status_snapshots', json_build_object(
    'organizationId', v_org.id, 'slug', v_org.slug, 'previousSlug', v_old.slug, 'version', v_version
  )::text);
  return v_version;
end;
$$;

/*
 * Any change that can alter the public view asks for a rebuild. One job per organization
 * (job key status:<org>): the writes of one transaction become one job, and a burst across
 * transactions at most one running and one waiting rebuild. It runs at once (graphile-worker
 * hears of due jobs through NOTIFY), so the public sees a change within milliseconds.
 */
create function app_private.tg__schedule_status_rebuild() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_row jsonb := to_jsonb(coalesce(new, old));
  v_org uuid := coalesce(v_row ->> 'organization_id', v_row ->> 'id')::uuid;
begin
  if not exists (select 1 from app_public.organizations o where o.id = v_org) then
    return null;
  end if;
  perform graphile_worker.add_job(
    'status_snapshots__rebuild',
    json_build_object('organizationId', v_org),
    job_key := 'status:' || v_org,
    max_attempts := 5
  );
  return null;
end;
$$;

create trigger _900_status_rebuild after insert or update or delete on app_public.services
  for each row execute function app_private.tg__schedule_status_rebuild();
create trigger _900_status_rebuild after insert or update or delete on app_public.service_groups
  for each row execute function app_private.tg__schedule_status_rebuild();
create trigger _900_status_rebuild after insert or update or delete on app_public.incidents
  for each row execute function app_private.tg__schedule_status_rebuild();
create trigger _900_status_rebuild after insert or update or delete on app_public.incident_updates
  for each row execute function app_private.tg__schedule_status_rebuild();
create trigger _900_status_rebuild after insert or update or delete on app_public.incident_services
  for each row execute function app_private.tg__schedule_status_rebuild();
create trigger _900_status_rebuild after insert or update or delete on app_public.maintenance_windows
  for each row execute function app_private.tg__schedule_status_rebuild();
create trigger _900_status_rebuild after insert or update or delete on app_public.maintenance_services
  for each row execute function app_private.tg__schedule_status_rebuild();
create trigger _900_status_rebuild after insert or update or delete on app_public.status_page_settings
  for each row execute function app_private.tg__schedule_status_rebuild();
create trigger _900_status_rebuild after insert or update of name, slug, suspended_at on app_public.organizations
  for each row execute function app_private.tg__schedule_status_rebuild();

------------------------------------------------------------------------------------------
-- Hidden services stay out of public impact
------------------------------------------------------------------------------------------

/*
 * An incident's public impact is derived from the services the public can see: a claim on a
 * hidden service must not show through as "Major Service Outage" on the page.
 */
create or replace function app_private.derived_impact(organization_id uuid, incident_id uuid)
returns app_public.incident_impact
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select case max(c.status)
    when 'major_outage' then 'critical'
    when 'partial_outage' then 'major'
    when 'degraded_performance' then 'minor'
    else 'none'
  end::app_public.incident_impact
  from app_public.incident_services c
  join app_public.services s on s.organization_id = c.organization_id and s.id = c.service_id
  where c.organization_id = derived_impact.organization_id and c.incident_id = derived_impact.incident_id
    and not s.hidden;
$$;

/* Hiding or showing a service changes the impact of the incidents that claim it. */
create function app_private.tg_services__refresh_impacts() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous_org text := app_private.enter_organization(new.organization_id);
begin
  update app_public.incidents i set impact = app_private.derived_impact(i.organization_id, i.id)
  from app_public.incident_services c
  where c.organization_id = new.organization_id and c.service_id = new.id
    and i.organization_id = c.organization_id and i.id = c.incident_id
    and i.impact_override is null
    and i.impact is distinct from app_private.derived_impact(i.organization_id, i.id);
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create trigger _310_refresh_impacts after update of hidden on app_public.services
  for each row when (old.hidden is distinct from new.hidden)
  execute function app_private.tg_services__refresh_impacts();
