--! Previous: sha1:08cd46f323c03eacda998bf19a3f794c6fd9be9d
--! Hash: sha1:869bc30d838a2fe5a846004d65c59c15f092d108
--! Message: integrations: events, inbound alerts, outbound webhooks and chat, subscribers; operations: worker heartbeats, organization deletion, plans

--! split: 1-events.sql
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
  -- (bigint rather than xid8, which the API layer has no type for; xid8 values fit.)
  transaction_id bigint not null default pg_current_xact_id()::text::bigint,
  created_at timestamptz not null default now(),
  primary key (organization_id, id)
);
-- An index, not a constraint: it is no way to look an event up (transaction_id is not exposed).
create unique index events_one_per_transaction on app_public.events (organization_id, transaction_id, type, subject_id);
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
      where e.organization_id = new.organization_id and e.transaction_id = pg_current_xact_id()::text::bigint
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

--! split: 2-alerts.sql
------------------------------------------------------------------------------------------
-- Inbound alerts (DESIGN.md §11): monitoring tools open, update and resolve incidents
--
-- An alert source belongs to an organization and has a signing secret, sealed by the server
-- (AES-256-GCM) and kept where the API roles cannot read it. A request to
-- POST /hooks/alerts/<source id> proves itself with that secret (an HMAC signature, or the
-- secret as a bearer token) or with an API key; it then acts in the source's organization
-- under the same policies, role checks and plan limits as a member:
-- - with an API key, as that key;
-- - with the secret, as the alert source itself: a third kind of actor next to people and
--   keys (jwt.claims.alert_source_id), whose role is editor while the source is enabled.
-- Incidents are found again by (source, fingerprint); an Idempotency-Key replays the answer of
-- the first request; every request to a known source is logged for admins.
------------------------------------------------------------------------------------------

-- Re-runnable while it is work in progress.
drop table if exists
  app_private.alert_idempotency_keys, app_public.alert_requests, app_public.incident_alerts,
  app_private.alert_source_secrets, app_public.alert_sources
  cascade;
drop type if exists app_public.alert_source_format, app_public.alert_status cascade;
drop function if exists app_hidden.current_alert_source_id cascade;
drop function if exists app_public.alert_sources_hook_path cascade;
drop function if exists app_hidden.set_alert_source_secret cascade;
drop function if exists app_hidden.receive_alerts cascade;
drop function if exists app_hidden.claim_alert_idempotency_key cascade;
drop function if exists app_hidden.remember_alert_response cascade;
drop function if exists app_private.alert_source_for_hook cascade;
drop function if exists app_private.record_alert_request cascade;

create function app_hidden.current_alert_source_id() returns uuid
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select nullif(current_setting('jwt.claims.alert_source_id', true), '')::uuid;
$$;
comment on function app_hidden.current_alert_source_id() is
  'The alert source a hook request proved itself as (the server checked its secret), or NULL.';

------------------------------------------------------------------------------------------
-- Alert sources
------------------------------------------------------------------------------------------

create type app_public.alert_source_format as enum ('generic', 'alertmanager', 'grafana');
comment on type app_public.alert_source_format is
  'The body an alert source sends: the documented generic JSON, Prometheus Alertmanager (webhook v4) or Grafana alerting.';
create type app_public.alert_status as enum ('firing', 'resolved');

create table app_public.alert_sources (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 100),
  format app_public.alert_source_format not null default 'generic',
  default_service_id uuid,
  default_severity app_public.incident_severity not null default 'high',
  visibility app_public.incident_visibility not null default 'internal',
  enabled boolean not null default true,
  -- The secret itself is sealed in app_private.alert_source_secrets; this is what people see.
  secret_hint text,
  created_by_id uuid default app_hidden.current_user_id() references app_public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_received_at timestamptz,
  primary key (organization_id, id),
  unique (organization_id, name),
  foreign key (organization_id, default_service_id)
    references app_public.services (organization_id, id) on delete set null (default_service_id)
);
create index on app_public.alert_sources (organization_id, default_service_id);
create index on app_public.alert_sources (created_by_id);
create trigger _100_timestamps before insert or update on app_public.alert_sources
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.alert_sources', null, null, null);
-- Every member sees which sources exist (and where incidents came from); only people who are
-- admins manage them: a source's secret is a credential, and keys never mint credentials.
create policy insert_admin on app_public.alert_sources for insert to :DATABASE_VISITOR
  with check ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
create policy update_admin on app_public.alert_sources for update to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
create policy delete_admin on app_public.alert_sources for delete to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
grant select on app_public.alert_sources to :DATABASE_VISITOR;
grant insert (name, format, default_service_id, default_severity, visibility, enabled),
  update (name, format, default_service_id, default_severity, visibility, enabled),
  delete
  on app_public.alert_sources to :DATABASE_VISITOR;
-- Receiving alerts touches last_received_at; that is not a change worth an audit entry.
create trigger _500_audit after insert or update or delete on app_public.alert_sources
  for each row execute function app_private.tg__audit('id', 'last_received_at');
comment on table app_public.alert_sources is
  E'@behavior -insert\nA monitoring tool that opens and resolves incidents through POST /hooks/alerts/<id>. Created with createAlertSource (the secret is shown once), changed and deleted by owners and admins.';
comment on column app_public.alert_sources.format is 'Which body the source sends.';
comment on column app_public.alert_sources.default_service_id is
  'The service an alert affects when it names none (or one that does not exist).';
comment on column app_public.alert_sources.default_severity is 'The severity of an alert that has none we recognise.';
comment on column app_public.alert_sources.visibility is
  'Visibility of the incidents the source opens: internal (the default) keeps them off the status page.';
comment on column app_public.alert_sources.enabled is 'A disabled source answers 404 and changes nothing.';
comment on column app_public.alert_sources.secret_hint is
  E'@behavior -insert -update\nThe secret''s prefix and last characters. The secret is shown once, by createAlertSource or rotateAlertSourceSecret.';
comment on column app_public.alert_sources.last_received_at is 'When the source last sent an accepted request.';

create function app_public.alert_sources_hook_path(source app_public.alert_sources) returns text
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select '/hooks/alerts/' || source.id;
$$;
comment on function app_public.alert_sources_hook_path(app_public.alert_sources) is
  'Where the source sends its alerts (POST, relative to the server''s URL).';

/*
 * The sealed secret, found by the source id alone: a hook request names only the source, so
 * the server looks it up before it knows the organization (like API key hashes).
 */
create table app_private.alert_source_secrets (
  alert_source_id uuid primary key,
  organization_id uuid not null,
  sealed_secret bytea not null,
  updated_at timestamptz not null default now(),
  unique (organization_id, alert_source_id),
  foreign key (organization_id, alert_source_id)
    references app_public.alert_sources (organization_id, id) on delete cascade
);
alter table app_private.alert_source_secrets enable row level security;
alter table app_private.alert_source_secrets force row level security;
create policy owner_all on app_private.alert_source_secrets to :DATABASE_OWNER using (true) with check (true);
comment on table app_private.alert_source_secrets is
  'Alert source secrets, sealed by the server (AES-256-GCM): the database never holds one in clear.';

/*
 * Stores a newly generated, sealed secret for a source of the active organization and its
 * display hint (owners and admins, people only). Used on creation and rotation; the old
 * secret stops working at once.
 */
create function app_hidden.set_alert_source_secret(alert_source_id uuid, sealed_secret bytea, secret_hint text)
returns app_public.alert_sources
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_source app_public.alert_sources;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('admin', 'manage alert sources');
  update app_public.alert_sources s set secret_hint = set_alert_source_secret.secret_hint
  where s.organization_id = app_hidden.current_org_id() and s.id = set_alert_source_secret.alert_source_id
  returning * into v_source;
  if v_source.id is null then
    perform app_hidden.raise_error('IPN02', 'No alert source with this id in the organization.');
  end if;
  insert into app_private.alert_source_secrets (alert_source_id, organization_id, sealed_secret)
  values (v_source.id, v_source.organization_id, set_alert_source_secret.sealed_secret)
  on conflict (alert_source_id) do update set sealed_secret = excluded.sealed_secret, updated_at = now();
  return v_source;
end;
$$;

------------------------------------------------------------------------------------------
-- The alert source as an actor: editor in its organization while it is enabled
------------------------------------------------------------------------------------------

create or replace function app_hidden.current_org_role() returns app_public.membership_role
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select coalesce(
    (select m.role
     from app_public.organization_memberships m
     where m.organization_id = app_hidden.current_org_id()
       and m.user_id = app_hidden.current_user_id()),
    (select k.role
     from app_public.api_keys k
     where k.organization_id = app_hidden.current_org_id()
       and k.id = app_hidden.current_api_key_id()
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > now())),
    -- A source may open, update and resolve incidents, nothing more.
    (select 'editor'::app_public.membership_role
     from app_public.alert_sources s
     where s.organization_id = app_hidden.current_org_id()
       and s.id = app_hidden.current_alert_source_id()
       and s.enabled)
  );
$$;

/*
 * Updates move their incident and the first one acknowledges it. An alert firing again is not
 * someone acknowledging, so updates a source posts itself leave acknowledged_at alone (MTTA
 * stays the time until a person, or a tool with a key, responded).
 */
create or replace function app_private.tg_incident_updates__apply_to_incident() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_incident app_public.incidents;
  v_acknowledges boolean := app_hidden.current_alert_source_id() is null;
  v_previous_org text := app_private.enter_organization(new.organization_id);
begin
  select * into v_incident from app_public.incidents
  where organization_id = new.organization_id and id = new.incident_id
  for update;
  new.previous_status := v_incident.status;
  update app_public.incidents
  set status = new.status,
      acknowledged_at = case when v_acknowledges then coalesce(acknowledged_at, now()) else acknowledged_at end
  where organization_id = new.organization_id and id = new.incident_id;
  perform app_private.leave_organization(v_previous_org);
  return new;
end;
$$;

------------------------------------------------------------------------------------------
-- Which incident an alert belongs to
------------------------------------------------------------------------------------------

create table app_public.incident_alerts (
  organization_id uuid not null default app_hidden.current_org_id(),
  id uuid not null default gen_random_uuid(),
  alert_source_id uuid not null,
  fingerprint text not null check (length(fingerprint) between 1 and 200),
  incident_id uuid not null,
  status app_public.alert_status not null default 'firing',
  started_at timestamptz not null default now(),
  last_fired_at timestamptz not null default now(),
  fired_count integer not null default 1,
  resolved_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  foreign key (organization_id, alert_source_id) references app_public.alert_sources (organization_id, id) on delete cascade,
  foreign key (organization_id, incident_id) references app_public.incidents (organization_id, id) on delete cascade
);
-- At most one open alert per fingerprint: the incident a new firing updates.
create unique index incident_alerts_one_open_per_fingerprint
  on app_public.incident_alerts (organization_id, alert_source_id, fingerprint) where resolved_at is null;
create index on app_public.incident_alerts (organization_id, alert_source_id, fingerprint);
create index on app_public.incident_alerts (organization_id, incident_id);
create trigger _100_timestamps before insert or update on app_public.incident_alerts
  for each row execute function app_private.tg__timestamps();
-- Written by whoever sends the alerts (editor and above, or the source itself).
select app_private.create_tenant_policies('app_public.incident_alerts', 'editor', 'editor', null);
grant select on app_public.incident_alerts to :DATABASE_VISITOR;
grant insert (alert_source_id, fingerprint, incident_id, started_at),
  update (status, last_fired_at, fired_count, resolved_at)
  on app_public.incident_alerts to :DATABASE_VISITOR;
create trigger _500_audit after insert or update or delete on app_public.incident_alerts
  for each row execute function app_private.tg__audit('id', 'last_fired_at', 'fired_count');
comment on table app_public.incident_alerts is
  E'@behavior -insert -update -delete\nAn alert (a source''s fingerprint) and the incident it opened. While it is open, the same fingerprint firing again updates that incident, and resolving resolves it.';
comment on column app_public.incident_alerts.fingerprint is 'The sender''s identity of the alert (Alertmanager and Grafana compute it from the labels).';
comment on column app_public.incident_alerts.fired_count is 'How many firing notifications arrived for the alert.';

------------------------------------------------------------------------------------------
-- Idempotency keys: the answer of the first request, replayed to retries for 24 hours
------------------------------------------------------------------------------------------

create table app_private.alert_idempotency_keys (
  organization_id uuid not null,
  alert_source_id uuid not null,
  idempotency_key text not null check (length(idempotency_key) between 1 and 255),
  -- SHA-256 of the body: the same key with another body is a mistake, not a retry.
  request_hash text not null,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (organization_id, alert_source_id, idempotency_key),
  foreign key (organization_id, alert_source_id) references app_public.alert_sources (organization_id, id) on delete cascade
);
create index on app_private.alert_idempotency_keys (organization_id, alert_source_id, created_at);
create index on app_private.alert_idempotency_keys (created_at);
select app_private.create_tenant_policies('app_private.alert_idempotency_keys', null, null, null);
drop policy select_member on app_private.alert_idempotency_keys;
comment on table app_private.alert_idempotency_keys is
  'Idempotency-Key headers of alert requests and the answers given, for 24 hours.';

/*
 * Claims an Idempotency-Key for a request in the caller's transaction: NULL when it is new
 * (the caller goes on, and remember_alert_response stores the answer before commit), else the
 * stored answer. A concurrent request with the same key waits here until the first commits
 * (and then replays its answer) or rolls back (and then goes on itself).
 */
create function app_hidden.claim_alert_idempotency_key(alert_source_id uuid, idempotency_key text, request_hash text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_org uuid := app_hidden.current_org_id();
  v_claimed boolean;
  v_key app_private.alert_idempotency_keys;
begin
  perform app_hidden.assert_org_role('editor', 'send alerts');
  -- What the caller could see: the owner is fenced to the caller's organization.
  if not exists (
    select 1 from app_public.alert_sources s where s.id = claim_alert_idempotency_key.alert_source_id and s.enabled
  ) then
    perform app_hidden.raise_error('IPN02', 'No enabled alert source with this id in the organization.');
  end if;
  delete from app_private.alert_idempotency_keys k
  where k.organization_id = v_org and k.alert_source_id = claim_alert_idempotency_key.alert_source_id
    and k.created_at < now() - interval '24 hours';
  insert into app_private.alert_idempotency_keys (organization_id, alert_source_id, idempotency_key, request_hash)
  values (v_org, claim_alert_idempotency_key.alert_source_id, claim_alert_idempotency_key.idempotency_key,
          claim_alert_idempotency_key.request_hash)
  on conflict do nothing
  returning true into v_claimed;
  if v_claimed then
    return null;
  end if;
  select * into v_key from app_private.alert_idempotency_keys k
  where k.organization_id = v_org and k.alert_source_id = claim_alert_idempotency_key.alert_source_id
    and k.idempotency_key = claim_alert_idempotency_key.idempotency_key;
  if v_key.request_hash <> claim_alert_idempotency_key.request_hash then
    perform app_hidden.raise_error('IPC05', 'This Idempotency-Key was used for a request with another body.');
  end if;
  return v_key.response;
end;
$$;

create function app_hidden.remember_alert_response(alert_source_id uuid, idempotency_key text, response jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
begin
  perform app_hidden.assert_org_role('editor', 'send alerts');
  update app_private.alert_idempotency_keys k set response = remember_alert_response.response
  where k.organization_id = app_hidden.current_org_id() and k.alert_source_id = remember_alert_response.alert_source_id
    and k.idempotency_key = remember_alert_response.idempotency_key;
end;
$$;

------------------------------------------------------------------------------------------
-- Receiving alerts: runs as the caller, so policies, role checks and plan limits apply
------------------------------------------------------------------------------------------

/*
 * Applies normalized alerts (the server parsed the sender's format) in order. Each alert is
 * {fingerprint, status: firing|resolved, title, severity, service (name or id) | null,
 * message | null, occurred_at | null}. Firing opens an incident, or posts an update to the one
 * its fingerprint opened and raises its severity when the alert is worse; resolved resolves
 * that incident. Answers {accepted, incidents: [{id, fingerprint, action}]}.
 */
create function app_hidden.receive_alerts(alert_source_id uuid, alerts jsonb) returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_source app_public.alert_sources;
  v_alert jsonb;
  v_fingerprint text;
  v_title text;
  v_message text;
  v_severity app_public.incident_severity;
  v_occurred_at timestamptz;
  v_service_id uuid;
  v_open app_public.incident_alerts;
  v_incident app_public.incidents;
  v_claims app_public.service_status_change[];
  v_action text;
  v_results jsonb := '[]';
begin
  perform app_hidden.assert_org_role('editor', 'send alerts');
  select * into v_source from app_public.alert_sources s where s.id = receive_alerts.alert_source_id and s.enabled;
  if v_source.id is null then
    perform app_hidden.raise_error('IPN02', 'No enabled alert source with this id in the organization.');
  end if;
  if jsonb_typeof(alerts) is distinct from 'array' then
    perform app_hidden.raise_error('IPV04', 'Alerts are a JSON array.');
  end if;

  for v_alert in select a.value from jsonb_array_elements(alerts) a loop
    v_fingerprint := v_alert ->> 'fingerprint';
    v_title := left(btrim(coalesce(v_alert ->> 'title', '')), 200);
    v_message := left(nullif(btrim(coalesce(v_alert ->> 'message', '')), ''), 10000);
    if coalesce(length(v_fingerprint), 0) not between 1 and 200 or v_title = ''
       or (v_alert ->> 'status') is null or (v_alert ->> 'status') not in ('firing', 'resolved') then
      perform app_hidden.raise_error('IPV04', 'Every alert needs a fingerprint, a title and a status (firing or resolved).');
    end if;
    v_severity := coalesce((v_alert ->> 'severity')::app_public.incident_severity, v_source.default_severity);
    v_occurred_at := least(coalesce((v_alert ->> 'occurred_at')::timestamptz, now()), now());

    -- One alert at a time per fingerprint: concurrent deliveries of the same alert (HA pairs,
    -- retries) must not open two incidents.
    perform pg_advisory_xact_lock(hashtextextended(v_source.id::text || '/' || v_fingerprint, 0));
    select ia.* into v_open from app_public.incident_alerts ia
    where ia.alert_source_id = v_source.id and ia.fingerprint = v_fingerprint and ia.resolved_at is null;
    v_incident := null;
    if v_open.id is not null then
      select i.* into v_incident from app_public.incidents i where i.id = v_open.incident_id;
      -- Resolved by a person meanwhile: that alert is over; a firing opens a new incident.
      if v_incident.status = 'resolved' then
        update app_public.incident_alerts ia set status = 'resolved', resolved_at = now() where ia.id = v_open.id;
        v_open := null;
        v_incident := null;
      end if;
    end if;

    if v_alert ->> 'status' = 'firing' and v_incident.id is null then
      -- A service named by the alert (by id or by name, in this organization), else the default.
      select s.id into v_service_id from app_public.services s
      where s.id::text = v_alert ->> 'service' or lower(s.name) = lower(btrim(v_alert ->> 'service'))
      order by s.id::text = v_alert ->> 'service' desc
      limit 1;
      v_service_id := coalesce(v_service_id, v_source.default_service_id);
      insert into app_public.incidents (title, description, severity, visibility, started_at)
      values (v_title, v_message, v_severity, v_source.visibility, v_occurred_at)
      returning * into v_incident;
      v_claims := case when v_service_id is null then '{}'
        else array[row(v_service_id, case v_severity
          when 'critical' then 'major_outage' when 'high' then 'partial_outage' else 'degraded_performance'
        end)::app_public.service_status_change] end;
      perform app_public.post_incident_update(
        v_incident.id, 'investigating',
        format('Opened by alert source "%s": %s', v_source.name, coalesce(v_message, v_title)),
        v_source.visibility = 'public', v_occurred_at, v_claims);
      insert into app_public.incident_alerts (alert_source_id, fingerprint, incident_id, started_at)
      values (v_source.id, v_fingerprint, v_incident.id, v_occurred_at);
      v_action := 'opened';
    elsif v_alert ->> 'status' = 'firing' then
      if v_severity > v_incident.severity then
        update app_public.incidents i set severity = v_severity where i.id = v_incident.id;
      end if;
      perform app_public.post_incident_update(
        v_incident.id, v_incident.status,
        case when v_severity > v_incident.severity
          then format('Alert fired again, severity raised from %s to %s: %s', v_incident.severity, v_severity,
                      coalesce(v_message, v_title))
          else format('Alert fired again: %s', coalesce(v_message, v_title)) end,
        false);
      update app_public.incident_alerts ia
      set last_fired_at = now(), fired_count = ia.fired_count + 1
      where ia.id = v_open.id;
      v_action := 'updated';
    elsif v_incident.id is not null then
      update app_public.incidents i
      set root_cause = coalesce(nullif(btrim(i.root_cause), ''),
                                format('Alert "%s" from alert source "%s".', v_title, v_source.name)),
          resolution_summary = coalesce(nullif(btrim(i.resolution_summary), ''),
                                        format('The alert resolved at %s; resolved automatically by alert source "%s".',
                                               to_char(v_occurred_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
                                               v_source.name))
      where i.id = v_incident.id;
      perform app_public.post_incident_update(
        v_incident.id, 'resolved', format('Alert resolved: %s', coalesce(v_message, v_title)),
        v_source.visibility = 'public');
      update app_public.incident_alerts ia set status = 'resolved', resolved_at = now() where ia.id = v_open.id;
      v_action := 'resolved';
    else
      -- Resolved with no open incident: never opened here, or already resolved.
      v_action := 'ignored';
    end if;
    v_results := v_results || jsonb_build_object('id', v_incident.id, 'fingerprint', v_fingerprint, 'action', v_action);
  end loop;

  return jsonb_build_object('accepted', jsonb_array_length(alerts), 'incidents', v_results);
end;
$$;
comment on function app_hidden.receive_alerts(uuid, jsonb) is
  'Opens, updates and resolves incidents from normalized alerts, as the caller (editor and above, or the source).';

------------------------------------------------------------------------------------------
-- The server's side: finding a source before the organization is known, and the request log
------------------------------------------------------------------------------------------

/* The source a hook request names, with its sealed secret; nothing for an unknown id. */
create function app_private.alert_source_for_hook(alert_source_id uuid)
returns table (organization_id uuid, name text, format app_public.alert_source_format, enabled boolean,
               sealed_secret bytea)
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_secret app_private.alert_source_secrets;
begin
  select * into v_secret from app_private.alert_source_secrets k where k.alert_source_id = alert_source_for_hook.alert_source_id;
  if v_secret.alert_source_id is null then
    return;
  end if;
  -- The secret names the organization; the tenant fence then lets the owner read the source.
  perform set_config('jwt.claims.org_id', v_secret.organization_id::text, true);
  return query
    select s.organization_id, s.name, s.format, s.enabled, v_secret.sealed_secret
    from app_public.alert_sources s
    where s.organization_id = v_secret.organization_id and s.id = v_secret.alert_source_id;
end;
$$;

create table app_public.alert_requests (
  organization_id uuid not null,
  id uuid not null default gen_random_uuid(),
  alert_source_id uuid not null,
  received_at timestamptz not null default now(),
  accepted boolean not null,
  code text not null,
  http_status integer not null,
  alert_count integer not null default 0,
  incident_ids uuid[] not null default '{}',
  authenticated_by text check (authenticated_by in ('signature', 'secret', 'api_key')),
  api_key_id uuid,
  idempotency_key text,
  remote_address text,
  body_excerpt text check (length(body_excerpt) <= 2000),
  primary key (organization_id, id),
  foreign key (organization_id, alert_source_id) references app_public.alert_sources (organization_id, id) on delete cascade,
  -- Only a key of this organization is named: another organization's key is none of its business.
  foreign key (organization_id, api_key_id)
    references app_public.api_keys (organization_id, id) on delete set null (api_key_id)
);
create index on app_public.alert_requests (organization_id, alert_source_id, received_at desc);
create index on app_public.alert_requests (organization_id, api_key_id);
create index on app_public.alert_requests (organization_id, received_at desc);
select app_private.create_tenant_policies('app_public.alert_requests', null, null, null);
-- Bodies and addresses of monitoring traffic: for the people who manage the sources.
drop policy select_member on app_public.alert_requests;
create policy select_admin on app_public.alert_requests for select to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
grant select on app_public.alert_requests to :DATABASE_VISITOR;
comment on table app_public.alert_requests is
  E'@behavior -insert -update -delete\nEvery request to an alert source, accepted or not, for 14 days (owners and admins).';
comment on column app_public.alert_requests.code is 'ACCEPTED, REPLAYED, or the error code the sender was answered.';
comment on column app_public.alert_requests.incident_ids is 'The incidents the request opened, updated or resolved.';
comment on column app_public.alert_requests.authenticated_by is
  'signature (X-IncidentPulse-Signature), secret (the secret as a bearer token) or api_key; NULL when none held.';
comment on column app_public.alert_requests.body_excerpt is 'The first 2,000 characters of the body.';

/*
 * Records a request (the server calls it as the owner, whatever the outcome, so it runs in
 * its own transaction), marks the source as heard from, and forgets what is past retention.
 */
create function app_private.record_alert_request(
  organization_id uuid,
  alert_source_id uuid,
  accepted boolean,
  code text,
  http_status integer,
  alert_count integer,
  incident_ids uuid[],
  authenticated_by text,
  api_key_id uuid,
  idempotency_key text,
  remote_address text,
  body_excerpt text
) returns void
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous_org text := app_private.enter_organization(record_alert_request.organization_id);
begin
  insert into app_public.alert_requests (
    organization_id, alert_source_id, accepted, code, http_status, alert_count, incident_ids, authenticated_by,
    api_key_id, idempotency_key, remote_address, body_excerpt
  )
  values (
    record_alert_request.organization_id, record_alert_request.alert_source_id, record_alert_request.accepted,
    left(record_alert_request.code, 100), record_alert_request.http_status, coalesce(record_alert_request.alert_count, 0),
    coalesce(record_alert_request.incident_ids, '{}'), record_alert_request.authenticated_by,
    record_alert_request.api_key_id, left(record_alert_request.idempotency_key, 255),
    left(record_alert_request.remote_address, 100), left(record_alert_request.body_excerpt, 2000)
  );
  if record_alert_request.accepted then
    update app_public.alert_sources s set last_received_at = now()
    where s.organization_id = record_alert_request.organization_id and s.id = record_alert_request.alert_source_id;
  end if;
  delete from app_public.alert_requests r
  where r.organization_id = record_alert_request.organization_id
    and r.alert_source_id = record_alert_request.alert_source_id
    and r.received_at < now() - interval '14 days';
  perform app_private.leave_organization(v_previous_org);
end;
$$;

grant execute on function app_hidden.current_alert_source_id() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.alert_sources_hook_path(app_public.alert_sources) to :DATABASE_VISITOR;
grant execute on function app_hidden.set_alert_source_secret(uuid, bytea, text) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.claim_alert_idempotency_key(uuid, text, text) to :DATABASE_VISITOR;
grant execute on function app_hidden.remember_alert_response(uuid, text, jsonb) to :DATABASE_VISITOR;
grant execute on function app_hidden.receive_alerts(uuid, jsonb) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;

--! split: 3-webhooks.sql
------------------------------------------------------------------------------------------
-- Outbound webhooks and chat notifications (DESIGN.md §11)
--
-- Owners and admins (people, never API keys) register webhook endpoints (signed per the
-- Standard Webhooks spec) and chat integrations (Slack, Discord, Microsoft Teams incoming
-- webhooks). Each event an endpoint or integration subscribes to becomes a delivery row and
-- a graphile-worker job; the worker posts it, logs every attempt as its own row, retries
-- with backoff, and disables a target whose deliveries keep failing (owners are emailed).
-- Secrets (the whsec_ signing secret, the chat webhook URL) are sealed by the server and kept
-- in app_private; the API shows a masked hint only.
------------------------------------------------------------------------------------------

drop table if exists
  app_public.webhook_deliveries, app_private.webhook_endpoint_secrets, app_private.chat_integration_urls,
  app_public.webhook_endpoints, app_public.chat_integrations
  cascade;
drop type if exists app_public.chat_kind, app_public.webhook_delivery_status cascade;
drop function if exists app_hidden.assert_webhook_url cascade;
drop function if exists app_hidden.assert_event_types cascade;
drop function if exists app_hidden.register_webhook_endpoint cascade;
drop function if exists app_hidden.replace_webhook_endpoint_secret cascade;
drop function if exists app_hidden.register_chat_integration cascade;
drop function if exists app_public.send_test_webhook cascade;
drop function if exists app_public.send_test_chat_message cascade;
drop function if exists app_public.redeliver_webhook cascade;
drop function if exists app_private.queue_webhook_delivery cascade;
drop function if exists app_private.record_webhook_attempt cascade;
drop function if exists app_private.tg__webhook_targets__validate cascade;
drop function if exists app_private.tg_webhook_endpoints__validate_url cascade;
drop function if exists app_private.tg__webhook_targets__notify_disabled cascade;
drop function if exists app_private.tg_events__queue_webhook_deliveries cascade;

------------------------------------------------------------------------------------------
-- Validation shared by endpoints and chat integrations
------------------------------------------------------------------------------------------

/*
 * An absolute http(s) URL without credentials or whitespace. Where it may point (no private
 * or loopback addresses) is checked by the worker at every delivery, after resolving the
 * host, because DNS answers change after saving.
 */
create function app_hidden.assert_webhook_url(url text) returns void
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
begin
  if url is null or length(url) > 2000 or url !~* '^https?://[^\s/?#@]+([/?#]\S*)?$' then
    perform app_hidden.raise_error('IPV07', 'A webhook URL must be an absolute http:// or https:// URL without credentials.');
  end if;
end;
$$;
comment on function app_hidden.assert_webhook_url(text) is 'Raises IPV07 unless the URL is an absolute http(s) URL.';

create function app_hidden.assert_event_types(event_types text[]) returns void
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
begin
  if event_types is null or not event_types <@ app_public.event_types() then
    perform app_hidden.raise_error('IPV08', 'Unknown event type: subscribe to types listed by eventTypes.',
      json_build_object('unknown', (select json_agg(t) from unnest(event_types) t where t <> all (app_public.event_types())))::text);
  end if;
end;
$$;
comment on function app_hidden.assert_event_types(text[]) is 'Raises IPV08 when a subscribed event type does not exist.';

/*
 * Shared by webhook endpoints and chat integrations: checks the subscription, and keeps the
 * automatic-disable bookkeeping consistent with the enabled switch. Turning a target back on
 * clears why it was off and its failure streak; turning it off by hand records that.
 */
create function app_private.tg__webhook_targets__validate() returns trigger
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform app_hidden.assert_event_types(new.event_types);
  if tg_op = 'INSERT' or new.enabled is distinct from old.enabled then
    if new.enabled then
      new.disabled_at := null;
      new.disabled_reason := null;
      new.consecutive_failures := 0;
    elsif new.disabled_at is null then
      new.disabled_at := now();
      new.disabled_reason := 'manual';
    end if;
  end if;
  return new;
end;
$$;

/* Owners hear once when a target is switched off because its deliveries kept failing. */
create function app_private.tg__webhook_targets__notify_disabled() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform graphile_worker.add_job(
    'webhook_targets__notify_disabled',
    json_build_object('organizationId', new.organization_id, 'table', tg_table_name, 'targetId', new.id),
    job_key := 'webhook_target_disabled:' || new.id,
    max_attempts := 10
  );
  return null;
end;
$$;

------------------------------------------------------------------------------------------
-- Webhook endpoints
------------------------------------------------------------------------------------------

create table app_public.webhook_endpoints (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  url text not null,
  description text not null default '' check (length(description) <= 500),
  event_types text[] not null default '{}',
  enabled boolean not null default true,
  include_internal boolean not null default false,
  secret_hint text not null,
  consecutive_failures integer not null default 0,
  disabled_at timestamptz,
  disabled_reason text check (disabled_reason in ('manual', 'failing')),
  created_by_id uuid default app_hidden.current_user_id() references app_public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  check (enabled = (disabled_at is null))
);
create index on app_public.webhook_endpoints (organization_id, created_at desc);
create index on app_public.webhook_endpoints (created_by_id);
create trigger _100_timestamps before insert or update on app_public.webhook_endpoints
  for each row execute function app_private.tg__timestamps();
create function app_private.tg_webhook_endpoints__validate_url() returns trigger
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform app_hidden.assert_webhook_url(new.url);
  return new;
end;
$$;
create trigger _200_validate_url before insert or update of url on app_public.webhook_endpoints
  for each row execute function app_private.tg_webhook_endpoints__validate_url();
create trigger _200_validate before insert or update on app_public.webhook_endpoints
  for each row execute function app_private.tg__webhook_targets__validate();
-- The failure streak changes with every failed attempt: not worth an audit entry each time.
create trigger _500_audit after insert or update or delete on app_public.webhook_endpoints
  for each row execute function app_private.tg__audit('id', 'consecutive_failures');
create trigger _500_notify_disabled after update of disabled_at on app_public.webhook_endpoints
  for each row when (old.disabled_at is null and new.disabled_reason = 'failing')
  execute function app_private.tg__webhook_targets__notify_disabled();

select app_private.create_tenant_policies('app_public.webhook_endpoints', null, null, null);
-- Integrations are managed by people (owners and admins), never by an API key.
drop policy select_member on app_public.webhook_endpoints;
create policy select_admin on app_public.webhook_endpoints for select to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
create policy update_admin on app_public.webhook_endpoints for update to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
create policy delete_admin on app_public.webhook_endpoints for delete to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
grant select on app_public.webhook_endpoints to :DATABASE_VISITOR;
grant update (url, description, event_types, enabled, include_internal), delete
  on app_public.webhook_endpoints to :DATABASE_VISITOR;

comment on table app_public.webhook_endpoints is
  E'@behavior -insert\nA URL that receives signed events (Standard Webhooks). Created with createWebhookEndpoint, which shows the signing secret once; owners and admins manage them.';
comment on column app_public.webhook_endpoints.url is 'Where events are POSTed: an http(s) URL that must resolve to a public address.';
comment on column app_public.webhook_endpoints.description is 'What the endpoint is for.';
comment on column app_public.webhook_endpoints.event_types is
  'The event types sent (see eventTypes); empty means every type, including types added later.';
comment on column app_public.webhook_endpoints.enabled is
  'Whether events are sent. Turned off automatically when deliveries keep failing; turning it back on resets the failure streak.';
comment on column app_public.webhook_endpoints.include_internal is
  'Also send events about what the status page does not show (internal incidents and notes, hidden services).';
comment on column app_public.webhook_endpoints.secret_hint is 'The signing secret, masked (whsec_…abcd).';
comment on column app_public.webhook_endpoints.consecutive_failures is 'Failed attempts since the last successful delivery.';
comment on column app_public.webhook_endpoints.disabled_at is 'When the endpoint was turned off.';
comment on column app_public.webhook_endpoints.disabled_reason is
  'manual (a member turned it off) or failing (every attempt of a delivery failed for about a day).';
comment on column app_public.webhook_endpoints.created_by_id is 'The member who created the endpoint.';

create table app_private.webhook_endpoint_secrets (
  organization_id uuid not null,
  webhook_endpoint_id uuid not null,
  -- AES-256-GCM under the server's key (server/src/integrations/secretBox.ts).
  sealed_secret bytea not null,
  primary key (organization_id, webhook_endpoint_id),
  foreign key (organization_id, webhook_endpoint_id)
    references app_public.webhook_endpoints (organization_id, id) on delete cascade
);
alter table app_private.webhook_endpoint_secrets enable row level security;
alter table app_private.webhook_endpoint_secrets force row level security;
create policy tenant_fence on app_private.webhook_endpoint_secrets as restrictive for all to public
  using (organization_id = (select app_hidden.current_org_id()))
  with check (organization_id = (select app_hidden.current_org_id()));
create policy owner_all on app_private.webhook_endpoint_secrets to :DATABASE_OWNER using (true) with check (true);

------------------------------------------------------------------------------------------
-- Chat integrations
------------------------------------------------------------------------------------------

create type app_public.chat_kind as enum ('slack', 'discord', 'teams');
comment on type app_public.chat_kind is 'Which chat service the incoming-webhook URL belongs to; it decides the message format.';

create table app_public.chat_integrations (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  kind app_public.chat_kind not null,
  name text not null check (length(btrim(name)) between 1 and 100),
  url_hint text not null,
  event_types text[] not null default '{}',
  enabled boolean not null default true,
  include_internal boolean not null default false,
  consecutive_failures integer not null default 0,
  disabled_at timestamptz,
  disabled_reason text check (disabled_reason in ('manual', 'failing')),
  created_by_id uuid default app_hidden.current_user_id() references app_public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  check (enabled = (disabled_at is null))
);
create index on app_public.chat_integrations (organization_id, created_at desc);
create index on app_public.chat_integrations (created_by_id);
create trigger _100_timestamps before insert or update on app_public.chat_integrations
  for each row execute function app_private.tg__timestamps();
create trigger _200_validate before insert or update on app_public.chat_integrations
  for each row execute function app_private.tg__webhook_targets__validate();
create trigger _500_audit after insert or update or delete on app_public.chat_integrations
  for each row execute function app_private.tg__audit('id', 'consecutive_failures');
create trigger _500_notify_disabled after update of disabled_at on app_public.chat_integrations
  for each row when (old.disabled_at is null and new.disabled_reason = 'failing')
  execute function app_private.tg__webhook_targets__notify_disabled();

select app_private.create_tenant_policies('app_public.chat_integrations', null, null, null);
drop policy select_member on app_public.chat_integrations;
create policy select_admin on app_public.chat_integrations for select to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
create policy update_admin on app_public.chat_integrations for update to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
create policy delete_admin on app_public.chat_integrations for delete to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
grant select on app_public.chat_integrations to :DATABASE_VISITOR;
grant update (name, event_types, enabled, include_internal), delete on app_public.chat_integrations to :DATABASE_VISITOR;

comment on table app_public.chat_integrations is
  E'@behavior -insert\nA Slack, Discord or Microsoft Teams incoming webhook that receives a readable message per event. Created with createChatIntegration; its URL is a secret and shown masked.';
comment on column app_public.chat_integrations.name is 'A label, e.g. the channel.';
comment on column app_public.chat_integrations.url_hint is 'The incoming-webhook URL, masked.';
comment on column app_public.chat_integrations.event_types is
  'The event types posted (see eventTypes); empty means every type, including types added later.';
comment on column app_public.chat_integrations.enabled is
  'Whether messages are posted. Turned off automatically when deliveries keep failing.';
comment on column app_public.chat_integrations.include_internal is
  'Also post events about what the status page does not show (internal incidents and notes, hidden services).';
comment on column app_public.chat_integrations.consecutive_failures is 'Failed attempts since the last successful delivery.';
comment on column app_public.chat_integrations.disabled_at is 'When the integration was turned off.';
comment on column app_public.chat_integrations.disabled_reason is
  'manual (a member turned it off) or failing (every attempt of a delivery failed for about a day).';
comment on column app_public.chat_integrations.created_by_id is 'The member who added the integration.';

create table app_private.chat_integration_urls (
  organization_id uuid not null,
  chat_integration_id uuid not null,
  -- The incoming-webhook URL is itself the credential: sealed like a secret.
  sealed_url bytea not null,
  primary key (organization_id, chat_integration_id),
  foreign key (organization_id, chat_integration_id)
    references app_public.chat_integrations (organization_id, id) on delete cascade
);
alter table app_private.chat_integration_urls enable row level security;
alter table app_private.chat_integration_urls force row level security;
create policy tenant_fence on app_private.chat_integration_urls as restrictive for all to public
  using (organization_id = (select app_hidden.current_org_id()))
  with check (organization_id = (select app_hidden.current_org_id()));
create policy owner_all on app_private.chat_integration_urls to :DATABASE_OWNER using (true) with check (true);

------------------------------------------------------------------------------------------
-- The delivery log: one row per attempt
------------------------------------------------------------------------------------------

create type app_public.webhook_delivery_status as enum ('pending', 'succeeded', 'failed', 'canceled');
comment on type app_public.webhook_delivery_status is
  'pending: waiting for its turn; succeeded: a 2xx answer; failed: refused, unreachable, timed out or not 2xx; canceled: the target was turned off first.';

create table app_public.webhook_deliveries (
  organization_id uuid not null references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  webhook_endpoint_id uuid,
  chat_integration_id uuid,
  event_id uuid,
  event_type text not null check (event_type = 'test' or event_type = any (app_public.event_types())),
  origin text not null check (origin in ('event', 'test', 'redelivery')),
  message_id text not null,
  attempt integer not null default 1 check (attempt between 1 and 100),
  status app_public.webhook_delivery_status not null default 'pending',
  scheduled_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  response_status integer,
  duration_ms integer,
  response_body text check (length(response_body) <= 4096),
  error text check (length(error) <= 1000),
  next_attempt_at timestamptz,
  requested_by_id uuid references app_public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (organization_id, id),
  check (num_nonnulls(webhook_endpoint_id, chat_integration_id) = 1),
  check ((event_id is null) = (event_type = 'test')),
  foreign key (organization_id, webhook_endpoint_id)
    references app_public.webhook_endpoints (organization_id, id) on delete cascade,
  foreign key (organization_id, chat_integration_id)
    references app_public.chat_integrations (organization_id, id) on delete cascade,
  foreign key (organization_id, event_id) references app_public.events (organization_id, id) on delete cascade
);
create index on app_public.webhook_deliveries (organization_id, webhook_endpoint_id, created_at desc);
create index on app_public.webhook_deliveries (organization_id, chat_integration_id, created_at desc);
create index on app_public.webhook_deliveries (organization_id, event_id);
create index on app_public.webhook_deliveries (organization_id, message_id);
create index on app_public.webhook_deliveries (requested_by_id);
select app_private.create_tenant_policies('app_public.webhook_deliveries', null, null, null);
drop policy select_member on app_public.webhook_deliveries;
create policy select_admin on app_public.webhook_deliveries for select to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
grant select on app_public.webhook_deliveries to :DATABASE_VISITOR;
-- The log is written by the worker; what people do to it (test sends, redeliveries) is audited.
create trigger _500_audit after insert on app_public.webhook_deliveries
  for each row when (new.origin <> 'event')
  execute function app_private.tg__audit('id');

comment on table app_public.webhook_deliveries is
  E'@behavior -insert -update -delete\nThe delivery log of webhook endpoints and chat integrations: one row per attempt to deliver one message. Owners and admins read it.';
comment on column app_public.webhook_deliveries.webhook_endpoint_id is 'The endpoint, for a webhook delivery.';
comment on column app_public.webhook_deliveries.chat_integration_id is 'The chat integration, for a chat message.';
comment on column app_public.webhook_deliveries.event_id is 'The event delivered; null for a test message.';
comment on column app_public.webhook_deliveries.event_type is 'The event''s type, or test.';
comment on column app_public.webhook_deliveries.origin is 'event (sent automatically), test (sendTest…) or redelivery (redeliverWebhook).';
comment on column app_public.webhook_deliveries.message_id is
  'The webhook-id header: the same for every attempt and redelivery of one message, so receivers can drop duplicates.';
comment on column app_public.webhook_deliveries.attempt is 'Which attempt at this message this row is (1 for the first, and for a redelivery).';
comment on column app_public.webhook_deliveries.scheduled_at is 'When the attempt is (or was) due.';
comment on column app_public.webhook_deliveries.started_at is 'When the request started.';
comment on column app_public.webhook_deliveries.finished_at is 'When the answer (or the failure) came.';
comment on column app_public.webhook_deliveries.response_status is 'The HTTP status the receiver answered, if it answered.';
comment on column app_public.webhook_deliveries.duration_ms is 'How long the request took.';
comment on column app_public.webhook_deliveries.response_body is 'The start of the receiver''s answer (at most 4 KB).';
comment on column app_public.webhook_deliveries.error is 'Why the attempt failed: refused destination, timeout, redirect, connection error or HTTP status.';
comment on column app_public.webhook_deliveries.next_attempt_at is 'For a failed attempt: when the next one is due, or null when there is none.';
comment on column app_public.webhook_deliveries.requested_by_id is 'The member who sent the test or asked for the redelivery.';

------------------------------------------------------------------------------------------
-- Queueing and recording deliveries (the worker and the functions below)
------------------------------------------------------------------------------------------

/* One place that creates an attempt row and its job; the job key is the row. */
create function app_private.queue_webhook_delivery(
  organization_id uuid,
  webhook_endpoint_id uuid,
  chat_integration_id uuid,
  event_id uuid,
  event_type text,
  origin text,
  message_id text,
  attempt integer,
  run_at timestamptz
) returns app_public.webhook_deliveries
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_delivery app_public.webhook_deliveries;
begin
  insert into app_public.webhook_deliveries (
    organization_id, webhook_endpoint_id, chat_integration_id, event_id, event_type, origin, message_id, attempt,
    scheduled_at, requested_by_id
  )
  values (
    queue_webhook_delivery.organization_id, queue_webhook_delivery.webhook_endpoint_id,
    queue_webhook_delivery.chat_integration_id, queue_webhook_delivery.event_id, queue_webhook_delivery.event_type,
    queue_webhook_delivery.origin,
    coalesce(queue_webhook_delivery.message_id, 'msg_' || replace(gen_random_uuid()::text, '-', '')),
    queue_webhook_delivery.attempt, queue_webhook_delivery.run_at,
    -- Automatic deliveries are nobody's request, even when a member's change caused the event.
    case when queue_webhook_delivery.origin <> 'event' then app_hidden.current_user_id() end
  )
  returning * into v_delivery;
  perform graphile_worker.add_job(
    'webhook_deliveries__send',
    json_build_object('organizationId', v_delivery.organization_id, 'deliveryId', v_delivery.id),
    run_at := v_delivery.scheduled_at,
    job_key := 'webhook_delivery:' || v_delivery.id,
    -- The task retries failed deliveries itself, as new rows; these are for crashes only.
    max_attempts := 5
  );
  return v_delivery;
end;
$$;

/*
 * Records how an attempt went, in the worker's transaction. A failure queues the next attempt
 * when the worker names a time for it; a failed automatic delivery with no attempt left turns
 * its target off (which emails the owners once). Tests and redeliveries are single attempts
 * that neither retry nor count towards turning a target off.
 */
create function app_private.record_webhook_attempt(
  delivery_id uuid,
  succeeded boolean,
  started_at timestamptz,
  response_status integer,
  duration_ms integer,
  response_body text,
  error text,
  retry_at timestamptz
) returns app_public.webhook_deliveries
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_delivery app_public.webhook_deliveries;
  v_retry_at timestamptz := case when not succeeded then record_webhook_attempt.retry_at end;
begin
  update app_public.webhook_deliveries d
  set status = case when record_webhook_attempt.succeeded then 'succeeded' else 'failed' end::app_public.webhook_delivery_status,
      started_at = record_webhook_attempt.started_at,
      finished_at = now(),
      response_status = record_webhook_attempt.response_status,
      duration_ms = record_webhook_attempt.duration_ms,
      response_body = left(record_webhook_attempt.response_body, 4096),
      error = left(record_webhook_attempt.error, 1000),
      next_attempt_at = case when d.origin = 'event' then v_retry_at end
  where d.organization_id = app_hidden.current_org_id() and d.id = record_webhook_attempt.delivery_id
    and d.status = 'pending'
  returning * into v_delivery;
  if v_delivery.id is null or v_delivery.origin <> 'event' then
    return v_delivery;
  end if;

  update app_public.webhook_endpoints e
  set consecutive_failures = case when record_webhook_attempt.succeeded then 0 else e.consecutive_failures + 1 end
  where e.organization_id = v_delivery.organization_id and e.id = v_delivery.webhook_endpoint_id;
  update app_public.chat_integrations c
  set consecutive_failures = case when record_webhook_attempt.succeeded then 0 else c.consecutive_failures + 1 end
  where c.organization_id = v_delivery.organization_id and c.id = v_delivery.chat_integration_id;

  if succeeded then
    return v_delivery;
  end if;
  if v_retry_at is not null then
    perform app_private.queue_webhook_delivery(
      v_delivery.organization_id, v_delivery.webhook_endpoint_id, v_delivery.chat_integration_id, v_delivery.event_id,
      v_delivery.event_type, v_delivery.origin, v_delivery.message_id, v_delivery.attempt + 1, v_retry_at
    );
  else
    update app_public.webhook_endpoints e
    set enabled = false, disabled_at = now(), disabled_reason = 'failing'
    where e.organization_id = v_delivery.organization_id and e.id = v_delivery.webhook_endpoint_id and e.enabled;
    update app_public.chat_integrations c
    set enabled = false, disabled_at = now(), disabled_reason = 'failing'
    where c.organization_id = v_delivery.organization_id and c.id = v_delivery.chat_integration_id and c.enabled;
  end if;
  return v_delivery;
end;
$$;

/*
 * Every enabled endpoint and integration subscribed to the event's type hears of it; events
 * about what the status page does not show only reach those that include internal events.
 * Runs at commit, inside the deferred trigger that recorded the event.
 */
create function app_private.tg_events__queue_webhook_deliveries() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous_org text := app_private.enter_organization(new.organization_id);
begin
  perform app_private.queue_webhook_delivery(new.organization_id, e.id, null, new.id, new.type, 'event', null, 1, now())
  from app_public.webhook_endpoints e
  where e.organization_id = new.organization_id and e.enabled
    and (e.event_types = '{}' or new.type = any (e.event_types))
    and (new.is_public or e.include_internal);
  perform app_private.queue_webhook_delivery(new.organization_id, null, c.id, new.id, new.type, 'event', null, 1, now())
  from app_public.chat_integrations c
  where c.organization_id = new.organization_id and c.enabled
    and (c.event_types = '{}' or new.type = any (c.event_types))
    and (new.is_public or c.include_internal);
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create trigger _500_queue_webhook_deliveries after insert on app_public.events
  for each row execute function app_private.tg_events__queue_webhook_deliveries();

------------------------------------------------------------------------------------------
-- What owners and admins call (the server seals secrets; the database checks the caller)
------------------------------------------------------------------------------------------

/* Needs a person (not an API key) with the admin role or above. */
create function app_hidden.register_webhook_endpoint(
  url text,
  description text,
  event_types text[],
  include_internal boolean,
  sealed_secret bytea,
  secret_hint text
) returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_endpoint app_public.webhook_endpoints;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('admin', 'manage webhooks');
  insert into app_public.webhook_endpoints (url, description, event_types, include_internal, secret_hint)
  values (btrim(register_webhook_endpoint.url), coalesce(register_webhook_endpoint.description, ''),
          coalesce(register_webhook_endpoint.event_types, '{}'), coalesce(register_webhook_endpoint.include_internal, false),
          register_webhook_endpoint.secret_hint)
  returning * into v_endpoint;
  insert into app_private.webhook_endpoint_secrets (organization_id, webhook_endpoint_id, sealed_secret)
  values (v_endpoint.organization_id, v_endpoint.id, register_webhook_endpoint.sealed_secret);
  return v_endpoint.id;
end;
$$;

create function app_hidden.replace_webhook_endpoint_secret(
  webhook_endpoint_id uuid,
  sealed_secret bytea,
  secret_hint text
) returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_endpoint app_public.webhook_endpoints;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('admin', 'manage webhooks');
  update app_public.webhook_endpoints e set secret_hint = replace_webhook_endpoint_secret.secret_hint
  where e.organization_id = app_hidden.current_org_id() and e.id = replace_webhook_endpoint_secret.webhook_endpoint_id
  returning * into v_endpoint;
  if v_endpoint.id is null then
    perform app_hidden.raise_error('IPN03', 'No webhook endpoint with this id in the organization.');
  end if;
  update app_private.webhook_endpoint_secrets s set sealed_secret = replace_webhook_endpoint_secret.sealed_secret
  where s.organization_id = v_endpoint.organization_id and s.webhook_endpoint_id = v_endpoint.id;
  return v_endpoint.id;
end;
$$;

/* The clear URL is only checked here; what is stored is the sealed one and a hint. */
create function app_hidden.register_chat_integration(
  kind app_public.chat_kind,
  name text,
  url text,
  event_types text[],
  include_internal boolean,
  sealed_url bytea,
  url_hint text
) returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_integration app_public.chat_integrations;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('admin', 'manage chat integrations');
  perform app_hidden.assert_webhook_url(register_chat_integration.url);
  insert into app_public.chat_integrations (kind, name, event_types, include_internal, url_hint)
  values (register_chat_integration.kind, btrim(register_chat_integration.name),
          coalesce(register_chat_integration.event_types, '{}'), coalesce(register_chat_integration.include_internal, false),
          register_chat_integration.url_hint)
  returning * into v_integration;
  insert into app_private.chat_integration_urls (organization_id, chat_integration_id, sealed_url)
  values (v_integration.organization_id, v_integration.id, register_chat_integration.sealed_url);
  return v_integration.id;
end;
$$;

create function app_public.send_test_webhook(webhook_endpoint_id uuid) returns app_public.webhook_deliveries
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_endpoint app_public.webhook_endpoints;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('admin', 'manage webhooks');
  select * into v_endpoint from app_public.webhook_endpoints e
  where e.organization_id = app_hidden.current_org_id() and e.id = send_test_webhook.webhook_endpoint_id;
  if v_endpoint.id is null then
    perform app_hidden.raise_error('IPN03', 'No webhook endpoint with this id in the organization.');
  end if;
  if not v_endpoint.enabled then
    perform app_hidden.raise_error('IPC07', 'This webhook endpoint is turned off: enable it first.');
  end if;
  return app_private.queue_webhook_delivery(v_endpoint.organization_id, v_endpoint.id, null, null, 'test', 'test', null, 1, now());
end;
$$;
comment on function app_public.send_test_webhook(uuid) is
  E'@resultFieldName webhookDelivery\nSends a signed test event (type test) to the endpoint now; its delivery row shows the outcome (owners and admins).';

create function app_public.send_test_chat_message(chat_integration_id uuid) returns app_public.webhook_deliveries
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_integration app_public.chat_integrations;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('admin', 'manage chat integrations');
  select * into v_integration from app_public.chat_integrations c
  where c.organization_id = app_hidden.current_org_id() and c.id = send_test_chat_message.chat_integration_id;
  if v_integration.id is null then
    perform app_hidden.raise_error('IPN03', 'No chat integration with this id in the organization.');
  end if;
  if not v_integration.enabled then
    perform app_hidden.raise_error('IPC07', 'This chat integration is turned off: enable it first.');
  end if;
  return app_private.queue_webhook_delivery(v_integration.organization_id, null, v_integration.id, null, 'test', 'test', null, 1, now());
end;
$$;
comment on function app_public.send_test_chat_message(uuid) is
  E'@resultFieldName webhookDelivery\nPosts a test message to the chat integration now; its delivery row shows the outcome (owners and admins).';

create function app_public.redeliver_webhook(delivery_id uuid) returns app_public.webhook_deliveries
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_delivery app_public.webhook_deliveries;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('admin', 'manage webhooks');
  select * into v_delivery from app_public.webhook_deliveries d
  where d.organization_id = app_hidden.current_org_id() and d.id = redeliver_webhook.delivery_id;
  if v_delivery.id is null then
    perform app_hidden.raise_error('IPN03', 'No webhook delivery with this id in the organization.');
  end if;
  if not coalesce(
    (select e.enabled from app_public.webhook_endpoints e
     where e.organization_id = v_delivery.organization_id and e.id = v_delivery.webhook_endpoint_id),
    (select c.enabled from app_public.chat_integrations c
     where c.organization_id = v_delivery.organization_id and c.id = v_delivery.chat_integration_id)
  ) then
    perform app_hidden.raise_error('IPC07', 'The delivery''s endpoint is turned off: enable it first.');
  end if;
  -- The same message (same webhook-id), sent once more now.
  return app_private.queue_webhook_delivery(
    v_delivery.organization_id, v_delivery.webhook_endpoint_id, v_delivery.chat_integration_id, v_delivery.event_id,
    v_delivery.event_type, 'redelivery', v_delivery.message_id, 1, now()
  );
end;
$$;
comment on function app_public.redeliver_webhook(uuid) is
  E'@resultFieldName webhookDelivery\nSends a delivery''s message again, now, with the same webhook-id (owners and admins).';

grant execute on function app_hidden.assert_webhook_url(text) to :DATABASE_VISITOR;
grant execute on function app_hidden.assert_event_types(text[]) to :DATABASE_VISITOR;
grant execute on function app_hidden.register_webhook_endpoint(text, text, text[], boolean, bytea, text)
  to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.replace_webhook_endpoint_secret(uuid, bytea, text)
  to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.register_chat_integration(app_public.chat_kind, text, text, text[], boolean, bytea, text)
  to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.send_test_webhook(uuid) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.send_test_chat_message(uuid) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.redeliver_webhook(uuid) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;

--! split: 4-subscribers.sql
------------------------------------------------------------------------------------------
-- Status-page subscribers (DESIGN.md §11)
--
-- Anyone may subscribe on a public page with an email address and, optionally, the services
-- they care about (none chosen = every service). Double opt-in: a subscriber hears nothing
-- until they confirm through the link mailed to them. Every message carries a permanent
-- unsubscribe link. Tokens are stored as SHA-256 hashes only; the unsubscribe token, which
-- every message needs again, is also kept sealed with the server's SECRETS_ENCRYPTION_KEY.
--
-- Public entry points (anonymous, through the server's /status/<slug>/… routes): subscribe,
-- confirm_subscription, unsubscribe. Admins list and remove subscribers (generated API) and
-- import them (import_subscribers). Public events (app_public.events) queue the mailing.
------------------------------------------------------------------------------------------

drop table if exists app_private.subscriber_notifications, app_private.subscriber_confirmation_tokens,
  app_private.subscriber_unsubscribe_tokens, app_public.subscriber_services, app_public.subscribers cascade;
drop type if exists app_public.subscriber_status, app_public.subscriber_source, app_hidden.subscription_page cascade;
drop function if exists app_private.assert_subscriber_email cascade;
drop function if exists app_private.assert_subscribable_services cascade;
drop function if exists app_private.set_subscriber_services cascade;
drop function if exists app_private.queue_subscriber_confirmation cascade;
drop function if exists app_hidden.subscribe cascade;
drop function if exists app_hidden.confirm_subscription cascade;
drop function if exists app_hidden.unsubscribe cascade;
drop function if exists app_public.import_subscribers cascade;
drop function if exists app_private.subscriber_event_types cascade;
drop function if exists app_private.tg_events__notify_subscribers cascade;
drop function if exists app_private.event_visible_service_ids cascade;
drop function if exists app_private.subscriber_event_superseded cascade;
drop function if exists app_private.fan_out_subscriber_notifications cascade;

create type app_public.subscriber_status as enum ('pending', 'confirmed', 'unsubscribed');
comment on type app_public.subscriber_status is
  'pending: waiting for the address to confirm; confirmed: receives notifications; unsubscribed: asked to stop.';
create type app_public.subscriber_source as enum ('page', 'import');
comment on type app_public.subscriber_source is 'Where the subscriber came from: the public page or an admin''s import.';

------------------------------------------------------------------------------------------
-- Tables
------------------------------------------------------------------------------------------

create table app_public.subscribers (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  email citext not null check (length(email) <= 254 and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  status app_public.subscriber_status not null default 'pending',
  source app_public.subscriber_source not null,
  confirmed_at timestamptz,
  unsubscribed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  unique (organization_id, email),
  check (status <> 'confirmed' or confirmed_at is not null),
  check (status <> 'unsubscribed' or unsubscribed_at is not null)
);
create index on app_public.subscribers (organization_id, status);
create index on app_public.subscribers (organization_id, created_at desc);
create trigger _100_timestamps before insert or update on app_public.subscribers
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.subscribers', null, null, 'admin');
-- Email addresses are personal data: owners and admins (people or admin keys) only.
drop policy select_member on app_public.subscribers;
create policy select_admin on app_public.subscribers for select to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin');
grant select, delete on app_public.subscribers to :DATABASE_VISITOR;
create trigger _500_audit after insert or update or delete on app_public.subscribers
  for each row execute function app_private.tg__audit('id');
comment on table app_public.subscribers is
  E'@behavior -insert -update\nPeople who get this status page''s notifications by email (owners and admins). They sign up on the public page (double opt-in) or are imported with importSubscribers; deleting one removes them at once.';
comment on column app_public.subscribers.email is 'The address notifications go to, one message per subscriber.';
comment on column app_public.subscribers.status is 'Only confirmed subscribers are notified.';
comment on column app_public.subscribers.source is 'The public page or an import.';
comment on column app_public.subscribers.confirmed_at is 'When the address confirmed (or the import stated prior consent).';
comment on column app_public.subscribers.unsubscribed_at is 'When the subscriber asked to stop.';

create table app_public.subscriber_services (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  subscriber_id uuid not null,
  service_id uuid not null,
  primary key (organization_id, subscriber_id, service_id),
  foreign key (organization_id, subscriber_id) references app_public.subscribers (organization_id, id) on delete cascade,
  foreign key (organization_id, service_id) references app_public.services (organization_id, id) on delete cascade
);
create index on app_public.subscriber_services (organization_id, service_id);
select app_private.create_tenant_policies('app_public.subscriber_services', null, null, null);
drop policy select_member on app_public.subscriber_services;
create policy select_admin on app_public.subscriber_services for select to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin');
grant select on app_public.subscriber_services to :DATABASE_VISITOR;
create trigger _500_audit after insert or update or delete on app_public.subscriber_services
  for each row execute function app_private.tg__audit('subscriber_id');
comment on table app_public.subscriber_services is
  E'@behavior -insert -update -delete\nThe services a subscriber follows. None means every service.';

/*
 * Tokens are found by their hash alone, across organizations (the link carries nothing else),
 * so these tables are not fenced; the API roles cannot reach app_private at all.
 */
create table app_private.subscriber_confirmation_tokens (
  token_hash bytea primary key,
  organization_id uuid not null,
  subscriber_id uuid not null,
  expires_at timestamptz not null,
  foreign key (organization_id, subscriber_id) references app_public.subscribers (organization_id, id) on delete cascade
);
create index on app_private.subscriber_confirmation_tokens (organization_id, subscriber_id);
alter table app_private.subscriber_confirmation_tokens enable row level security;
alter table app_private.subscriber_confirmation_tokens force row level security;
create policy owner_all on app_private.subscriber_confirmation_tokens to :DATABASE_OWNER using (true) with check (true);

create table app_private.subscriber_unsubscribe_tokens (
  organization_id uuid not null,
  subscriber_id uuid not null,
  token_hash bytea not null unique,
  -- Every message carries the same permanent link, so the worker must be able to read it back.
  sealed_token bytea not null,
  primary key (organization_id, subscriber_id),
  foreign key (organization_id, subscriber_id) references app_public.subscribers (organization_id, id) on delete cascade
);
alter table app_private.subscriber_unsubscribe_tokens enable row level security;
alter table app_private.subscriber_unsubscribe_tokens force row level security;
create policy owner_all on app_private.subscriber_unsubscribe_tokens to :DATABASE_OWNER using (true) with check (true);

/* One row per (event, subscriber) to notify: a retried job never mails anyone twice. */
create table app_private.subscriber_notifications (
  organization_id uuid not null,
  event_id uuid not null,
  subscriber_id uuid not null,
  queued_at timestamptz not null default now(),
  sent_at timestamptz,
  primary key (organization_id, event_id, subscriber_id),
  foreign key (organization_id, event_id) references app_public.events (organization_id, id) on delete cascade,
  foreign key (organization_id, subscriber_id) references app_public.subscribers (organization_id, id) on delete cascade
);
create index on app_private.subscriber_notifications (organization_id, subscriber_id);
alter table app_private.subscriber_notifications enable row level security;
alter table app_private.subscriber_notifications force row level security;
create policy tenant_fence on app_private.subscriber_notifications as restrictive for all to public
  using (organization_id = (select app_hidden.current_org_id()))
  with check (organization_id = (select app_hidden.current_org_id()));
create policy owner_all on app_private.subscriber_notifications to :DATABASE_OWNER using (true) with check (true);

------------------------------------------------------------------------------------------
-- Shared rules
------------------------------------------------------------------------------------------

create function app_private.assert_subscriber_email(email text) returns void
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
begin
  if email is null or length(btrim(email)) > 254 or btrim(email) !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
    perform app_hidden.raise_error('IPV10', 'Enter a valid email address.');
  end if;
end;
$$;

/* Subscribers follow what the page shows: visible services of the active organization. */
create function app_private.assert_subscribable_services(service_ids uuid[]) returns void
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
begin
  if exists (
    select 1 from unnest(coalesce(service_ids, '{}')) wanted(id)
    where wanted.id is null or not exists (
      select 1 from app_public.services s
      where s.organization_id = app_hidden.current_org_id() and s.id = wanted.id and not s.hidden
    )
  ) then
    perform app_hidden.raise_error('IPV03', 'A chosen service does not exist on this status page.');
  end if;
end;
$$;

create function app_private.set_subscriber_services(organization_id uuid, subscriber_id uuid, service_ids uuid[])
returns void
language sql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
  delete from app_public.subscriber_services ss
  where ss.organization_id = set_subscriber_services.organization_id
    and ss.subscriber_id = set_subscriber_services.subscriber_id
    and ss.service_id <> all (coalesce(set_subscriber_services.service_ids, '{}'));
  insert into app_public.subscriber_services (organization_id, subscriber_id, service_id)
  select set_subscriber_services.organization_id, set_subscriber_services.subscriber_id, wanted.id
  from unnest(coalesce(set_subscriber_services.service_ids, '{}')) wanted(id)
  on conflict do nothing;
$$;

/*
 * The worker mints the token and mails it; one job per subscriber at a time. PL/pgSQL: the
 * worker's schema is installed when the worker starts, after migrations.
 */
create function app_private.queue_subscriber_confirmation(organization_id uuid, subscriber_id uuid) returns void
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform graphile_worker.add_job(
    'subscribers__send_confirmation',
    json_build_object('organizationId', organization_id, 'subscriberId', subscriber_id),
    job_key := 'subscribers:confirm:' || subscriber_id,
    max_attempts := 5
  );
end;
$$;

------------------------------------------------------------------------------------------
-- The public flow (anonymous, through the server)
------------------------------------------------------------------------------------------

create type app_hidden.subscription_page as (organization_name text, organization_slug text);

/*
 * Signs an address up on a published, active page (the snapshot row says which pages are).
 * Whatever the address's state, the caller learns nothing: a new, pending or unsubscribed
 * address gets a confirmation email (and the services chosen now); a confirmed one is left
 * as it is.
 */
create function app_hidden.subscribe(organization_slug text, email text, service_ids uuid[] default '{}')
returns void
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_org uuid;
  v_previous_org text;
  v_subscriber app_public.subscribers;
begin
  select s.organization_id into v_org from app_public.status_snapshots s
  where s.slug = subscribe.organization_slug::citext and s.published and s.active;
  if v_org is null then
    perform app_hidden.raise_error('IPN01', 'No such status page.');
  end if;
  perform app_private.assert_subscriber_email(subscribe.email);
  v_previous_org := app_private.enter_organization(v_org);
  perform app_private.assert_subscribable_services(subscribe.service_ids);

  insert into app_public.subscribers (organization_id, email, source)
  values (v_org, btrim(subscribe.email), 'page')
  on conflict (organization_id, email) do nothing;
  select * into v_subscriber from app_public.subscribers s
  where s.organization_id = v_org and s.email = btrim(subscribe.email)::citext
  for update;
  if v_subscriber.status <> 'confirmed' then
    update app_public.subscribers s set status = 'pending', unsubscribed_at = null
    where s.organization_id = v_org and s.id = v_subscriber.id and s.status <> 'pending';
    perform app_private.set_subscriber_services(v_org, v_subscriber.id, subscribe.service_ids);
    perform app_private.queue_subscriber_confirmation(v_org, v_subscriber.id);
  end if;
  perform app_private.leave_organization(v_previous_org);
end;
$$;
comment on function app_hidden.subscribe(text, text, uuid[]) is
  'Public sign-up on a status page: queues a confirmation email (double opt-in). Answers the same for every address.';

/* Confirms the address the link was mailed to. Confirming twice is fine. */
create function app_hidden.confirm_subscription(token text) returns app_hidden.subscription_page
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_token app_private.subscriber_confirmation_tokens;
  v_previous_org text;
  v_page app_hidden.subscription_page;
begin
  select t.* into v_token from app_private.subscriber_confirmation_tokens t
  where t.token_hash = digest(coalesce(confirm_subscription.token, ''), 'sha256');
  if v_token.token_hash is null then
    perform app_hidden.raise_error('IPN04', 'This subscription link is not valid (any more).');
  end if;
  if v_token.expires_at <= now() then
    perform app_hidden.raise_error('IPC08', 'This confirmation link has expired. Subscribe again to get a new one.');
  end if;
  v_previous_org := app_private.enter_organization(v_token.organization_id);
  update app_public.subscribers s set status = 'confirmed', confirmed_at = now()
  where s.organization_id = v_token.organization_id and s.id = v_token.subscriber_id and s.status = 'pending';
  select o.name, o.slug into v_page from app_public.organizations o where o.id = v_token.organization_id;
  perform app_private.leave_organization(v_previous_org);
  return v_page;
end;
$$;
comment on function app_hidden.confirm_subscription(text) is 'Public: confirms a subscription with the mailed token.';

/*
 * The permanent link in every message. Unsubscribing twice is fine; it also voids pending
 * confirmation links, so an old one cannot sign the address up again.
 */
create function app_hidden.unsubscribe(token text) returns app_hidden.subscription_page
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_token app_private.subscriber_unsubscribe_tokens;
  v_previous_org text;
  v_page app_hidden.subscription_page;
begin
  select t.* into v_token from app_private.subscriber_unsubscribe_tokens t
  where t.token_hash = digest(coalesce(unsubscribe.token, ''), 'sha256');
  if v_token.token_hash is null then
    perform app_hidden.raise_error('IPN04', 'This subscription link is not valid (any more).');
  end if;
  v_previous_org := app_private.enter_organization(v_token.organization_id);
  update app_public.subscribers s set status = 'unsubscribed', unsubscribed_at = now()
  where s.organization_id = v_token.organization_id and s.id = v_token.subscriber_id and s.status <> 'unsubscribed';
  delete from app_private.subscriber_confirmation_tokens t
  where t.organization_id = v_token.organization_id and t.subscriber_id = v_token.subscriber_id;
  select o.name, o.slug into v_page from app_public.organizations o where o.id = v_token.organization_id;
  perform app_private.leave_organization(v_previous_org);
  return v_page;
end;
$$;
comment on function app_hidden.unsubscribe(text) is 'Public: stops all notifications to the subscriber the token belongs to.';

------------------------------------------------------------------------------------------
-- Import (owners and admins)
------------------------------------------------------------------------------------------

/*
 * Adds a list of addresses. New addresses (and pending ones) get a confirmation email, unless
 * the admin states they already consented (skip_confirmation), which confirms them at once.
 * Confirmed subscribers are left as they are, and an address that unsubscribed is never signed
 * up again by an import: only the person can, from the page. Returns the subscribers it added
 * or changed.
 */
create function app_public.import_subscribers(
  emails text[],
  service_ids uuid[] default '{}',
  skip_confirmation boolean default false
) returns setof app_public.subscribers
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_org uuid := app_hidden.current_org_id();
  v_invalid text[];
  v_email citext;
  v_subscriber app_public.subscribers;
  v_skip boolean := coalesce(import_subscribers.skip_confirmation, false);
begin
  perform app_hidden.assert_org_role('admin', 'import subscribers');
  if coalesce(cardinality(import_subscribers.emails), 0) > 1000 then
    perform app_hidden.raise_error('IPV11', 'Import at most 1000 addresses at a time.', json_build_object('limit', 1000)::text);
  end if;
  select array_agg(e) into v_invalid
  from unnest(coalesce(import_subscribers.emails, '{}')) e
  where e is null or length(btrim(e)) > 254 or btrim(e) !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$';
  if v_invalid is not null then
    perform app_hidden.raise_error('IPV10', 'Some addresses are not valid email addresses.',
                                   json_build_object('invalidEmails', v_invalid[1:20])::text);
  end if;
  perform app_private.assert_subscribable_services(import_subscribers.service_ids);

  for v_email in select distinct btrim(e)::citext from unnest(import_subscribers.emails) e loop
    insert into app_public.subscribers (email, status, source, confirmed_at)
    values (v_email, case when v_skip then 'confirmed' else 'pending' end::app_public.subscriber_status, 'import',
            case when v_skip then now() end)
    on conflict (organization_id, email) do nothing
    returning * into v_subscriber;
    if v_subscriber.id is null then
      update app_public.subscribers s
      set status = case when v_skip then 'confirmed' else 'pending' end::app_public.subscriber_status,
          confirmed_at = case when v_skip then now() end
      where s.organization_id = v_org and s.email = v_email and s.status = 'pending'
      returning * into v_subscriber;
    end if;
    if v_subscriber.id is not null then
      perform app_private.set_subscriber_services(v_org, v_subscriber.id, import_subscribers.service_ids);
      if v_subscriber.status = 'pending' then
        perform app_private.queue_subscriber_confirmation(v_org, v_subscriber.id);
      end if;
      return next v_subscriber;
    end if;
  end loop;
end;
$$;
comment on function app_public.import_subscribers(text[], uuid[], boolean) is
  E'@resultFieldName subscribers\nImports up to 1000 addresses (owners and admins), following the given services (none = all). Each new address gets a confirmation email unless skipConfirmation states that the people already agreed to hear from you (as Statuspage''s "skip confirmation"). Confirmed and unsubscribed addresses are left as they are. Returns the subscribers added or changed.';

------------------------------------------------------------------------------------------
-- Notifications: public events → one job per event → one job per recipient
------------------------------------------------------------------------------------------

create function app_private.subscriber_event_types() returns text[]
language sql
immutable
set search_path = pg_catalog, public, pg_temp
as $$
  select array['incident.created', 'incident_update.posted', 'incident.resolved',
               'maintenance.scheduled', 'maintenance.started', 'maintenance.completed'];
$$;

create function app_private.tg_events__notify_subscribers() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_previous_org text := app_private.enter_organization(new.organization_id);
begin
  if exists (
    select 1 from app_public.subscribers s where s.organization_id = new.organization_id and s.status = 'confirmed'
  ) then
    perform graphile_worker.add_job(
      'subscribers__notify',
      json_build_object('organizationId', new.organization_id, 'eventId', new.id),
      max_attempts := 10
    );
  end if;
  perform app_private.leave_organization(v_previous_org);
  return null;
end;
$$;
create trigger _500_notify_subscribers after insert on app_public.events
  for each row when (new.is_public and new.type = any (app_private.subscriber_event_types()))
  execute function app_private.tg_events__notify_subscribers();

/* The visible services an event is about (hidden services are not on the page). */
create function app_private.event_visible_service_ids(payload jsonb) returns uuid[]
language sql
immutable
set search_path = pg_catalog, public, pg_temp
as $$
  select coalesce(array_agg(distinct (s ->> 'id')::uuid), '{}')
  from jsonb_array_elements(
    coalesce(payload -> 'incident' -> 'services', '[]')
    || coalesce(payload -> 'incident_update' -> 'affected_services', '[]')
    || coalesce(payload -> 'maintenance' -> 'services', '[]')
  ) s
  where not coalesce((s ->> 'hidden')::boolean, false);
$$;

/*
 * One email per incident per transaction: when a public update was posted in the same
 * transaction that created or resolved the incident (an incident opened with its first
 * update, or resolved by an update), the update's email tells it, with the update's text.
 */
create function app_private.subscriber_event_superseded(event app_public.events) returns boolean
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select event.type in ('incident.created', 'incident.resolved') and exists (
    select 1 from app_public.events e
    where e.organization_id = event.organization_id and e.transaction_id = event.transaction_id
      and e.type = 'incident_update.posted' and e.is_public
      and e.payload -> 'incident_update' ->> 'incident_id' = event.subject_id::text
  );
$$;

/*
 * Records who gets an event and queues one job per recipient still to mail. Recipients:
 * confirmed subscribers following every service, or one of the event's visible services; an
 * event about no visible service (e.g. maintenance or an incident without services) goes to
 * every confirmed subscriber. Safe to run again: recorded recipients are kept, and those
 * already mailed are not queued again. Runs in the worker, fenced to the organization.
 */
create function app_private.fan_out_subscriber_notifications(organization_id uuid, event_id uuid) returns integer
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_event app_public.events;
  v_services uuid[];
  v_queued integer;
begin
  select * into v_event from app_public.events e
  where e.organization_id = fan_out_subscriber_notifications.organization_id
    and e.id = fan_out_subscriber_notifications.event_id;
  if v_event.id is null or not v_event.is_public or v_event.type <> all (app_private.subscriber_event_types())
     or app_private.subscriber_event_superseded(v_event) then
    return 0;
  end if;
  v_services := app_private.event_visible_service_ids(v_event.payload);

  insert into app_private.subscriber_notifications (organization_id, event_id, subscriber_id)
  select s.organization_id, v_event.id, s.id
  from app_public.subscribers s
  where s.organization_id = v_event.organization_id and s.status = 'confirmed'
    and (
      cardinality(v_services) = 0
      or not exists (
        select 1 from app_public.subscriber_services ss
        where ss.organization_id = s.organization_id and ss.subscriber_id = s.id
      )
      or exists (
        select 1 from app_public.subscriber_services ss
        where ss.organization_id = s.organization_id and ss.subscriber_id = s.id and ss.service_id = any (v_services)
      )
    )
  on conflict do nothing;

  select count(*) into v_queued from graphile_worker.add_jobs(array(
    select row(
      'subscribers__send_notification',
      json_build_object('organizationId', n.organization_id, 'eventId', n.event_id, 'subscriberId', n.subscriber_id),
      null, null, 10, 'subscribers:send:' || n.event_id || ':' || n.subscriber_id, null, null
    )::graphile_worker.job_spec
    from app_private.subscriber_notifications n
    where n.organization_id = v_event.organization_id and n.event_id = v_event.id and n.sent_at is null
  ));
  return v_queued;
end;
$$;

------------------------------------------------------------------------------------------
-- Grants
------------------------------------------------------------------------------------------

grant execute on function app_hidden.subscribe(text, text, uuid[]) to :DATABASE_ANONYMOUS;
grant execute on function app_hidden.confirm_subscription(text) to :DATABASE_ANONYMOUS;
grant execute on function app_hidden.unsubscribe(text) to :DATABASE_ANONYMOUS;
grant execute on function app_public.import_subscribers(text[], uuid[], boolean) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;

--! split: 5-operations.sql
------------------------------------------------------------------------------------------
-- Running in production: worker heartbeats (readiness) and owners deleting their organization
------------------------------------------------------------------------------------------

drop table if exists app_private.worker_heartbeats cascade;
drop function if exists app_public.request_organization_deletion cascade;
drop function if exists app_public.cancel_organization_deletion cascade;
drop function if exists app_private.delete_organization_if_due cascade;
alter table app_public.organizations drop column if exists deletion_scheduled_at;
alter table app_private.instance_settings drop column if exists organization_deletion_grace_days;

/* Each worker process beats here every few seconds; web processes are ready only while one does. */
create table app_private.worker_heartbeats (
  worker_id text primary key,
  hostname text not null,
  pid integer not null,
  started_at timestamptz not null default now(),
  beat_at timestamptz not null default now()
);
alter table app_private.worker_heartbeats enable row level security;
alter table app_private.worker_heartbeats force row level security;
create policy owner_all on app_private.worker_heartbeats to :DATABASE_OWNER using (true) with check (true);
comment on table app_private.worker_heartbeats is
  'One row per worker process, refreshed while it runs; /readyz checks that one beat recently.';

alter table app_private.instance_settings
  add column organization_deletion_grace_days integer not null default 7
    check (organization_deletion_grace_days between 0 and 90);
comment on column app_private.instance_settings.organization_deletion_grace_days is
  'ORGANIZATION_DELETION_GRACE_DAYS: how long a requested deletion can still be canceled.';

alter table app_public.organizations add column deletion_scheduled_at timestamptz;
comment on column app_public.organizations.deletion_scheduled_at is
  E'@behavior -insert -update\nWhen the organization and all its data will be deleted, if an owner asked for it (cancelOrganizationDeletion stops it).';

/*
 * An owner (a person, never an API key) asks for the active organization to be deleted,
 * typing its slug to confirm. Nothing is lost at once: the worker deletes everything after
 * the grace period, unless an owner cancels first.
 */
create function app_public.request_organization_deletion(confirm_slug text) returns app_public.organizations
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_org app_public.organizations;
  v_grace integer;
  v_previous_org text;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('owner', 'delete the organization');
  v_previous_org := app_private.enter_organization(app_hidden.current_org_id());
  select * into v_org from app_public.organizations o where o.id = app_hidden.current_org_id() for update;
  if confirm_slug is distinct from v_org.slug::text then
    perform app_hidden.raise_error('IPV13', 'Type the organization''s slug to confirm its deletion.',
                                   json_build_object('field', 'confirmSlug')::text);
  end if;
  select s.organization_deletion_grace_days into v_grace from app_private.instance_settings s;
  update app_public.organizations o
  set deletion_scheduled_at = coalesce(o.deletion_scheduled_at, now() + make_interval(days => v_grace))
  where o.id = v_org.id
  returning * into v_org;
  perform graphile_worker.add_job('organizations__delete', json_build_object('organizationId', v_org.id),
    run_at := v_org.deletion_scheduled_at, job_key := 'organization-deletion:' || v_org.id, max_attempts := 10);
  perform app_private.leave_organization(v_previous_org);
  return v_org;
end;
$$;
grant execute on function app_public.request_organization_deletion(text) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
comment on function app_public.request_organization_deletion(text) is
  E'@resultFieldName organization\nSchedules the active organization and all its data for deletion after the grace period (owners; type its slug to confirm).';

create function app_public.cancel_organization_deletion() returns app_public.organizations
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_org app_public.organizations;
  v_previous_org text;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('owner', 'cancel the deletion');
  v_previous_org := app_private.enter_organization(app_hidden.current_org_id());
  update app_public.organizations o set deletion_scheduled_at = null
  where o.id = app_hidden.current_org_id()
  returning * into v_org;
  perform graphile_worker.remove_job('organization-deletion:' || v_org.id);
  perform app_private.leave_organization(v_previous_org);
  return v_org;
end;
$$;
grant execute on function app_public.cancel_organization_deletion() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
comment on function app_public.cancel_organization_deletion() is
  E'@resultFieldName organization\nKeeps the active organization: cancels a scheduled deletion (owners).';

/*
 * The worker's half: deletes the organization if its deletion is still requested and due.
 * Every tenant row goes with it through the foreign keys' ON DELETE CASCADE (the tenant data
 * test checks, table by table from the catalog, that no row is left).
 */
create function app_private.delete_organization_if_due(organization_id uuid) returns boolean
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_deleted integer;
begin
  delete from app_public.organizations o
  where o.id = delete_organization_if_due.organization_id
    and o.deletion_scheduled_at is not null and o.deletion_scheduled_at <= now();
  get diagnostics v_deleted = row_count;
  return v_deleted = 1;
end;
$$;

------------------------------------------------------------------------------------------
-- The plans and their limits, for anyone (the landing page shows what the database enforces)
------------------------------------------------------------------------------------------

drop function if exists app_public.plans cascade;
drop type if exists app_public.plan_limits cascade;
create type app_public.plan_limits as (
  plan app_public.plan,
  services_limit integer,
  members_limit integer,
  incidents_per_month_limit integer
);
comment on type app_public.plan_limits is 'A plan and its limits; a null limit means unlimited.';

create function app_public.plans() returns setof app_public.plan_limits
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select p, app_hidden.plan_limit(p, 'services'), app_hidden.plan_limit(p, 'members'),
         app_hidden.plan_limit(p, 'incidents_per_month')
  from unnest(enum_range(null::app_public.plan)) as p;
$$;
grant execute on function app_public.plans() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
comment on function app_public.plans() is 'Every plan with the limits the database enforces (null: unlimited).';
