--! Previous: sha1:9d6fd25a9ad086d15270ef37e9f36a320f9482f6
--! Hash: sha1:94c73d5da438170c9e2354def32d7ac32468c51c
--! Message: Snapshots without recent_incidents; finite times only

-- Enter migration here

--------------------------------------------------------------------------------------------
-- Snapshots without `recent_incidents`: no public file, feed or page read it, and it held
-- every public incident resolved in the last 14 days with all of its updates (hundreds for a
-- busy organization), which made the body large and most of each rebuild's time. Recently
-- resolved incidents are published through `incident_history` (the newest 50 public incidents,
-- resolved ones included), as incidents.json and the feeds always did.
--------------------------------------------------------------------------------------------
create or replace function app_private.build_status_snapshot(organization_id uuid)
 returns jsonb
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

-- Stored bodies lose it too (nothing served changes, so versions stay).
update app_public.status_snapshots set body = body - 'recent_incidents' where body ? 'recent_incidents';

--------------------------------------------------------------------------------------------
-- Times the API takes are finite. PostgreSQL stores 'infinity' and '-infinity' in timestamptz,
-- but GraphQL's Datetime cannot show them: a maintenance window ending at 'infinity' was saved
-- and then answered as null in a non-null field, an uncoded error, on every later read. Each
-- time a client can set is checked here (23514: VALIDATION_FAILED); nulls stay allowed.
--------------------------------------------------------------------------------------------
alter table app_public.maintenance_windows drop constraint if exists maintenance_windows_times_finite;
alter table app_public.maintenance_windows
  add constraint maintenance_windows_times_finite check (isfinite(starts_at) and isfinite(ends_at));

alter table app_public.incidents drop constraint if exists incidents_times_finite;
alter table app_public.incidents
  add constraint incidents_times_finite check (isfinite(started_at) and isfinite(postmortem_published_at));

alter table app_public.incident_updates drop constraint if exists incident_updates_display_at_finite;
alter table app_public.incident_updates
  add constraint incident_updates_display_at_finite check (isfinite(display_at));

alter table app_public.api_keys drop constraint if exists api_keys_expires_at_finite;
alter table app_public.api_keys add constraint api_keys_expires_at_finite check (isfinite(expires_at));
