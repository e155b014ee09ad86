--! Previous: sha1:a6d48d2c59f8640afc4b9424cbcfd3519c76a47d
--! Hash: sha1:5207cc8da1e6c395315ab2f51d4259ea7c71a6de
--! Message: services, incidents, updates, attachments, maintenance, audit log, metrics

/*
 * The core of incident management. Every table here is a tenant table:
 * - keyed (organization_id, …) with composite foreign keys, so no row can point into another
 *   organization, and organization_id defaults to the caller's active organization;
 * - guarded by one RESTRICTIVE policy binding every role, the owner (worker, SECURITY DEFINER
 *   triggers) included, to the active organization, plus permissive policies per role for the
 *   visitor (created by app_private.create_tenant_policies, one place for the pattern).
 */

create extension if not exists pg_trgm with schema public;

-- Re-runnable while it is work in progress (graphile-migrate watch applies it again and again).
drop table if exists
  app_public.audit_log, app_public.maintenance_services, app_public.maintenance_windows,
  app_public.incident_attachments, app_public.incident_update_service_changes, app_public.incident_updates,
  app_public.incident_services, app_public.incidents, app_public.service_status_intervals,
  app_public.services, app_public.service_groups
  cascade;
drop type if exists
  app_public.incident_count_by_service, app_public.incident_count_by_severity, app_public.incident_metrics,
  app_public.service_status_change, app_public.maintenance_status, app_public.incident_visibility,
  app_public.incident_impact, app_public.incident_severity, app_public.incident_status, app_public.service_status
  cascade;
drop function if exists app_private.create_tenant_policies cascade;
drop function if exists app_private.enter_organization cascade;
drop function if exists app_private.leave_organization cascade;
drop function if exists app_private.tg__audit cascade;
drop function if exists app_private.tg_audit_log__append_only cascade;
drop function if exists app_private.advance_maintenance_window cascade;
drop function if exists app_private.tg_maintenance_windows__schedule cascade;
drop function if exists app_private.tg_maintenance_windows__refresh_services cascade;
drop function if exists app_private.tg_maintenance_services__refresh cascade;
drop function if exists app_private.tg_services__record_status_interval cascade;
drop function if exists app_private.tg_services__stamp_status_change cascade;
drop function if exists app_private.tg_incidents__lifecycle cascade;
drop function if exists app_private.tg_incidents__refresh_services cascade;
drop function if exists app_private.tg_incident_services__refresh cascade;
drop function if exists app_private.tg_incident_updates__apply_to_incident cascade;
drop function if exists app_private.refresh_service_status cascade;
drop function if exists app_private.derived_impact cascade;
drop trigger if exists _500_audit on app_public.organization_memberships;
drop trigger if exists _500_audit on app_public.organization_invitations;
drop trigger if exists _500_audit on app_public.organizations;

------------------------------------------------------------------------------------------
-- Policy pattern for tenant tables
------------------------------------------------------------------------------------------

/*
 * Creates the standard policies of a tenant table: the restrictive tenant fence for every
 * role; everything for the owner inside the fence; reading for any member; and insert,
 * update, delete for members with at least the given role (NULL: nobody).
 */
create function app_private.create_tenant_policies(
  target regclass,
  insert_role app_public.membership_role,
  update_role app_public.membership_role,
  delete_role app_public.membership_role
) returns void
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  execute format('alter table %s enable row level security', target);
  execute format('alter table %s force row level security', target);
  execute format(
    'create policy tenant_fence on %s as restrictive for all to public
       using (organization_id = (select app_hidden.current_org_id()))
       with check (organization_id = (select app_hidden.current_org_id()))',
    target);
  execute format('create policy owner_all on %s to :DATABASE_OWNER using (true) with check (true)', target);
  execute format(
    'create policy select_member on %s for select to :DATABASE_VISITOR
       using ((select app_hidden.current_org_role()) is not null)',
    target);
  if insert_role is not null then
    execute format(
      'create policy insert_%s on %s for insert to :DATABASE_VISITOR
         with check ((select app_hidden.current_org_role()) >= %L)',
      insert_role, target, insert_role);
  end if;
  if update_role is not null then
    execute format(
      'create policy update_%s on %s for update to :DATABASE_VISITOR
         using ((select app_hidden.current_org_role()) >= %L)',
      update_role, target, update_role);
  end if;
  if delete_role is not null then
    execute format(
      'create policy delete_%s on %s for delete to :DATABASE_VISITOR
         using ((select app_hidden.current_org_role()) >= %L)',
      delete_role, target, delete_role);
  end if;
end;
$$;

------------------------------------------------------------------------------------------
-- Acting in a row's organization
------------------------------------------------------------------------------------------

/*
 * SECURITY DEFINER triggers run as the owner, whom the tenant fence binds to the active
 * organization. A trigger acts on a row whose change the caller's own policies already
 * allowed, so it may act in that row's organization: this also serves a DBA or script that
 * changes rows as a superuser with no organization set. Returns the previous setting, to be
 * given back to leave_organization.
 */
create function app_private.enter_organization(organization_id uuid) returns text
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous text := coalesce(current_setting('jwt.claims.org_id', true), '');
begin
  perform set_config('jwt.claims.org_id', organization_id::text, true);
  return v_previous;
end;
$$;

create function app_private.leave_organization(previous text) returns void
language sql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
  select set_config('jwt.claims.org_id', coalesce(previous, ''), true);
$$;

------------------------------------------------------------------------------------------
-- Vocabulary
------------------------------------------------------------------------------------------

-- Ordered from best to worst, so max() over claims is the worst claim, and any real
-- degradation outranks maintenance.
create type app_public.service_status as enum (
  'operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage'
);
create type app_public.incident_status as enum ('investigating', 'identified', 'monitoring', 'resolved');
create type app_public.incident_severity as enum ('low', 'medium', 'high', 'critical');
create type app_public.incident_impact as enum ('none', 'minor', 'major', 'critical');
create type app_public.incident_visibility as enum ('public', 'internal');
create type app_public.maintenance_status as enum ('scheduled', 'in_progress', 'completed', 'canceled');

comment on type app_public.incident_impact is
  'Public impact (Statuspage vocabulary): derived from the worst status the incident claims for a service (degraded → minor, partial outage → major, major outage → critical) unless overridden.';

------------------------------------------------------------------------------------------
-- Service groups and services
------------------------------------------------------------------------------------------

create table app_public.service_groups (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 100),
  position integer not null default 0,
  collapsed boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  unique (organization_id, name)
);
create index on app_public.service_groups (organization_id, position);
create trigger _100_timestamps before insert or update on app_public.service_groups
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.service_groups', 'admin', 'admin', 'admin');
grant select on app_public.service_groups to :DATABASE_VISITOR;
grant insert (name, position, collapsed), update (name, position, collapsed), delete
  on app_public.service_groups to :DATABASE_VISITOR;
comment on table app_public.service_groups is 'An ordered group of services on the status page.';
comment on column app_public.service_groups.collapsed is 'Whether the status page shows the group folded by default.';

create table app_public.services (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 100),
  description text check (length(description) <= 2000),
  position integer not null default 0,
  group_id uuid,
  hidden boolean not null default false,
  status app_public.service_status not null default 'operational',
  status_changed_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  unique (organization_id, name),
  foreign key (organization_id, group_id)
    references app_public.service_groups (organization_id, id) on delete set null (group_id)
);
create index on app_public.services (organization_id, group_id);
create index on app_public.services (organization_id, position);
create index on app_public.services (organization_id, status);
create trigger _100_timestamps before insert or update on app_public.services
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.services', 'admin', 'admin', 'admin');
grant select on app_public.services to :DATABASE_VISITOR;
grant insert (name, description, position, group_id, hidden, status),
  update (name, description, position, group_id, hidden, status), delete
  on app_public.services to :DATABASE_VISITOR;
comment on table app_public.services is 'A component of the status page: something customers rely on.';
comment on column app_public.services.hidden is 'Hidden services are not on the public page and do not count in its overall status.';
comment on column app_public.services.status is
  'Set by hand or by incident updates; restored automatically when incidents resolve and maintenance ends.';

create table app_public.service_status_intervals (
  organization_id uuid not null,
  id uuid not null default gen_random_uuid(),
  service_id uuid not null,
  status app_public.service_status not null,
  started_at timestamptz not null,
  ended_at timestamptz,
  primary key (organization_id, id),
  foreign key (organization_id, service_id) references app_public.services (organization_id, id) on delete cascade,
  check (ended_at is null or ended_at >= started_at)
);
create unique index service_status_intervals_one_open
  on app_public.service_status_intervals (organization_id, service_id) where ended_at is null;
create index on app_public.service_status_intervals (organization_id, service_id, started_at);
select app_private.create_tenant_policies('app_public.service_status_intervals', null, null, null);
grant select on app_public.service_status_intervals to :DATABASE_VISITOR;
comment on table app_public.service_status_intervals is
  E'@behavior -insert -update -delete\nThe history of a service''s status, kept by the database; uptime is computed from it.';

create function app_private.tg_services__record_status_interval() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous_org text;
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status then
    return null;
  end if;
  v_previous_org := app_private.enter_organization(new.organization_id);
  update app_public.service_status_intervals
  set ended_at = greatest(started_at, now())
  where organization_id = new.organization_id and service_id = new.id and ended_at is null;
  insert into app_public.service_status_intervals (organization_id, service_id, status, started_at)
  values (new.organization_id, new.id, new.status, now());
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create trigger _200_record_status_interval
  after insert or update of status on app_public.services
  for each row execute function app_private.tg_services__record_status_interval();

create function app_private.tg_services__stamp_status_change() returns trigger
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    new.status_changed_at := now();
  else
    new.status_changed_at := old.status_changed_at;
  end if;
  return new;
end;
$$;
create trigger _110_stamp_status_change
  before insert or update on app_public.services
  for each row execute function app_private.tg_services__stamp_status_change();

------------------------------------------------------------------------------------------
-- Incidents
------------------------------------------------------------------------------------------

create table app_public.incidents (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  title text not null check (length(btrim(title)) between 1 and 200),
  description text check (length(description) <= 20000),
  severity app_public.incident_severity not null default 'medium',
  status app_public.incident_status not null default 'investigating',
  impact app_public.incident_impact not null default 'none',
  impact_override app_public.incident_impact,
  visibility app_public.incident_visibility not null default 'public',
  assignee_id uuid,
  started_at timestamptz not null default now(),
  acknowledged_at timestamptz,
  resolved_at timestamptz,
  reopened_count integer not null default 0,
  root_cause text check (length(root_cause) <= 20000),
  resolution_summary text check (length(resolution_summary) <= 20000),
  postmortem text check (length(postmortem) <= 200000),
  postmortem_published_at timestamptz,
  created_by_id uuid default app_hidden.current_user_id() references app_public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  -- The assignee must be a member; removing the member unassigns.
  foreign key (organization_id, assignee_id)
    references app_public.organization_memberships (organization_id, user_id) on delete set null (assignee_id),
  check (postmortem_published_at is null or postmortem is not null)
);
create index on app_public.incidents (organization_id, started_at desc, id);
create index on app_public.incidents (organization_id, status);
create index on app_public.incidents (organization_id, severity);
create index on app_public.incidents (organization_id, assignee_id);
create index on app_public.incidents (created_by_id);
create index incidents_title_search on app_public.incidents using gin (title gin_trgm_ops);
create trigger _100_timestamps before insert or update on app_public.incidents
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.incidents', 'editor', 'editor', 'admin');
grant select on app_public.incidents to :DATABASE_VISITOR;
grant insert (title, description, severity, status, impact_override, visibility, assignee_id, started_at,
              root_cause, resolution_summary),
  update (title, description, severity, impact_override, visibility, assignee_id, started_at,
          root_cause, resolution_summary, postmortem, postmortem_published_at),
  delete
  on app_public.incidents to :DATABASE_VISITOR;
comment on table app_public.incidents is
  'Something is wrong. Its status moves through updates (postIncidentUpdate), which keep the timeline.';
comment on column app_public.incidents.impact is
  E'@behavior -insert -update\nPublic impact: impactOverride if set, else derived from the worst status claimed for an affected service.';
comment on column app_public.incidents.status is 'Changed by posting an update; resolving needs rootCause and resolutionSummary.';
comment on column app_public.incidents.visibility is 'public: on the status page; internal: members only.';
comment on column app_public.incidents.acknowledged_at is 'Set by acknowledgeIncident or by the first update.';
comment on column app_public.incidents.reopened_count is 'How often the incident went from resolved back to an active status.';

create table app_public.incident_services (
  organization_id uuid not null default app_hidden.current_org_id(),
  incident_id uuid not null,
  service_id uuid not null,
  status app_public.service_status not null default 'degraded_performance'
    check (status <> 'under_maintenance'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, incident_id, service_id),
  foreign key (organization_id, incident_id) references app_public.incidents (organization_id, id) on delete cascade,
  foreign key (organization_id, service_id) references app_public.services (organization_id, id) on delete cascade
);
create index on app_public.incident_services (organization_id, service_id);
create trigger _100_timestamps before insert or update on app_public.incident_services
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.incident_services', 'editor', 'editor', 'editor');
grant select on app_public.incident_services to :DATABASE_VISITOR;
grant insert (incident_id, service_id, status), update (status), delete on app_public.incident_services to :DATABASE_VISITOR;
comment on table app_public.incident_services is
  'A service an incident affects, with the status the incident claims for it. The worst claim of the active incidents sets the service''s status.';

------------------------------------------------------------------------------------------
-- Status rules (DESIGN.md §8): one function decides a service's status, one an incident's impact
------------------------------------------------------------------------------------------

/*
 * A service's status is the worst status claimed for it by active incidents; with no claim
 * worse than operational, under_maintenance while a maintenance window on it runs, else
 * operational. Called whenever a claim, an incident's status or a window's status changes.
 */
create function app_private.refresh_service_status(organization_id uuid, service_id uuid) returns void
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_worst_claim app_public.service_status;
  v_in_maintenance boolean;
  v_status app_public.service_status;
begin
  select max(c.status) into v_worst_claim
  from app_public.incident_services c
  join app_public.incidents i on i.organization_id = c.organization_id and i.id = c.incident_id
  where c.organization_id = refresh_service_status.organization_id
    and c.service_id = refresh_service_status.service_id
    and i.status <> 'resolved';

  select exists (
    select 1 from app_public.maintenance_services ms
    join app_public.maintenance_windows w on w.organization_id = ms.organization_id and w.id = ms.maintenance_window_id
    where ms.organization_id = refresh_service_status.organization_id
      and ms.service_id = refresh_service_status.service_id
      and w.status = 'in_progress'
  ) into v_in_maintenance;

  v_status := greatest(
    coalesce(v_worst_claim, 'operational'),
    case when v_in_maintenance then 'under_maintenance' else 'operational' end::app_public.service_status
  );
  update app_public.services s set status = v_status
  where s.organization_id = refresh_service_status.organization_id
    and s.id = refresh_service_status.service_id
    and s.status is distinct from v_status;
end;
$$;

create function app_private.derived_impact(organization_id uuid, incident_id uuid) returns app_public.incident_impact
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
  where c.organization_id = derived_impact.organization_id and c.incident_id = derived_impact.incident_id;
$$;

/*
 * Lifecycle rules enforced on every write of an incident, whoever makes it: resolving needs a
 * root cause and a resolution summary; resolved_at follows the status; reopening is counted;
 * the impact is derived unless overridden.
 */
create function app_private.tg_incidents__lifecycle() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_was_resolved boolean := tg_op = 'UPDATE' and old.status = 'resolved';
  v_previous_org text;
begin
  if new.status = 'resolved' then
    if coalesce(btrim(new.root_cause), '') = '' or coalesce(btrim(new.resolution_summary), '') = '' then
      perform app_hidden.raise_error('IPV02', 'Resolving an incident needs a root cause and a resolution summary.');
    end if;
    if not v_was_resolved then
      new.resolved_at := coalesce(new.resolved_at, now());
    end if;
  else
    new.resolved_at := null;
    if v_was_resolved then
      new.reopened_count := old.reopened_count + 1;
    end if;
  end if;
  if new.resolved_at is not null and new.resolved_at < new.started_at then
    perform app_hidden.raise_error('IPV01', 'An incident cannot resolve before it started.');
  end if;
  v_previous_org := app_private.enter_organization(new.organization_id);
  new.impact := coalesce(new.impact_override, app_private.derived_impact(new.organization_id, new.id));
  perform app_private.leave_organization(v_previous_org);
  return new;
end;
$$;
create trigger _200_lifecycle before insert or update on app_public.incidents
  for each row execute function app_private.tg_incidents__lifecycle();

create function app_private.tg_incidents__refresh_services() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_service uuid;
  v_previous_org text;
begin
  if (new.status = 'resolved') is distinct from (old.status = 'resolved') then
    v_previous_org := app_private.enter_organization(new.organization_id);
    for v_service in
      select c.service_id from app_public.incident_services c
      where c.organization_id = new.organization_id and c.incident_id = new.id
    loop
      perform app_private.refresh_service_status(new.organization_id, v_service);
    end loop;
    perform app_private.leave_organization(v_previous_org);
  end if;
  return null;
end;
$$;
create trigger _300_refresh_services after update of status on app_public.incidents
  for each row execute function app_private.tg_incidents__refresh_services();

create function app_private.tg_incident_services__refresh() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_row app_public.incident_services := coalesce(new, old);
  v_previous_org text := app_private.enter_organization(v_row.organization_id);
begin
  perform app_private.refresh_service_status(v_row.organization_id, v_row.service_id);
  if tg_op = 'UPDATE' and old.service_id <> new.service_id then
    perform app_private.refresh_service_status(old.organization_id, old.service_id);
  end if;
  -- Touching impact re-runs the incident's lifecycle trigger, which derives it again.
  update app_public.incidents i set impact = app_private.derived_impact(i.organization_id, i.id)
  where i.organization_id = v_row.organization_id and i.id = v_row.incident_id
    and i.impact_override is null
    and i.impact is distinct from app_private.derived_impact(i.organization_id, i.id);
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create trigger _300_refresh after insert or update or delete on app_public.incident_services
  for each row execute function app_private.tg_incident_services__refresh();

------------------------------------------------------------------------------------------
-- Incident updates (the timeline)
------------------------------------------------------------------------------------------

create table app_public.incident_updates (
  organization_id uuid not null default app_hidden.current_org_id(),
  id uuid not null default gen_random_uuid(),
  incident_id uuid not null,
  status app_public.incident_status not null,
  previous_status app_public.incident_status,
  body text not null check (length(btrim(body)) between 1 and 20000),
  is_public boolean not null default true,
  display_at timestamptz not null default now(),
  author_user_id uuid default app_hidden.current_user_id() references app_public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  foreign key (organization_id, incident_id) references app_public.incidents (organization_id, id) on delete cascade
);
create index on app_public.incident_updates (organization_id, incident_id, display_at);
create index on app_public.incident_updates (author_user_id);
create trigger _100_timestamps before insert or update on app_public.incident_updates
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.incident_updates', 'editor', 'editor', 'admin');
grant select on app_public.incident_updates to :DATABASE_VISITOR;
grant insert (incident_id, status, body, is_public, display_at), update (body, is_public, display_at), delete
  on app_public.incident_updates to :DATABASE_VISITOR;
comment on table app_public.incident_updates is
  E'@behavior -insert\nThe incident''s timeline. Posted with postIncidentUpdate; only public updates ever reach the status page.';
comment on column app_public.incident_updates.is_public is 'false: an internal note, never shown on the status page.';
comment on column app_public.incident_updates.display_at is 'When the update is shown to have happened (may be back-dated).';
comment on column app_public.incident_updates.previous_status is 'The incident''s status before this update (shows reopenings).';

create table app_public.incident_update_service_changes (
  organization_id uuid not null default app_hidden.current_org_id(),
  incident_update_id uuid not null,
  service_id uuid not null,
  old_status app_public.service_status not null,
  new_status app_public.service_status not null,
  primary key (organization_id, incident_update_id, service_id),
  foreign key (organization_id, incident_update_id) references app_public.incident_updates (organization_id, id) on delete cascade,
  foreign key (organization_id, service_id) references app_public.services (organization_id, id) on delete cascade
);
create index on app_public.incident_update_service_changes (organization_id, service_id);
select app_private.create_tenant_policies('app_public.incident_update_service_changes', null, null, null);
grant select on app_public.incident_update_service_changes to :DATABASE_VISITOR;
comment on table app_public.incident_update_service_changes is
  E'@behavior -insert -update -delete\nThe per-service status changes an update announced.';

/*
 * An update moves its incident: status, first acknowledgement. Runs as the owner because
 * editors may not set an incident's status directly.
 */
create function app_private.tg_incident_updates__apply_to_incident() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_incident app_public.incidents;
  v_previous_org text := app_private.enter_organization(new.organization_id);
begin
  select * into v_incident from app_public.incidents
  where organization_id = new.organization_id and id = new.incident_id
  for update;
  new.previous_status := v_incident.status;
  update app_public.incidents
  set status = new.status,
      acknowledged_at = coalesce(acknowledged_at, now())
  where organization_id = new.organization_id and id = new.incident_id;
  perform app_private.leave_organization(v_previous_org);
  return new;
end;
$$;
create trigger _200_apply_to_incident before insert on app_public.incident_updates
  for each row execute function app_private.tg_incident_updates__apply_to_incident();

create type app_public.service_status_change as (
  service_id uuid,
  status app_public.service_status
);
comment on type app_public.service_status_change is 'A status an update claims for one affected service.';

/*
 * SECURITY DEFINER because the recorded service changes are history nobody may write
 * directly; it checks the caller's role itself and acts only in the active organization.
 */
create function app_public.post_incident_update(
  incident_id uuid,
  status app_public.incident_status,
  body text,
  is_public boolean default true,
  display_at timestamptz default null,
  service_statuses app_public.service_status_change[] default '{}'
) returns app_public.incident_updates
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_update app_public.incident_updates;
  v_change app_public.service_status_change;
  v_old_status app_public.service_status;
begin
  perform app_hidden.assert_org_role('editor', 'post incident updates');
  if (select count(*) <> count(distinct c.service_id) from unnest(service_statuses) c) then
    perform app_hidden.raise_error('IPV01', 'Each service can appear once in an update.');
  end if;
  if not exists (select 1 from app_public.incidents i where i.id = post_incident_update.incident_id) then
    perform app_hidden.raise_error('IPN01', 'No incident with this id in the organization.');
  end if;
  insert into app_public.incident_updates (incident_id, status, body, is_public, display_at)
  values (
    post_incident_update.incident_id,
    post_incident_update.status,
    post_incident_update.body,
    coalesce(post_incident_update.is_public, true),
    coalesce(post_incident_update.display_at, now())
  )
  returning * into v_update;

  foreach v_change in array coalesce(service_statuses, '{}') loop
    select s.status into v_old_status from app_public.services s where s.id = v_change.service_id;
    if not found then
      perform app_hidden.raise_error('IPV03', 'An affected service does not exist in the organization.');
    end if;
    if v_change.status is null or v_change.status = 'under_maintenance' then
      perform app_hidden.raise_error('IPV01', 'An incident claims operational, degraded, partial or major outage for a service.');
    end if;
    insert into app_public.incident_services (incident_id, service_id, status)
    values (post_incident_update.incident_id, v_change.service_id, v_change.status)
    on conflict (organization_id, incident_id, service_id) do update set status = excluded.status;
    insert into app_public.incident_update_service_changes (incident_update_id, service_id, old_status, new_status)
    values (v_update.id, v_change.service_id, v_old_status, v_change.status);
  end loop;
  return v_update;
end;
$$;
comment on function app_public.post_incident_update(uuid, app_public.incident_status, text, boolean, timestamptz, app_public.service_status_change[]) is
  E'@resultFieldName incidentUpdate\nPosts a timeline entry: sets the incident''s status and the statuses it claims for affected services, in one transaction (editors and above).';

create function app_public.acknowledge_incident(incident_id uuid) returns app_public.incidents
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_incident app_public.incidents;
begin
  perform app_hidden.assert_org_role('editor', 'acknowledge incidents');
  update app_public.incidents i set acknowledged_at = coalesce(i.acknowledged_at, now())
  where i.organization_id = app_hidden.current_org_id() and i.id = acknowledge_incident.incident_id
  returning * into v_incident;
  if v_incident.id is null then
    perform app_hidden.raise_error('IPN01', 'No incident with this id in the organization.');
  end if;
  return v_incident;
end;
$$;
comment on function app_public.acknowledge_incident(uuid) is
  E'@resultFieldName incident\nRecords that someone is on it (editors and above). The first update acknowledges too.';

------------------------------------------------------------------------------------------
-- Attachments: in the database, under the same policies; served only to members
------------------------------------------------------------------------------------------

create table app_public.incident_attachments (
  organization_id uuid not null default app_hidden.current_org_id(),
  id uuid not null default gen_random_uuid(),
  incident_id uuid not null,
  filename text not null check (length(btrim(filename)) between 1 and 255 and filename !~ '[/\\[:cntrl:]]'),
  content_type text not null check (content_type in (
    'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf',
    'text/plain', 'text/csv', 'application/json'
  )),
  content bytea not null check (octet_length(content) between 1 and 10485760),
  size_bytes integer generated always as (octet_length(content)) stored,
  uploaded_by_id uuid default app_hidden.current_user_id() references app_public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (organization_id, id),
  foreign key (organization_id, incident_id) references app_public.incidents (organization_id, id) on delete cascade
);
create index on app_public.incident_attachments (organization_id, incident_id);
create index on app_public.incident_attachments (uploaded_by_id);
select app_private.create_tenant_policies('app_public.incident_attachments', 'editor', null, 'editor');
grant select, delete on app_public.incident_attachments to :DATABASE_VISITOR;
grant insert (incident_id, filename, content_type, content) on app_public.incident_attachments to :DATABASE_VISITOR;
comment on table app_public.incident_attachments is
  E'@behavior -insert -update\nA file attached to an incident (at most 10 MB; images, PDF, text, CSV, JSON, logs). Upload: POST /api/incidents/<id>/attachments; download: GET /api/attachments/<id>.';
comment on column app_public.incident_attachments.content is E'@behavior -select -filterBy -orderBy\nThe file itself; downloaded through /api/attachments/<id>.';

------------------------------------------------------------------------------------------
-- Maintenance windows
------------------------------------------------------------------------------------------

create table app_public.maintenance_windows (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  title text not null check (length(btrim(title)) between 1 and 200),
  body text not null default '' check (length(body) <= 20000),
  status app_public.maintenance_status not null default 'scheduled',
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  started_at timestamptz,
  completed_at timestamptz,
  canceled_at timestamptz,
  created_by_id uuid default app_hidden.current_user_id() references app_public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  constraint maintenance_windows_ends_after_start check (ends_at > starts_at)
);
create index on app_public.maintenance_windows (organization_id, starts_at);
create index on app_public.maintenance_windows (organization_id, status);
create index on app_public.maintenance_windows (created_by_id);
create trigger _100_timestamps before insert or update on app_public.maintenance_windows
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.maintenance_windows', 'editor', 'editor', 'admin');
grant select on app_public.maintenance_windows to :DATABASE_VISITOR;
grant insert (title, body, starts_at, ends_at), update (title, body, starts_at, ends_at), delete
  on app_public.maintenance_windows to :DATABASE_VISITOR;
comment on table app_public.maintenance_windows is
  'Planned work. The worker starts and completes it on time, setting its services under maintenance and restoring them.';
comment on column app_public.maintenance_windows.status is 'Moved by the worker on time; cancelMaintenance cancels.';

create table app_public.maintenance_services (
  organization_id uuid not null default app_hidden.current_org_id(),
  maintenance_window_id uuid not null,
  service_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (organization_id, maintenance_window_id, service_id),
  foreign key (organization_id, maintenance_window_id)
    references app_public.maintenance_windows (organization_id, id) on delete cascade,
  foreign key (organization_id, service_id) references app_public.services (organization_id, id) on delete cascade
);
create index on app_public.maintenance_services (organization_id, service_id);
select app_private.create_tenant_policies('app_public.maintenance_services', 'editor', null, 'editor');
grant select, delete on app_public.maintenance_services to :DATABASE_VISITOR;
grant insert (maintenance_window_id, service_id) on app_public.maintenance_services to :DATABASE_VISITOR;
comment on table app_public.maintenance_services is 'The services a maintenance window affects.';

/* Moves a window to the state it should have now; the worker calls it at start and end. */
create function app_private.advance_maintenance_window(organization_id uuid, maintenance_window_id uuid)
returns app_public.maintenance_windows
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_window app_public.maintenance_windows;
begin
  select * into v_window from app_public.maintenance_windows w
  where w.organization_id = advance_maintenance_window.organization_id
    and w.id = advance_maintenance_window.maintenance_window_id
  for update;
  if v_window.id is null or v_window.status in ('completed', 'canceled') then
    return v_window;
  end if;
  if now() >= v_window.ends_at then
    update app_public.maintenance_windows w
    set status = 'completed', completed_at = now(), started_at = coalesce(w.started_at, now())
    where w.organization_id = v_window.organization_id and w.id = v_window.id
    returning * into v_window;
  elsif now() >= v_window.starts_at and v_window.status = 'scheduled' then
    update app_public.maintenance_windows w set status = 'in_progress', started_at = now()
    where w.organization_id = v_window.organization_id and w.id = v_window.id
    returning * into v_window;
  end if;
  return v_window;
end;
$$;

/* Schedules the start and end jobs; editing the times reschedules them (same job keys). */
create function app_private.tg_maintenance_windows__schedule() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_payload json := json_build_object('organizationId', new.organization_id, 'maintenanceId', new.id);
begin
  if new.status in ('completed', 'canceled') then
    perform graphile_worker.remove_job('maintenance:' || new.id || ':start');
    perform graphile_worker.remove_job('maintenance:' || new.id || ':end');
    return null;
  end if;
  if new.status = 'scheduled' then
    perform graphile_worker.add_job('maintenance_windows__advance', v_payload,
      run_at := new.starts_at, job_key := 'maintenance:' || new.id || ':start', max_attempts := 10);
  end if;
  perform graphile_worker.add_job('maintenance_windows__advance', v_payload,
    run_at := new.ends_at, job_key := 'maintenance:' || new.id || ':end', max_attempts := 10);
  return null;
end;
$$;
create trigger _500_schedule
  after insert or update of starts_at, ends_at, status on app_public.maintenance_windows
  for each row execute function app_private.tg_maintenance_windows__schedule();

create function app_private.tg_maintenance_windows__refresh_services() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_service uuid;
  v_previous_org text;
begin
  if new.status is distinct from old.status then
    v_previous_org := app_private.enter_organization(new.organization_id);
    for v_service in
      select ms.service_id from app_public.maintenance_services ms
      where ms.organization_id = new.organization_id and ms.maintenance_window_id = new.id
    loop
      perform app_private.refresh_service_status(new.organization_id, v_service);
    end loop;
    perform app_private.leave_organization(v_previous_org);
  end if;
  return null;
end;
$$;
create trigger _300_refresh_services after update of status on app_public.maintenance_windows
  for each row execute function app_private.tg_maintenance_windows__refresh_services();

create function app_private.tg_maintenance_services__refresh() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_row app_public.maintenance_services := coalesce(new, old);
  v_previous_org text := app_private.enter_organization(v_row.organization_id);
begin
  perform app_private.refresh_service_status(v_row.organization_id, v_row.service_id);
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create trigger _300_refresh_services after insert or delete on app_public.maintenance_services
  for each row execute function app_private.tg_maintenance_services__refresh();

create function app_public.cancel_maintenance(maintenance_window_id uuid) returns app_public.maintenance_windows
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_window app_public.maintenance_windows;
begin
  perform app_hidden.assert_org_role('editor', 'cancel maintenance');
  select * into v_window from app_public.maintenance_windows w
  where w.organization_id = app_hidden.current_org_id() and w.id = cancel_maintenance.maintenance_window_id
  for update;
  if v_window.id is null then
    perform app_hidden.raise_error('IPN01', 'No maintenance window with this id in the organization.');
  end if;
  if v_window.status in ('completed', 'canceled') then
    perform app_hidden.raise_error('IPC04', 'This maintenance window has already ended.');
  end if;
  update app_public.maintenance_windows w set status = 'canceled', canceled_at = now()
  where w.organization_id = v_window.organization_id and w.id = v_window.id
  returning * into v_window;
  return v_window;
end;
$$;
comment on function app_public.cancel_maintenance(uuid) is
  E'@resultFieldName maintenanceWindow\nCancels a scheduled or running window; its services are restored at once (editors and above).';

------------------------------------------------------------------------------------------
-- Audit log: written by triggers in the same transaction, append-only
------------------------------------------------------------------------------------------

create table app_public.audit_log (
  organization_id uuid not null references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  occurred_at timestamptz not null default clock_timestamp(),
  actor_user_id uuid references app_public.users (id) on delete set null,
  action text not null check (action in ('insert', 'update', 'delete')),
  target_table text not null,
  target_id uuid,
  changes jsonb not null,
  primary key (organization_id, id)
);
create index on app_public.audit_log (organization_id, occurred_at desc, id);
create index on app_public.audit_log (organization_id, actor_user_id, occurred_at desc);
create index on app_public.audit_log (organization_id, target_table, target_id);
create index on app_public.audit_log (organization_id, action, occurred_at desc);
create index on app_public.audit_log (actor_user_id);
select app_private.create_tenant_policies('app_public.audit_log', null, null, null);
drop policy select_member on app_public.audit_log;
create policy select_admin on app_public.audit_log for select to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin');
grant select on app_public.audit_log to :DATABASE_VISITOR;
comment on table app_public.audit_log is
  E'@behavior -insert -update -delete\nEvery change to the organization''s data: who, what, and the changed columns before and after. Owners and admins read it; nobody changes it.';
comment on column app_public.audit_log.changes is
  'Per column: {"before": …, "after": …} (only changed columns for updates). Secrets and file contents never appear.';

/*
 * Generic audit trigger. Arguments: the name of the column identifying the target row, then
 * columns never to record (file contents). Timestamps maintained by the database are left out.
 */
create function app_private.tg__audit() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_ignored text[] := array['created_at', 'updated_at', 'status_changed_at', 'organization_id']
                      || coalesce(tg_argv[1:], '{}');
  v_old jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) - coalesce(tg_argv[1:], '{}') end;
  v_new jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) - coalesce(tg_argv[1:], '{}') end;
  v_row jsonb := coalesce(v_new, v_old);
  v_org uuid := coalesce(v_row ->> 'organization_id', v_row ->> 'id')::uuid;
  v_changes jsonb;
  v_active_org text;
begin
  -- Deleting an organization cascades to its rows; their history goes with it.
  if not exists (select 1 from app_public.organizations o where o.id = v_org) then
    return null;
  end if;
  if tg_op = 'UPDATE' then
    select jsonb_object_agg(n.key, jsonb_build_object('before', v_old -> n.key, 'after', n.value))
    into v_changes
    from jsonb_each(v_new) n
    where n.key <> all (v_ignored) and (v_old -> n.key) is distinct from n.value;
    if v_changes is null then
      return null;
    end if;
  else
    select jsonb_object_agg(e.key, jsonb_build_object(case when tg_op = 'INSERT' then 'after' else 'before' end, e.value))
    into v_changes
    from jsonb_each(v_row) e
    where e.key <> all (v_ignored);
  end if;
  -- Membership and invitation changes can concern another organization than the one the
  -- caller acts in (registering, accepting an invitation); the entry belongs to the row's.
  v_active_org := app_private.enter_organization(v_org);
  insert into app_public.audit_log (organization_id, actor_user_id, action, target_table, target_id, changes)
  values (v_org, app_hidden.current_user_id(), lower(tg_op), tg_table_name, (v_row ->> tg_argv[0])::uuid,
          coalesce(v_changes, '{}'));
  perform app_private.leave_organization(v_active_org);
  return null;
end;
$$;

create function app_private.tg_audit_log__append_only() returns trigger
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  -- Only the cascade from deleting the organization (a trigger-driven delete) may remove entries.
  if tg_op = 'DELETE' and pg_trigger_depth() > 1 then
    return old;
  end if;
  perform app_hidden.raise_error('IPF01', 'The audit log is append-only.');
  return null;
end;
$$;
create trigger _200_append_only before update or delete on app_public.audit_log
  for each row execute function app_private.tg_audit_log__append_only();

create trigger _500_audit after insert or update or delete on app_public.service_groups
  for each row execute function app_private.tg__audit('id');
create trigger _500_audit after insert or update or delete on app_public.services
  for each row execute function app_private.tg__audit('id');
create trigger _500_audit after insert or update or delete on app_public.incidents
  for each row execute function app_private.tg__audit('id');
create trigger _500_audit after insert or update or delete on app_public.incident_services
  for each row execute function app_private.tg__audit('incident_id');
create trigger _500_audit after insert or update or delete on app_public.incident_updates
  for each row execute function app_private.tg__audit('id');
create trigger _500_audit after insert or delete on app_public.incident_attachments
  for each row execute function app_private.tg__audit('id', 'content');
create trigger _500_audit after insert or update or delete on app_public.maintenance_windows
  for each row execute function app_private.tg__audit('id');
create trigger _500_audit after insert or delete on app_public.maintenance_services
  for each row execute function app_private.tg__audit('maintenance_window_id');
create trigger _500_audit after insert on app_public.incident_update_service_changes
  for each row execute function app_private.tg__audit('incident_update_id');
create trigger _500_audit after insert or update on app_public.service_status_intervals
  for each row execute function app_private.tg__audit('id');
create trigger _500_audit after insert or update or delete on app_public.organization_memberships
  for each row execute function app_private.tg__audit('user_id');
create trigger _500_audit after insert or update or delete on app_public.organization_invitations
  for each row execute function app_private.tg__audit('id');
create trigger _500_audit after update on app_public.organizations
  for each row execute function app_private.tg__audit('id');

------------------------------------------------------------------------------------------
-- Finding incidents, and metrics
------------------------------------------------------------------------------------------

create function app_public.search_incidents(
  query text default null,
  statuses app_public.incident_status[] default null,
  severities app_public.incident_severity[] default null,
  service_id uuid default null,
  assignee_id uuid default null,
  started_after timestamptz default null,
  started_before timestamptz default null
) returns setof app_public.incidents
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select i.* from app_public.incidents i
  -- The query is matched literally: LIKE's wildcards and its escape (chr(92), a backslash) are escaped.
  where (query is null or i.title ilike
         '%' || replace(replace(replace(query, chr(92), chr(92) || chr(92)), '%', chr(92) || '%'), '_', chr(92) || '_') || '%')
    and (statuses is null or i.status = any (statuses))
    and (severities is null or i.severity = any (severities))
    and (search_incidents.assignee_id is null or i.assignee_id = search_incidents.assignee_id)
    and (started_after is null or i.started_at >= started_after)
    and (started_before is null or i.started_at < started_before)
    and (
      search_incidents.service_id is null or exists (
        select 1 from app_public.incident_services c
        where c.organization_id = i.organization_id and c.incident_id = i.id
          and c.service_id = search_incidents.service_id
      )
    )
  order by i.started_at desc, i.id desc;
$$;
comment on function app_public.search_incidents(text, app_public.incident_status[], app_public.incident_severity[], uuid, uuid, timestamptz, timestamptz) is
  'Incidents of the active organization, newest first, filtered by title text, statuses, severities, an affected service, the assignee and a start-time range.';

create type app_public.incident_metrics as (
  incident_count integer,
  acknowledged_count integer,
  resolved_count integer,
  mtta_mean_seconds double precision,
  mtta_median_seconds double precision,
  mttr_mean_seconds double precision,
  mttr_median_seconds double precision
);
comment on type app_public.incident_metrics is
  'Over incidents started in the period: MTTA = acknowledged_at − started_at, MTTR = resolved_at − started_at, in seconds.';

create function app_public.incident_metrics(
  period_start timestamptz default now() - interval '30 days',
  period_end timestamptz default now()
)
returns app_public.incident_metrics
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select
    count(*)::integer,
    count(i.acknowledged_at)::integer,
    count(i.resolved_at)::integer,
    avg(extract(epoch from i.acknowledged_at - i.started_at))::double precision,
    percentile_cont(0.5) within group (order by extract(epoch from i.acknowledged_at - i.started_at)),
    avg(extract(epoch from i.resolved_at - i.started_at))::double precision,
    percentile_cont(0.5) within group (order by extract(epoch from i.resolved_at - i.started_at))
  from app_public.incidents i
  where i.started_at >= period_start and i.started_at < period_end;
$$;
comment on function app_public.incident_metrics(timestamptz, timestamptz) is
  'Mean time to acknowledge and to resolve (mean and median) for incidents started in [periodStart, periodEnd), by default the last 30 days.';

create type app_public.incident_count_by_severity as (severity app_public.incident_severity, incident_count integer);
create type app_public.incident_count_by_service as (service_id uuid, service_name text, incident_count integer);

create function app_public.incident_counts_by_severity(
  period_start timestamptz default now() - interval '30 days',
  period_end timestamptz default now()
)
returns setof app_public.incident_count_by_severity
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select s.severity, count(i.id)::integer
  from unnest(enum_range(null::app_public.incident_severity)) as s(severity)
  left join app_public.incidents i
    on i.severity = s.severity and i.started_at >= period_start and i.started_at < period_end
  group by s.severity
  order by s.severity;
$$;
comment on function app_public.incident_counts_by_severity(timestamptz, timestamptz) is
  'Incidents started in [periodStart, periodEnd) per severity (every severity listed, zeros included).';

create function app_public.incident_counts_by_service(
  period_start timestamptz default now() - interval '30 days',
  period_end timestamptz default now()
)
returns setof app_public.incident_count_by_service
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select s.id, s.name, count(i.id)::integer
  from app_public.services s
  left join app_public.incident_services c on c.organization_id = s.organization_id and c.service_id = s.id
  left join app_public.incidents i
    on i.organization_id = c.organization_id and i.id = c.incident_id
   and i.started_at >= period_start and i.started_at < period_end
  group by s.id, s.name
  order by count(i.id) desc, s.name;
$$;
comment on function app_public.incident_counts_by_service(timestamptz, timestamptz) is
  'Incidents started in [periodStart, periodEnd) per affected service (every service listed).';

------------------------------------------------------------------------------------------
-- Execute grants
------------------------------------------------------------------------------------------

grant execute on function app_public.post_incident_update(uuid, app_public.incident_status, text, boolean, timestamptz, app_public.service_status_change[])
  to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.acknowledge_incident(uuid) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.cancel_maintenance(uuid) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.search_incidents(text, app_public.incident_status[], app_public.incident_severity[], uuid, uuid, timestamptz, timestamptz)
  to :DATABASE_VISITOR;
grant execute on function app_public.incident_metrics(timestamptz, timestamptz) to :DATABASE_VISITOR;
grant execute on function app_public.incident_counts_by_severity(timestamptz, timestamptz) to :DATABASE_VISITOR;
grant execute on function app_public.incident_counts_by_service(timestamptz, timestamptz) to :DATABASE_VISITOR;

------------------------------------------------------------------------------------------
-- Demo data bookkeeping: seeded once, on the first start that asks for it
------------------------------------------------------------------------------------------

alter table app_private.instance_settings add column if not exists demo_seeded_at timestamptz;
