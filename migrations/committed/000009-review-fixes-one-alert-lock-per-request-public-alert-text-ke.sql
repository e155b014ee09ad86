--! Previous: sha1:869bc30d838a2fe5a846004d65c59c15f092d108
--! Hash: sha1:1aaee0d0f375d0e471fb6a409d64179c8b712a57
--! Message: review fixes: one alert lock per request, public alert text kept internal, plan limits on integrations and subscribers, hand sends limited, imports by people, deletion only by request, integration history purged, subscriber addresses for people only

------------------------------------------------------------------------------------------
-- Review fixes for integrations
------------------------------------------------------------------------------------------

/*
 * receive_alerts, as committed in 000008 with two changes: one advisory lock per request
 * instead of one per alert, and a public source's raw alert text kept in internal updates.
 */
create or replace function app_hidden.receive_alerts(alert_source_id uuid, alerts jsonb) returns jsonb
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

  -- One delivery at a time per source: concurrent deliveries of the same alerts (HA pairs,
  -- retries) must not open two incidents. One lock per request, not one per alert: a request
  -- holding hundreds of locks until commit would eat into the server-wide lock table.
  perform pg_advisory_xact_lock(hashtextextended('alert-source/' || v_source.id::text, 0));

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
      -- The alert's own text (hosts, queries, links into monitoring) stays internal; a public
      -- source tells the status page only that the problem is being looked at.
      perform app_public.post_incident_update(
        v_incident.id, 'investigating',
        case when v_source.visibility = 'public'
          then 'We are investigating this issue.'
          else format('Opened by alert source "%s": %s', v_source.name, coalesce(v_message, v_title)) end,
        v_source.visibility = 'public', v_occurred_at, v_claims);
      if v_source.visibility = 'public' then
        perform app_public.post_incident_update(
          v_incident.id, 'investigating',
          format('Opened by alert source "%s": %s', v_source.name, coalesce(v_message, v_title)), false);
      end if;
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
      if v_source.visibility = 'public' then
        perform app_public.post_incident_update(
          v_incident.id, v_incident.status, format('Alert resolved: %s', coalesce(v_message, v_title)), false);
      end if;
      perform app_public.post_incident_update(
        v_incident.id, 'resolved',
        case when v_source.visibility = 'public'
          then 'This issue has been resolved.'
          else format('Alert resolved: %s', coalesce(v_message, v_title)) end,
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
-- Subscribers: imports need a person; confirmations at most every ten minutes per address
------------------------------------------------------------------------------------------

alter table app_private.subscriber_confirmation_tokens drop column if exists issued_at;
alter table app_private.subscriber_confirmation_tokens add column issued_at timestamptz not null default now();

create or replace function app_private.queue_subscriber_confirmation(organization_id uuid, subscriber_id uuid) returns void
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  -- One confirmation email per address per ten minutes, however often it is signed up or
  -- imported: sign-ups and imports must not become a way to flood someone's inbox.
  if exists (
    select 1 from app_private.subscriber_confirmation_tokens t
    where t.organization_id = queue_subscriber_confirmation.organization_id
      and t.subscriber_id = queue_subscriber_confirmation.subscriber_id
      and t.issued_at > now() - interval '10 minutes'
  ) then
    return;
  end if;
  perform graphile_worker.add_job(
    'subscribers__send_confirmation',
    json_build_object('organizationId', organization_id, 'subscriberId', subscriber_id),
    job_key := 'subscribers:confirm:' || subscriber_id,
    max_attempts := 5
  );
end;
$$;

create or replace function app_public.import_subscribers(
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
  -- A person, never an API key: imported addresses receive mail from this platform.
  perform app_hidden.assert_signed_in();
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

------------------------------------------------------------------------------------------
-- Plan limits on integrations and subscribers: every one costs the shared worker and mail
------------------------------------------------------------------------------------------

create or replace function app_hidden.plan_limit(plan app_public.plan, resource text) returns integer
language sql
immutable
set search_path = pg_catalog, public, pg_temp
as $$
  select case resource
    when 'services' then case plan when 'free' then 2 when 'pro' then 20 end
    when 'members' then case plan when 'free' then 3 when 'pro' then 25 end
    when 'incidents_per_month' then case plan when 'free' then 50 when 'pro' then 1000 end
    when 'integrations' then case plan when 'free' then 3 when 'pro' then 50 end
    when 'subscribers' then case plan when 'free' then 500 when 'pro' then 25000 end
  end;
$$;
comment on function app_hidden.plan_limit(app_public.plan, text) is
  'free: 2 services, 3 members (pending invitations included), 50 incidents per UTC calendar month, 3 integrations (webhook endpoints, chat integrations and alert sources together), 500 subscribers; pro: 20, 25, 1000, 50, 25000; enterprise: unlimited.';

create or replace function app_private.usage_of(organization_id uuid, resource text) returns integer
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select case resource
    when 'services' then (
      select count(*) from app_public.services s where s.organization_id = usage_of.organization_id)
    when 'members' then (
      select count(*) from app_public.organization_memberships m where m.organization_id = usage_of.organization_id)
      + (
      select count(*) from app_public.organization_invitations i
      where i.organization_id = usage_of.organization_id
        and i.accepted_at is null and i.revoked_at is null and i.expires_at > now())
    when 'incidents_per_month' then (
      select count(*) from app_public.incidents i
      where i.organization_id = usage_of.organization_id
        and i.created_at >= date_trunc('month', now() at time zone 'UTC') at time zone 'UTC')
    when 'integrations' then (
      select count(*) from app_public.webhook_endpoints w where w.organization_id = usage_of.organization_id)
      + (select count(*) from app_public.chat_integrations c where c.organization_id = usage_of.organization_id)
      + (select count(*) from app_public.alert_sources a where a.organization_id = usage_of.organization_id)
    when 'subscribers' then (
      select count(*) from app_public.subscribers s
      where s.organization_id = usage_of.organization_id and s.status <> 'unsubscribed')
  end::integer;
$$;

drop trigger if exists _150_plan_limit on app_public.webhook_endpoints;
drop trigger if exists _150_plan_limit on app_public.chat_integrations;
drop trigger if exists _150_plan_limit on app_public.alert_sources;
drop trigger if exists _150_plan_limit on app_public.subscribers;
create trigger _150_plan_limit before insert on app_public.webhook_endpoints
  for each row execute function app_private.tg__enforce_plan_limit('integrations');
create trigger _150_plan_limit before insert on app_public.chat_integrations
  for each row execute function app_private.tg__enforce_plan_limit('integrations');
create trigger _150_plan_limit before insert on app_public.alert_sources
  for each row execute function app_private.tg__enforce_plan_limit('integrations');
create trigger _150_plan_limit before insert on app_public.subscribers
  for each row execute function app_private.tg__enforce_plan_limit('subscribers');

drop function if exists app_public.plans cascade;
drop type if exists app_public.plan_limits cascade;
create type app_public.plan_limits as (
  plan app_public.plan,
  services_limit integer,
  members_limit integer,
  incidents_per_month_limit integer,
  integrations_limit integer,
  subscribers_limit integer
);
comment on type app_public.plan_limits is 'A plan and its limits; a null limit means unlimited.';
create function app_public.plans() returns setof app_public.plan_limits
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select p, app_hidden.plan_limit(p, 'services'), app_hidden.plan_limit(p, 'members'),
         app_hidden.plan_limit(p, 'incidents_per_month'), app_hidden.plan_limit(p, 'integrations'),
         app_hidden.plan_limit(p, 'subscribers')
  from unnest(enum_range(null::app_public.plan)) as p;
$$;
grant execute on function app_public.plans() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
comment on function app_public.plans() is 'Every plan with the limits the database enforces (null: unlimited).';

------------------------------------------------------------------------------------------
-- Organizations are deleted only through requestOrganizationDeletion: confirmed, with a
-- grace period, by the worker. No immediate delete through the API.
------------------------------------------------------------------------------------------

revoke delete on app_public.organizations from :DATABASE_VISITOR;

------------------------------------------------------------------------------------------
-- Retention: integration history does not grow without end
------------------------------------------------------------------------------------------

/*
 * Forgets one organization's integration history past its use (the worker calls it nightly,
 * fenced to each organization in turn): events and their deliveries and notification records
 * after 30 days, expired confirmation links, addresses never confirmed within 30 days, alert
 * idempotency keys after a day and the alert request log after 14 days. Returns rows removed.
 */
drop function if exists app_private.purge_integration_history cascade;
create function app_private.purge_integration_history(organization_id uuid) returns integer
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_org uuid := purge_integration_history.organization_id;
  v_removed integer := 0;
  v_count integer;
begin
  delete from app_public.events e where e.organization_id = v_org and e.created_at < now() - interval '30 days';
  get diagnostics v_count = row_count;
  v_removed := v_removed + v_count;
  delete from app_public.webhook_deliveries d
  where d.organization_id = v_org and d.status <> 'pending' and d.created_at < now() - interval '30 days';
  get diagnostics v_count = row_count;
  v_removed := v_removed + v_count;
  delete from app_private.subscriber_confirmation_tokens t where t.organization_id = v_org and t.expires_at < now();
  get diagnostics v_count = row_count;
  v_removed := v_removed + v_count;
  delete from app_public.subscribers s
  where s.organization_id = v_org and s.status = 'pending' and s.created_at < now() - interval '30 days';
  get diagnostics v_count = row_count;
  v_removed := v_removed + v_count;
  delete from app_private.alert_idempotency_keys k
  where k.organization_id = v_org and k.created_at < now() - interval '24 hours';
  get diagnostics v_count = row_count;
  v_removed := v_removed + v_count;
  delete from app_public.alert_requests r where r.organization_id = v_org and r.received_at < now() - interval '14 days';
  get diagnostics v_count = row_count;
  return v_removed + v_count;
end;
$$;

------------------------------------------------------------------------------------------
-- Test sends and redeliveries are by hand: at most 20 a minute per organization, so a loop
-- cannot fill the worker's queue that every organization shares.
------------------------------------------------------------------------------------------

drop function if exists app_private.tg_webhook_deliveries__limit_manual cascade;
create function app_private.tg_webhook_deliveries__limit_manual() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_recent integer;
  v_previous_org text := app_private.enter_organization(new.organization_id);
begin
  select count(*) into v_recent from app_public.webhook_deliveries d
  where d.organization_id = new.organization_id and d.origin in ('test', 'redelivery')
    and d.created_at > now() - interval '1 minute';
  perform app_private.leave_organization(v_previous_org);
  if v_recent >= 20 then
    perform app_hidden.raise_error('IPR01', 'Too many test sends and redeliveries; try again in a minute.',
                                   json_build_object('retryAfterSeconds', 60)::text);
  end if;
  return new;
end;
$$;
create trigger _160_limit_manual before insert on app_public.webhook_deliveries
  for each row when (new.origin in ('test', 'redelivery'))
  execute function app_private.tg_webhook_deliveries__limit_manual();

------------------------------------------------------------------------------------------
-- Subscribers' email addresses are personal data: like the audit log, only people read them
-- (admin API keys do not).
------------------------------------------------------------------------------------------

alter policy select_admin on app_public.subscribers using (
  (select app_hidden.current_org_role()) >= 'admin'
  and (select app_hidden.current_user_id()) is not null
);
alter policy select_admin on app_public.subscriber_services using (
  (select app_hidden.current_org_role()) >= 'admin'
  and (select app_hidden.current_user_id()) is not null
);
