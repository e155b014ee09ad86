--! Previous: sha1:5207cc8da1e6c395315ab2f51d4259ea7c71a6de
--! Hash: sha1:783697365a5e46ac8961edb3590a3dcc6f3cd16c
--! Message: plan limits and billing

/*
 * Plan limits (DESIGN.md §9) are enforced by triggers that lock the organization's row before
 * counting, so concurrent creators cannot overshoot, on every path that creates the limited
 * rows. Limits apply in multi-tenant mode only. Plans change only through verified billing
 * events (or an operator), never from a client.
 */

-- Re-runnable while it is work in progress.
drop trigger if exists _150_plan_limit on app_public.services;
drop trigger if exists _150_plan_limit on app_public.incidents;
drop trigger if exists _150_plan_limit on app_public.organization_memberships;
drop trigger if exists _150_plan_limit on app_public.organization_invitations;
drop function if exists app_private.tg__enforce_plan_limit cascade;
drop function if exists app_public.current_usage cascade;
drop type if exists app_public.organization_usage cascade;
drop function if exists app_private.usage_of cascade;
drop function if exists app_hidden.plan_limit cascade;
drop table if exists app_private.stripe_events, app_private.organization_billing cascade;
alter table app_public.organizations drop column if exists past_due_since;
alter table app_private.instance_settings drop column if exists billing_grace_days;

alter table app_private.instance_settings
  add column billing_grace_days integer not null default 7 check (billing_grace_days >= 0);
comment on column app_private.instance_settings.billing_grace_days is
  'BILLING_GRACE_DAYS, written by the server at start-up: how long a past-due organization may still create incidents and services.';

alter table app_public.organizations add column past_due_since timestamptz;
comment on column app_public.organizations.past_due_since is
  'When payments started failing; creating incidents and services is refused once the grace period has passed.';

------------------------------------------------------------------------------------------
-- Limits
------------------------------------------------------------------------------------------

/* The limit of a resource on a plan; NULL means unlimited. */
create function app_hidden.plan_limit(plan app_public.plan, resource text) returns integer
language sql
immutable
set search_path = pg_catalog, public, pg_temp
as $$
  select case resource
    when 'services' then case plan when 'free' then 2 when 'pro' then 20 end
    when 'members' then case plan when 'free' then 3 when 'pro' then 25 end
    when 'incidents_per_month' then case plan when 'free' then 50 when 'pro' then 1000 end
  end;
$$;
comment on function app_hidden.plan_limit(app_public.plan, text) is
  'free: 2 services, 3 members (pending invitations included), 50 incidents per UTC calendar month; pro: 20, 25, 1000; enterprise: unlimited.';

/* How much of a limited resource an organization uses now (the owner, fenced to it, counts). */
create function app_private.usage_of(organization_id uuid, resource text) returns integer
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
  end::integer;
$$;

create function app_private.tg__enforce_plan_limit() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_resource text := tg_argv[0];
  v_organization app_public.organizations;
  v_grace_days integer;
  v_limit integer;
  v_current integer;
  v_previous_org text;
begin
  if not app_hidden.multi_tenant_enabled() then
    return new;
  end if;
  v_previous_org := app_private.enter_organization(new.organization_id);
  -- The lock serialises creators in one organization: each counts what the previous committed.
  select * into v_organization from app_public.organizations o where o.id = new.organization_id for update;

  if v_resource in ('services', 'incidents_per_month') and v_organization.billing_status = 'past_due' then
    select s.billing_grace_days into v_grace_days from app_private.instance_settings s;
    if v_organization.past_due_since <= now() - make_interval(days => v_grace_days) then
      perform app_hidden.raise_error('IPL02',
        'Payment for this organization is past due. Update the payment method to create more.',
        json_build_object(
          'pastDueSince', v_organization.past_due_since,
          'graceDays', v_grace_days,
          'plan', v_organization.plan
        )::text);
    end if;
  end if;

  v_limit := app_hidden.plan_limit(v_organization.plan, v_resource);
  -- Accepting an invitation turns a pending invitation, counted when it was created, into a
  -- member: the count does not change, so it is never refused.
  -- (Nested: NEW has no user_id on invitations, and PL/pgSQL resolves the whole condition.)
  if tg_table_name = 'organization_memberships' then
    if exists (
      select 1 from app_public.organization_invitations i
      where i.organization_id = new.organization_id and i.accepted_by = new.user_id and i.accepted_at = now()
    ) then
      v_limit := null;
    end if;
  end if;
  if v_limit is not null then
    v_current := app_private.usage_of(new.organization_id, v_resource);
    if v_current >= v_limit then
      perform app_hidden.raise_error('IPL01',
        format('The %s plan allows %s %s. Upgrade to create more.', v_organization.plan, v_limit,
               replace(v_resource, '_', ' ')),
        json_build_object(
          'resource', v_resource,
          'limit', v_limit,
          'current', v_current,
          'plan', v_organization.plan
        )::text);
    end if;
  end if;
  perform app_private.leave_organization(v_previous_org);
  return new;
end;
$$;

create trigger _150_plan_limit before insert on app_public.services
  for each row execute function app_private.tg__enforce_plan_limit('services');
create trigger _150_plan_limit before insert on app_public.incidents
  for each row execute function app_private.tg__enforce_plan_limit('incidents_per_month');
create trigger _150_plan_limit before insert on app_public.organization_memberships
  for each row execute function app_private.tg__enforce_plan_limit('members');
create trigger _150_plan_limit before insert on app_public.organization_invitations
  for each row execute function app_private.tg__enforce_plan_limit('members');

------------------------------------------------------------------------------------------
-- Usage, for the client's meters
------------------------------------------------------------------------------------------

create type app_public.organization_usage as (
  plan app_public.plan,
  limits_enforced boolean,
  billing_status app_public.billing_status,
  past_due_since timestamptz,
  grace_ends_at timestamptz,
  services_used integer,
  services_limit integer,
  members_used integer,
  members_limit integer,
  incidents_this_month integer,
  incidents_per_month_limit integer
);
comment on type app_public.organization_usage is
  'Usage of the active organization against its plan. A null limit means unlimited; members include pending invitations.';

create function app_public.current_usage() returns app_public.organization_usage
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select
    o.plan,
    app_hidden.multi_tenant_enabled(),
    o.billing_status,
    o.past_due_since,
    o.past_due_since + make_interval(days => (select s.billing_grace_days from app_private.instance_settings s)),
    app_private.usage_of(o.id, 'services'),
    app_hidden.plan_limit(o.plan, 'services'),
    app_private.usage_of(o.id, 'members'),
    app_hidden.plan_limit(o.plan, 'members'),
    app_private.usage_of(o.id, 'incidents_per_month'),
    app_hidden.plan_limit(o.plan, 'incidents_per_month')
  from app_public.organizations o
  where o.id = app_hidden.current_org_id() and app_hidden.current_org_role() is not null;
$$;
comment on function app_public.current_usage() is
  'The active organization''s plan, billing state and usage against its limits (any member).';

------------------------------------------------------------------------------------------
-- Billing (Stripe): looked up by Stripe's ids across organizations, so not fenced
------------------------------------------------------------------------------------------

create table app_private.organization_billing (
  organization_id uuid primary key references app_public.organizations (id) on delete cascade,
  stripe_customer_id text unique,
  stripe_subscription_id text unique,
  stripe_price_id text,
  subscription_status text,
  current_period_end timestamptz,
  -- The creation time of the newest Stripe event applied: older events arriving late change nothing.
  last_event_at timestamptz,
  updated_at timestamptz not null default now()
);
alter table app_private.organization_billing enable row level security;
alter table app_private.organization_billing force row level security;
create policy owner_all on app_private.organization_billing to :DATABASE_OWNER using (true) with check (true);
comment on table app_private.organization_billing is 'An organization''s Stripe customer and subscription.';

create table app_private.stripe_events (
  id text primary key,
  type text not null,
  event_created_at timestamptz not null,
  received_at timestamptz not null default now(),
  organization_id uuid references app_public.organizations (id) on delete set null,
  outcome text not null
);
create index on app_private.stripe_events (organization_id);
alter table app_private.stripe_events enable row level security;
alter table app_private.stripe_events force row level security;
create policy owner_all on app_private.stripe_events to :DATABASE_OWNER using (true) with check (true);
comment on table app_private.stripe_events is 'Every verified Stripe event, once: a replay is recognised by its id and changes nothing.';

grant execute on function app_public.current_usage() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.plan_limit(app_public.plan, text) to :DATABASE_VISITOR;
