------------------------------------------------------------------------------------------
-- Events: what integrations hear about (DESIGN.md §11)
--
-- Every change an integration cares about is recorded once, as a row, when its transaction
-- commits. Consumers (outbound webhooks, chat, subscriber email) add their own triggers on
-- app_public.events that queue their work; tasks re-read rows by id.
------------------------------------------------------------------------------------------

drop table if exists app_public.events cascade;
drop function if exists app_public.event_types cascade;
drop function if exists app_private.emit_event cascade;
drop function if exists app_private.event_organization_json cascade;
drop function if exists app_private.event_incident_json cascade;
drop function if exists app_private.event_maintenance_json cascade;
drop function if exists app_private.event_service_json cascade;
drop function if exists app_private.tg_incidents__emit_events cascade;
drop function if exists app_private.tg_incident_updates__emit_events cascade;
drop function if exists app_private.tg_maintenance_windows__emit_events cascade;
drop function if exists app_private.tg_services__emit_events cascade;

create function app_public.event_types() returns text[]
language sql
immutable
set search_path = pg_catalog, public, pg_temp
as $$
  select array[
    'incident.created', 'incident.updated', 'incident.resolved', 'incident_update.posted',
    'maintenance.scheduled', 'maintenance.started', 'maintenance.completed', 'maintenance.canceled',
    'service.status_changed', 'page.status_changed'
  ];
$$;
grant execute on function app_public.event_types() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
comment on function app_public.event_types() is 'Every event type integrations can subscribe to.';

create table app_public.events (
  organization_id uuid not null references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  type text not null check (type = any (app_public.event_types())),
  subject_id uuid not null,
  is_public boolean not null,
  payload jsonb not null,
  -- One event per type and subject per transaction: the one that committed, in its final state.
  transaction_id xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null default now(),
  primary key (organization_id, id),
  unique (organization_id, transaction_id, type, subject_id)
);
create index on app_public.events (organization_id, created_at desc);
create index on app_public.events (organization_id, subject_id);
select app_private.create_tenant_policies('app_public.events', null, null, null);
grant select (organization_id, id, type, subject_id, is_public, payload, created_at) on app_public.events
  to :DATABASE_VISITOR;
comment on table app_public.events is
  E'@behavior -insert -update -delete\nWhat happened, as integrations hear it: one row per change, recorded when it commits.';
comment on column app_public.events.type is 'One of eventTypes, e.g. incident.created.';
comment on column app_public.events.subject_id is 'The incident, maintenance window, service or organization the event is about.';
comment on column app_public.events.is_public is
  'Whether the status page shows what the event is about (public incidents and updates, visible services, maintenance).';
comment on column app_public.events.payload is 'The event''s data as sent to webhooks: the subject in its state at commit.';

/* Records an event, at most once per type and subject per transaction. */
create function app_private.emit_event(organization_id uuid, type text, subject_id uuid, is_public boolean, payload jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_previous_org text := app_private.enter_organization(emit_event.organization_id);
begin
  insert into app_public.events (organization_id, type, subject_id, is_public, payload)
  values (emit_event.organization_id, emit_event.type, emit_event.subject_id, emit_event.is_public,
          jsonb_build_object('organization', app_private.event_organization_json(emit_event.organization_id))
            || emit_event.payload)
  on conflict (organization_id, transaction_id, type, subject_id) do nothing;
  perform app_private.leave_organization(v_previous_org);
end;
$$;

create function app_private.event_organization_json(organization_id uuid) returns jsonb
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select jsonb_build_object('id', o.id, 'slug', o.slug, 'name', o.name, 'status_page_path', '/status/' || o.slug)
  from app_public.organizations o where o.id = event_organization_json.organization_id;
$$;

create function app_private.event_incident_json(incident app_public.incidents) returns jsonb
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select jsonb_build_object(
    'id', incident.id,
    'title', incident.title,
    'status', incident.status,
    'impact', incident.impact,
    'severity', incident.severity,
    'visibility', incident.visibility,
    'started_at', incident.started_at,
    'acknowledged_at', incident.acknowledged_at,
    'resolved_at', incident.resolved_at,
    'reopened_count', incident.reopened_count,
    'root_cause', incident.root_cause,
    'resolution_summary', incident.resolution_summary,
    'created_at', incident.created_at,
    'updated_at', incident.updated_at,
    'services', coalesce((
      select jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'status', c.status, 'hidden', s.hidden)
                       order by s.position, s.name)
      from app_public.incident_services c
      join app_public.services s on s.organization_id = c.organization_id and s.id = c.service_id
      where c.organization_id = incident.organization_id and c.incident_id = incident.id
    ), '[]')
  );
$$;

create function app_private.event_maintenance_json(maintenance app_public.maintenance_windows) returns jsonb
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select jsonb_build_object(
    'id', maintenance.id,
    'title', maintenance.title,
    'body', maintenance.body,
    'status', maintenance.status,
    'starts_at', maintenance.starts_at,
    'ends_at', maintenance.ends_at,
    'started_at', maintenance.started_at,
    'completed_at', maintenance.completed_at,
    'canceled_at', maintenance.canceled_at,
    'services', coalesce((
      select jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'hidden', s.hidden) order by s.position, s.name)
      from app_public.maintenance_services ms
      join app_public.services s on s.organization_id = ms.organization_id and s.id = ms.service_id
      where ms.organization_id = maintenance.organization_id and ms.maintenance_window_id = maintenance.id
    ), '[]')
  );
$$;

create function app_private.event_service_json(service app_public.services) returns jsonb
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select jsonb_build_object(
    'id', service.id, 'name', service.name, 'status', service.status, 'hidden', service.hidden,
    'group_id', service.group_id, 'status_changed_at', service.status_changed_at
  );
$$;

/*
 * The emitting triggers are deferred constraint triggers: they run at commit, read the row
 * as it is then, and so describe what was committed (an incident created with its services
 * and first update in one transaction is one incident.created event, with its services).
 */
create function app_private.tg_incidents__emit_events() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous_org text := app_private.enter_organization(new.organization_id);
  v_incident app_public.incidents;
  v_type text;
begin
  select * into v_incident from app_public.incidents i where i.organization_id = new.organization_id and i.id = new.id;
  if v_incident.id is not null then
    if tg_op = 'INSERT' then
      v_type := 'incident.created';
    elsif old.status <> 'resolved' and v_incident.status = 'resolved' then
      v_type := 'incident.resolved';
    elsif not exists (
      -- An incident created in this transaction is described once, by incident.created.
      select 1 from app_public.events e
      where e.organization_id = new.organization_id and e.transaction_id = pg_current_xact_id()
        and e.type = 'incident.created' and e.subject_id = new.id
    ) and (old.title, old.description, old.status, old.severity, old.impact, old.visibility, old.assignee_id,
           old.root_cause, old.resolution_summary, old.postmortem_published_at)
          is distinct from
          (v_incident.title, v_incident.description, v_incident.status, v_incident.severity, v_incident.impact,
           v_incident.visibility, v_incident.assignee_id, v_incident.root_cause, v_incident.resolution_summary,
           v_incident.postmortem_published_at) then
      v_type := 'incident.updated';
    end if;
    if v_type is not null then
      perform app_private.emit_event(new.organization_id, v_type, new.id, v_incident.visibility = 'public',
                                     jsonb_build_object('incident', app_private.event_incident_json(v_incident)));
    end if;
  end if;
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create constraint trigger _900_emit_events after insert or update on app_public.incidents
  deferrable initially deferred
  for each row execute function app_private.tg_incidents__emit_events();

create function app_private.tg_incident_updates__emit_events() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous_org text := app_private.enter_organization(new.organization_id);
  v_update app_public.incident_updates;
  v_incident app_public.incidents;
begin
  select * into v_update from app_public.incident_updates u where u.organization_id = new.organization_id and u.id = new.id;
  select * into v_incident from app_public.incidents i
  where i.organization_id = new.organization_id and i.id = v_update.incident_id;
  if v_update.id is not null and v_incident.id is not null then
    perform app_private.emit_event(
      new.organization_id, 'incident_update.posted', new.id,
      v_incident.visibility = 'public' and v_update.is_public,
      jsonb_build_object(
        'incident', app_private.event_incident_json(v_incident),
        'incident_update', jsonb_build_object(
          'id', v_update.id,
          'incident_id', v_update.incident_id,
          'status', v_update.status,
          'previous_status', v_update.previous_status,
          'body', v_update.body,
          'is_public', v_update.is_public,
          'display_at', v_update.display_at,
          'created_at', v_update.created_at,
          'affected_services', coalesce((
            select jsonb_agg(jsonb_build_object(
              'id', s.id, 'name', s.name, 'old_status', c.old_status, 'new_status', c.new_status, 'hidden', s.hidden
            ) order by s.position, s.name)
            from app_public.incident_update_service_changes c
            join app_public.services s on s.organization_id = c.organization_id and s.id = c.service_id
            where c.organization_id = v_update.organization_id and c.incident_update_id = v_update.id
          ), '[]')
        )
      )
    );
  end if;
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create constraint trigger _900_emit_events after insert on app_public.incident_updates
  deferrable initially deferred
  for each row execute function app_private.tg_incident_updates__emit_events();

create function app_private.tg_maintenance_windows__emit_events() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous_org text := app_private.enter_organization(new.organization_id);
  v_window app_public.maintenance_windows;
  v_type text;
begin
  select * into v_window from app_public.maintenance_windows w
  where w.organization_id = new.organization_id and w.id = new.id;
  if v_window.id is not null then
    if tg_op = 'INSERT' then
      v_type := 'maintenance.scheduled';
    elsif old.status is distinct from new.status then
      v_type := case new.status
        when 'in_progress' then 'maintenance.started'
        when 'completed' then 'maintenance.completed'
        when 'canceled' then 'maintenance.canceled'
      end;
    end if;
    if v_type is not null then
      perform app_private.emit_event(new.organization_id, v_type, new.id, true,
                                     jsonb_build_object('maintenance', app_private.event_maintenance_json(v_window)));
    end if;
  end if;
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create constraint trigger _900_emit_events after insert or update of status on app_public.maintenance_windows
  deferrable initially deferred
  for each row execute function app_private.tg_maintenance_windows__emit_events();

create function app_private.tg_services__emit_events() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous_org text := app_private.enter_organization(new.organization_id);
  v_service app_public.services;
begin
  select * into v_service from app_public.services s where s.organization_id = new.organization_id and s.id = new.id;
  -- The first change in the transaction fires first and holds the status before it; a
  -- status that came back to where it started is no change.
  if v_service.id is not null and v_service.status is distinct from old.status then
    perform app_private.emit_event(new.organization_id, 'service.status_changed', new.id, not v_service.hidden,
                                   jsonb_build_object('service', app_private.event_service_json(v_service),
                                                      'previous_status', old.status));
  end if;
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create constraint trigger _900_emit_events after update of status on app_public.services
  deferrable initially deferred
  for each row when (old.status is distinct from new.status)
  execute function app_private.tg_services__emit_events();

/*
 * page.status_changed comes from the snapshot rebuild, which is where the page's overall
 * status is decided. Same function as before, plus the event when the indicator changes.
 */
create or replace function app_private.rebuild_status_snapshot(organization_id uuid) returns bigint
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
  -- Rebuilds of one organization take turns, and each reads the data after taking its turn:
  -- a rebuild that started earlier can never store an older view over a newer one.
  perform pg_advisory_xact_lock(hashtext('status_snapshot:' || rebuild_status_snapshot.organization_id::text));
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
  if v_old.organization_id is not null and v_old.body -> 'status' is distinct from v_body -> 'status' then
    perform app_private.emit_event(v_org.id, 'page.status_changed', v_org.id, true, jsonb_build_object(
      'page', jsonb_build_object('id', v_org.id, 'name', v_body -> 'page' ->> 'name', 'url', v_body -> 'page' ->> 'url'),
      'status', v_body -> 'status',
      'previous_status', v_old.body -> 'status'
    ));
  end if;
  return v_version;
end;
$$;

/*
 * Dashboards follow their organization live (GET /api/live): each event is announced on
 * `organization_events` with ids only; clients read what changed through the API, under RLS.
 */
drop function if exists app_private.tg_events__announce cascade;
create function app_private.tg_events__announce() returns trigger
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform pg_notify('organization_events', json_build_object(
    'organizationId', new.organization_id, 'id', new.id, 'type', new.type, 'subjectId', new.subject_id
  )::text);
  return null;
end;
$$;
create trigger _900_announce after insert on app_public.events
  for each row execute function app_private.tg_events__announce();
