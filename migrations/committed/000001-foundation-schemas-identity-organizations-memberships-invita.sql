--! Previous: -
--! Hash: sha1:a6d48d2c59f8640afc4b9424cbcfd3519c76a47d
--! Message: foundation: schemas, identity, organizations, memberships, invitations

/*
 * Foundation of the IncidentPulse schema. Read db/CONVENTIONS.md first.
 *
 * Every function pins `search_path = pg_catalog, public, pg_temp`: public holds the citext and
 * pgcrypto operators (with pg_catalog alone, citext = citext silently became a case-sensitive
 * text comparison) and only the owner can create objects in it (see afterReset.sql).
 *
 * Who sees what is decided here, by row-level security, never by the server:
 * - the visitor role (every signed-in caller) sees its own user, the organizations it belongs
 *   to, and the members and invitations of its active organization (jwt.claims.org_id);
 * - the anonymous role sees nothing in these tables;
 * - the owner role (migrations, the worker, SECURITY DEFINER functions) sees the identity
 *   tables whole, because signing in and accepting an invitation must look across
 *   organizations. Tenant data tables will bind the owner to one organization as well.
 */

------------------------------------------------------------------------------------------
-- Schemas and privileges
------------------------------------------------------------------------------------------

drop schema if exists app_public cascade;
drop schema if exists app_hidden cascade;
drop schema if exists app_private cascade;

alter default privileges revoke all on sequences from public;
alter default privileges revoke all on functions from public;
alter default privileges revoke all on tables from public;

create schema app_public;
create schema app_hidden;
create schema app_private;

grant usage on schema app_public to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant usage on schema app_hidden to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
-- app_private: no usage for visitor or anonymous, ever.

------------------------------------------------------------------------------------------
-- Coded errors (see db/ERROR_CODES.md). One function, so every raise looks the same. It
-- lives in app_hidden because functions running as the caller raise through it too.
------------------------------------------------------------------------------------------

create function app_hidden.raise_error(code text, message text, detail text default null)
returns void
language plpgsql
-- volatile: an immutable function with constant arguments may be evaluated while planning.
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  raise exception using errcode = code, message = message, detail = coalesce(detail, '');
end;
$$;
comment on function app_hidden.raise_error(text, text, text) is
  'Raises one of the SQLSTATEs registered in db/ERROR_CODES.md.';

------------------------------------------------------------------------------------------
-- Generic trigger functions
------------------------------------------------------------------------------------------

create function app_private.tg__timestamps() returns trigger
language plpgsql
set search_path = pg_catalog, public, pg_temp
as $$
begin
  new.created_at := case when tg_op = 'INSERT' then now() else old.created_at end;
  new.updated_at := case when tg_op = 'UPDATE' and old.updated_at >= now()
                         then old.updated_at + interval '1 millisecond'
                         else now() end;
  return new;
end;
$$;
comment on function app_private.tg__timestamps() is
  'Keeps created_at and updated_at honest whatever the client sends.';

------------------------------------------------------------------------------------------
-- Instance settings: what the server told the database at start-up
------------------------------------------------------------------------------------------

create table app_private.instance_settings (
  singleton boolean primary key default true check (singleton),
  multi_tenant_enabled boolean not null default false,
  updated_at timestamptz not null default now()
);
alter table app_private.instance_settings enable row level security;
alter table app_private.instance_settings force row level security;
create policy owner_all on app_private.instance_settings to :DATABASE_OWNER using (true) with check (true);
insert into app_private.instance_settings (singleton) values (true);
comment on table app_private.instance_settings is
  'One row. The server writes MULTI_TENANT_ENABLED here at start-up so triggers, the worker and SQL agree.';

create function app_hidden.multi_tenant_enabled() returns boolean
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select coalesce((select multi_tenant_enabled from app_private.instance_settings), false);
$$;

------------------------------------------------------------------------------------------
-- Request context helpers. Policies call them as (select app_hidden.fn()) so they run once
-- per statement. A missing or empty setting is NULL, and NULL denies.
------------------------------------------------------------------------------------------

create function app_hidden.current_session_id() returns uuid
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select nullif(current_setting('jwt.claims.session_id', true), '')::uuid;
$$;
comment on function app_hidden.current_session_id() is
  'The session the request token names (not yet checked for revocation; see current_user_id).';

create function app_hidden.current_org_id() returns uuid
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select nullif(current_setting('jwt.claims.org_id', true), '')::uuid;
$$;
comment on function app_hidden.current_org_id() is
  'The active organization named by the token. Policies pair it with current_org_role(), which checks membership.';

------------------------------------------------------------------------------------------
-- Users and credentials
------------------------------------------------------------------------------------------

create table app_public.users (
  id uuid primary key default gen_random_uuid(),
  email citext not null unique
    check (length(email) <= 254 and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
  name text not null check (length(btrim(name)) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table app_public.users enable row level security;
alter table app_public.users force row level security;
create trigger _100_timestamps before insert or update on app_public.users
  for each row execute function app_private.tg__timestamps();
comment on table app_public.users is 'A person who can sign in. Users are global; what they see is decided by their memberships.';
comment on column app_public.users.email is 'Unique, compared case-insensitively.';

create table app_private.user_credentials (
  user_id uuid primary key references app_public.users (id) on delete cascade,
  password_hash text not null,
  password_changed_at timestamptz not null default now()
);
alter table app_private.user_credentials enable row level security;
alter table app_private.user_credentials force row level security;
create policy owner_all on app_private.user_credentials to :DATABASE_OWNER using (true) with check (true);

create table app_private.sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references app_public.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '14 days',
  revoked_at timestamptz
);
create index on app_private.sessions (user_id);
alter table app_private.sessions enable row level security;
alter table app_private.sessions force row level security;
create policy owner_all on app_private.sessions to :DATABASE_OWNER using (true) with check (true);
comment on table app_private.sessions is
  'One row per sign-in. Tokens name their session, so logout and password changes revoke them at once.';

-- Storage for the login throttle (rate-limiter-flexible's PostgreSQL layout), shared by
-- every web process.
create table app_private.rate_limits (
  key varchar(255) primary key,
  points integer not null default 0,
  expire bigint
);
alter table app_private.rate_limits enable row level security;
alter table app_private.rate_limits force row level security;
create policy owner_all on app_private.rate_limits to :DATABASE_OWNER using (true) with check (true);

create function app_hidden.current_user_id() returns uuid
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select s.user_id
  from app_private.sessions s
  where s.id = app_hidden.current_session_id()
    and s.revoked_at is null
    and s.expires_at > now();
$$;
comment on function app_hidden.current_user_id() is
  'The signed-in user, or NULL when the session is missing, revoked or expired.';

------------------------------------------------------------------------------------------
-- Organizations and memberships
------------------------------------------------------------------------------------------

create type app_public.plan as enum ('free', 'pro', 'enterprise');
create type app_public.billing_status as enum ('none', 'active', 'past_due', 'canceled');
-- Ordered from least to most privileged, so policies can say role >= 'editor'.
create type app_public.membership_role as enum ('viewer', 'editor', 'admin', 'owner');

create table app_public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 100),
  slug citext not null unique check (slug ~ '^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$'),
  plan app_public.plan not null default 'free',
  billing_status app_public.billing_status not null default 'none',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table app_public.organizations enable row level security;
alter table app_public.organizations force row level security;
create trigger _100_timestamps before insert or update on app_public.organizations
  for each row execute function app_private.tg__timestamps();
comment on table app_public.organizations is 'A tenant: its members, services, incidents and status page belong to it alone.';
comment on column app_public.organizations.slug is 'Lower-case letters, digits and dashes; names the public status page (/status/<slug>).';
comment on column app_public.organizations.plan is 'Changed only by verified billing events, never by a client.';

create table app_public.organization_memberships (
  organization_id uuid not null references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references app_public.users (id) on delete cascade,
  role app_public.membership_role not null default 'viewer',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id),
  unique (organization_id, user_id)
);
create index on app_public.organization_memberships (user_id);
alter table app_public.organization_memberships enable row level security;
alter table app_public.organization_memberships force row level security;
create trigger _100_timestamps before insert or update on app_public.organization_memberships
  for each row execute function app_private.tg__timestamps();
comment on table app_public.organization_memberships is
  E'@behavior -insert -update -delete\nWho belongs to an organization, and with which role. Changed through inviteMember, acceptInvitation, changeMemberRole and removeMember, which enforce the membership rules.';

create function app_hidden.current_org_role() returns app_public.membership_role
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select m.role
  from app_public.organization_memberships m
  where m.organization_id = app_hidden.current_org_id()
    and m.user_id = app_hidden.current_user_id();
$$;
comment on function app_hidden.current_org_role() is
  'The caller''s role in the active organization, read from memberships (not from the token), or NULL.';

create function app_hidden.current_user_organization_ids() returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select coalesce(array_agg(m.organization_id), '{}')
  from app_public.organization_memberships m
  where m.user_id = app_hidden.current_user_id();
$$;
comment on function app_hidden.current_user_organization_ids() is
  'Every organization the signed-in user belongs to (for the organization switcher).';

------------------------------------------------------------------------------------------
-- Invitations
------------------------------------------------------------------------------------------

create table app_public.organization_invitations (
  organization_id uuid not null references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  email citext not null
    check (length(email) <= 254 and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
  role app_public.membership_role not null default 'viewer',
  invited_by uuid references app_public.users (id) on delete set null,
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  accepted_by uuid references app_public.users (id) on delete set null,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, id)
);
create unique index organization_invitations_one_pending_per_email
  on app_public.organization_invitations (organization_id, email)
  where accepted_at is null and revoked_at is null;
create index on app_public.organization_invitations (invited_by);
create index on app_public.organization_invitations (accepted_by);
alter table app_public.organization_invitations enable row level security;
alter table app_public.organization_invitations force row level security;
create trigger _100_timestamps before insert or update on app_public.organization_invitations
  for each row execute function app_private.tg__timestamps();
comment on table app_public.organization_invitations is
  E'@behavior -insert -update -delete\nAn invitation to join an organization. Its token is shown once and stored only as a hash.';

create table app_private.invitation_tokens (
  token_hash bytea primary key,
  organization_id uuid not null,
  invitation_id uuid not null,
  foreign key (organization_id, invitation_id)
    references app_public.organization_invitations (organization_id, id) on delete cascade,
  unique (organization_id, invitation_id)
);
alter table app_private.invitation_tokens enable row level security;
alter table app_private.invitation_tokens force row level security;
create policy owner_all on app_private.invitation_tokens to :DATABASE_OWNER using (true) with check (true);

------------------------------------------------------------------------------------------
-- Policies and grants on the identity tables
------------------------------------------------------------------------------------------

create policy owner_all on app_public.users to :DATABASE_OWNER using (true) with check (true);
create policy select_self_and_colleagues on app_public.users for select to :DATABASE_VISITOR
  using (
    id = (select app_hidden.current_user_id())
    or id in (
      select m.user_id from app_public.organization_memberships m
      where m.organization_id = (select app_hidden.current_org_id())
    )
  );
create policy update_self on app_public.users for update to :DATABASE_VISITOR
  using (id = (select app_hidden.current_user_id()));
-- Anonymous holds SELECT on the identity tables but no policy, so it always sees zero rows:
-- PostGraphile reads nested relations in one statement, and an anonymous
-- `currentOrganization { organizationMemberships … }` must answer null, not fail.
grant select on app_public.users to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant update (name) on app_public.users to :DATABASE_VISITOR;

create policy owner_all on app_public.organizations to :DATABASE_OWNER using (true) with check (true);
create policy select_member on app_public.organizations for select to :DATABASE_VISITOR
  using (id = any ((select app_hidden.current_user_organization_ids())::uuid[]));
create policy update_admin on app_public.organizations for update to :DATABASE_VISITOR
  using (
    id = (select app_hidden.current_org_id())
    and (select app_hidden.current_org_role()) >= 'admin'
  );
create policy delete_owner on app_public.organizations for delete to :DATABASE_VISITOR
  using (
    id = (select app_hidden.current_org_id())
    and (select app_hidden.current_org_role()) = 'owner'
  );
grant select on app_public.organizations to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant update (name, slug) on app_public.organizations to :DATABASE_VISITOR;
grant delete on app_public.organizations to :DATABASE_VISITOR;

create policy owner_all on app_public.organization_memberships to :DATABASE_OWNER using (true) with check (true);
create policy select_colleagues_and_own on app_public.organization_memberships for select to :DATABASE_VISITOR
  using (
    (
      organization_id = (select app_hidden.current_org_id())
      and (select app_hidden.current_org_role()) is not null
    )
    or user_id = (select app_hidden.current_user_id())
  );
create policy update_admin on app_public.organization_memberships for update to :DATABASE_VISITOR
  using (
    organization_id = (select app_hidden.current_org_id())
    and (select app_hidden.current_org_role()) >= 'admin'
  );
create policy delete_admin_or_self on app_public.organization_memberships for delete to :DATABASE_VISITOR
  using (
    organization_id = (select app_hidden.current_org_id())
    and (
      (select app_hidden.current_org_role()) >= 'admin'
      or user_id = (select app_hidden.current_user_id())
    )
  );
grant select on app_public.organization_memberships to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant update (role) on app_public.organization_memberships to :DATABASE_VISITOR;
grant delete on app_public.organization_memberships to :DATABASE_VISITOR;

create policy owner_all on app_public.organization_invitations to :DATABASE_OWNER using (true) with check (true);
create policy select_admin on app_public.organization_invitations for select to :DATABASE_VISITOR
  using (
    organization_id = (select app_hidden.current_org_id())
    and (select app_hidden.current_org_role()) >= 'admin'
  );
create policy update_admin on app_public.organization_invitations for update to :DATABASE_VISITOR
  using (
    organization_id = (select app_hidden.current_org_id())
    and (select app_hidden.current_org_role()) >= 'admin'
  );
grant select on app_public.organization_invitations to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant update (revoked_at) on app_public.organization_invitations to :DATABASE_VISITOR;

------------------------------------------------------------------------------------------
-- Membership rules, enforced whatever path changes a membership
------------------------------------------------------------------------------------------

create function app_private.tg_organization_memberships__enforce_actor_rules() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_actor uuid := app_hidden.current_user_id();
  v_actor_role app_public.membership_role;
begin
  -- Privileged code (no signed-in user: the worker, operators' scripts) is trusted here;
  -- the owner invariant below still holds for it.
  if v_actor is null then
    return coalesce(new, old);
  end if;
  -- The actor's role in the row's organization (a cascade from deleting the organization
  -- finds none and has already been authorised by the organization's delete policy).
  select m.role into v_actor_role
  from app_public.organization_memberships m
  where m.organization_id = old.organization_id and m.user_id = v_actor;
  if v_actor_role is null then
    return coalesce(new, old);
  end if;

  if tg_op = 'UPDATE' then
    if old.user_id = v_actor then
      perform app_hidden.raise_error('IPF03', 'You cannot change your own role.');
    end if;
    if (old.role = 'owner' or new.role = 'owner') and v_actor_role <> 'owner' then
      perform app_hidden.raise_error('IPF04', 'Only an owner can grant or remove the owner role.');
    end if;
    return new;
  end if;

  -- DELETE: leaving is always allowed; removing someone else needs admin, an owner needs owner.
  if old.user_id <> v_actor then
    if v_actor_role < 'admin' then
      perform app_hidden.raise_error('IPF01', 'Only owners and admins can remove members.');
    end if;
    if old.role = 'owner' and v_actor_role <> 'owner' then
      perform app_hidden.raise_error('IPF04', 'Only an owner can remove an owner.');
    end if;
  end if;
  return old;
end;
$$;
create trigger _200_enforce_actor_rules
  before update or delete on app_public.organization_memberships
  for each row execute function app_private.tg_organization_memberships__enforce_actor_rules();

create function app_private.tg_organization_memberships__keep_an_owner() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, public, pg_temp
as $$
begin
  -- Lock the organization so two owners demoting or removing each other concurrently
  -- cannot both succeed. A missing row means the organization itself is being deleted.
  perform 1 from app_public.organizations o where o.id = old.organization_id for update;
  if not found then
    return null;
  end if;
  if not exists (
    select 1 from app_public.organization_memberships m
    where m.organization_id = old.organization_id and m.role = 'owner'
  ) then
    perform app_hidden.raise_error('IPC01', 'An organization must keep at least one owner.');
  end if;
  return null;
end;
$$;
create trigger _210_keep_an_owner
  after update of role or delete on app_public.organization_memberships
  for each row when (old.role = 'owner')
  execute function app_private.tg_organization_memberships__keep_an_owner();

------------------------------------------------------------------------------------------
-- Identity functions: registration, sign-in, sessions, passwords
------------------------------------------------------------------------------------------

create function app_private.assert_password_acceptable(password text) returns void
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  if password is null or length(password) < 8 then
    perform app_hidden.raise_error('IPA04', 'Passwords must be at least 8 characters long.');
  end if;
  -- bcrypt only reads the first 72 bytes; refuse longer ones rather than silently ignore the rest.
  if octet_length(password) > 72 then
    perform app_hidden.raise_error('IPA04', 'Passwords must be at most 72 bytes long.');
  end if;
end;
$$;

create function app_private.hash_password(password text) returns text
language sql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
  select public.crypt(password, public.gen_salt('bf', 10));
$$;

create function app_private.create_session(user_id uuid) returns app_private.sessions
language sql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
  insert into app_private.sessions (user_id) values (user_id) returning *;
$$;

-- The default organization of single-tenant mode; created at start-up when the mode is off.
create function app_private.ensure_default_organization() returns app_public.organizations
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_org app_public.organizations;
begin
  insert into app_public.organizations (name, slug) values ('Default', 'default')
  on conflict (slug) do nothing;
  select * into v_org from app_public.organizations where slug = 'default';
  return v_org;
end;
$$;

/*
 * Accepts an invitation for a user: the token must be valid, unused, unexpired and unrevoked,
 * and the user's email must be the invited one. Returns the new membership.
 */
create function app_private.accept_invitation_for_user(invitee_id uuid, token text)
returns app_public.organization_memberships
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_invitation app_public.organization_invitations;
  v_email citext;
  v_membership app_public.organization_memberships;
begin
  select i.* into v_invitation
  from app_private.invitation_tokens t
  join app_public.organization_invitations i
    on i.organization_id = t.organization_id and i.id = t.invitation_id
  where t.token_hash = public.digest(coalesce(token, ''), 'sha256')
  for update of i;

  if v_invitation.id is null then
    perform app_hidden.raise_error('IPI01', 'This invitation does not exist.');
  elsif v_invitation.revoked_at is not null then
    perform app_hidden.raise_error('IPI03', 'This invitation has been revoked.');
  elsif v_invitation.accepted_at is not null then
    perform app_hidden.raise_error('IPI04', 'This invitation has already been used.');
  elsif v_invitation.expires_at <= now() then
    perform app_hidden.raise_error('IPI02', 'This invitation has expired.');
  end if;

  select u.email into v_email from app_public.users u where u.id = invitee_id;
  if v_email is distinct from v_invitation.email then
    perform app_hidden.raise_error('IPI05', 'This invitation was sent to another email address.');
  end if;

  update app_public.organization_invitations
  set accepted_at = now(), accepted_by = invitee_id
  where organization_id = v_invitation.organization_id and id = v_invitation.id;

  insert into app_public.organization_memberships (organization_id, user_id, role)
  values (v_invitation.organization_id, invitee_id, v_invitation.role)
  on conflict (organization_id, user_id) do nothing
  returning * into v_membership;
  if v_membership.id is null then
    perform app_hidden.raise_error('IPC02', 'You are already a member of this organization.');
  end if;
  return v_membership;
end;
$$;

/*
 * Creates a user with a password and signs them in. In single-tenant mode the user joins the
 * default organization (the first user as owner, later ones as viewer unless an invitation
 * says otherwise). With an invitation token the user joins the inviting organization.
 */
create function app_private.register_user(
  email text,
  name text,
  password text,
  invitation_token text default null
) returns app_private.sessions
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_user app_public.users;
  v_org app_public.organizations;
  v_invited_org uuid;
begin
  perform app_private.assert_password_acceptable(password);
  if exists (select 1 from app_public.users u where u.email = register_user.email::citext) then
    perform app_hidden.raise_error('IPC03', 'An account with this email already exists.');
  end if;

  insert into app_public.users (email, name)
  values (btrim(register_user.email), btrim(register_user.name))
  returning * into v_user;
  insert into app_private.user_credentials (user_id, password_hash)
  values (v_user.id, app_private.hash_password(password));

  if invitation_token is not null then
    select (app_private.accept_invitation_for_user(v_user.id, invitation_token)).organization_id
      into v_invited_org;
  end if;

  if not app_hidden.multi_tenant_enabled() and v_invited_org is null then
    v_org := app_private.ensure_default_organization();
    -- Lock the organization so two concurrent first registrations cannot both become owner.
    perform 1 from app_public.organizations o where o.id = v_org.id for update;
    insert into app_public.organization_memberships (organization_id, user_id, role)
    values (
      v_org.id,
      v_user.id,
      case when exists (
        select 1 from app_public.organization_memberships m where m.organization_id = v_org.id
      ) then 'viewer' else 'owner' end::app_public.membership_role
    );
  end if;

  return app_private.create_session(v_user.id);
end;
$$;

/*
 * Checks a password. Returns a new session, or NULL for a wrong email or password: the caller
 * answers both the same way. Unknown emails still pay for one bcrypt comparison so timing
 * does not tell whether an account exists.
 */
create function app_private.login(email text, password text) returns app_private.sessions
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_user_id uuid;
  v_hash text;
begin
  select u.id, c.password_hash into v_user_id, v_hash
  from app_public.users u
  join app_private.user_credentials c on c.user_id = u.id
  where u.email = login.email::citext;

  if v_hash is null then
    perform public.crypt(coalesce(password, ''), '$2a$10$CwTycUXWue0Thq9StjUM0uJ8DbQ8A8T6rsH8gAE4zS0xN0gqM/ycq');
    return null;
  end if;
  if public.crypt(coalesce(password, ''), v_hash) <> v_hash then
    return null;
  end if;
  return app_private.create_session(v_user_id);
end;
$$;

create function app_private.revoke_session(session_id uuid) returns void
language sql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
  update app_private.sessions set revoked_at = now()
  where id = session_id and revoked_at is null;
$$;

/* Whether a session can still be used; the server checks it before trusting a token. */
create function app_private.session_is_active(session_id uuid, user_id uuid) returns boolean
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select exists (
    select 1 from app_private.sessions s
    where s.id = session_id and s.user_id = session_is_active.user_id
      and s.revoked_at is null and s.expires_at > now()
  );
$$;

/*
 * The organization a new token should act in: the requested one if the user belongs to it,
 * else their earliest membership. NULL when they belong to none.
 */
create function app_private.membership_for_token(user_id uuid, organization_id uuid default null)
returns app_public.organization_memberships
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select m.* from app_public.organization_memberships m
  where m.user_id = membership_for_token.user_id
    and (membership_for_token.organization_id is null or m.organization_id = membership_for_token.organization_id)
  order by m.created_at, m.organization_id
  limit 1;
$$;

------------------------------------------------------------------------------------------
-- Functions exposed as GraphQL queries and mutations
------------------------------------------------------------------------------------------

create function app_public.current_user() returns app_public.users
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select u.* from app_public.users u where u.id = app_hidden.current_user_id();
$$;
comment on function app_public.current_user() is 'The signed-in user, or null.';
-- The three current_* functions are SECURITY DEFINER so an anonymous caller gets null rather
-- than a permission error; each returns only rows tied to the verified session.

create function app_public.current_organization() returns app_public.organizations
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select o.* from app_public.organizations o
  where o.id = app_hidden.current_org_id() and app_hidden.current_org_role() is not null;
$$;
comment on function app_public.current_organization() is 'The organization this request acts in, or null.';

create function app_public.current_membership() returns app_public.organization_memberships
language sql
stable
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select m.* from app_public.organization_memberships m
  where m.organization_id = app_hidden.current_org_id() and m.user_id = app_hidden.current_user_id();
$$;
comment on function app_public.current_membership() is 'The signed-in user''s membership (and role) in the active organization.';

create function app_public.multi_tenant_enabled() returns boolean
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select app_hidden.multi_tenant_enabled();
$$;
comment on function app_public.multi_tenant_enabled() is
  'Whether this deployment hosts many organizations (the client shows the organization switcher).';

create function app_hidden.assert_signed_in() returns uuid
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_user uuid := app_hidden.current_user_id();
begin
  if v_user is null then
    perform app_hidden.raise_error('IPA01', 'You must be signed in.');
  end if;
  return v_user;
end;
$$;

create function app_hidden.assert_org_role(minimum app_public.membership_role, action text)
returns app_public.membership_role
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_role app_public.membership_role;
begin
  perform app_hidden.assert_signed_in();
  v_role := app_hidden.current_org_role();
  if v_role is null or v_role < minimum then
    perform app_hidden.raise_error('IPF01', format('Only %ss and above can %s.', minimum, action));
  end if;
  return v_role;
end;
$$;

create function app_public.create_organization(name text, slug text) returns app_public.organizations
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_user uuid := app_hidden.assert_signed_in();
  v_org app_public.organizations;
begin
  if not app_hidden.multi_tenant_enabled() then
    perform app_hidden.raise_error('IPM01', 'This deployment hosts a single organization.');
  end if;
  insert into app_public.organizations (name, slug)
  values (btrim(create_organization.name), lower(btrim(create_organization.slug)))
  returning * into v_org;
  insert into app_public.organization_memberships (organization_id, user_id, role)
  values (v_org.id, v_user, 'owner');
  return v_org;
end;
$$;
comment on function app_public.create_organization(text, text) is
  E'@resultFieldName organization\nCreates an organization with the caller as its owner (multi-tenant mode only). Switch to it to act in it.';

create type app_hidden.issued_invitation as (
  invitation_id uuid,
  token text
);

/*
 * Invites an email address to the active organization. Called by the API's inviteMember
 * mutation, which returns the clear token once; only its hash is stored.
 */
create function app_hidden.invite_member(email text, role app_public.membership_role)
returns app_hidden.issued_invitation
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_actor_role app_public.membership_role := app_hidden.assert_org_role('admin', 'invite members');
  v_org uuid := app_hidden.current_org_id();
  v_invitation_id uuid;
  v_token text := encode(public.gen_random_bytes(32), 'hex');
begin
  if invite_member.role = 'owner' and v_actor_role <> 'owner' then
    perform app_hidden.raise_error('IPF04', 'Only an owner can invite an owner.');
  end if;
  if exists (
    select 1 from app_public.organization_memberships m
    join app_public.users u on u.id = m.user_id
    where m.organization_id = v_org and u.email = invite_member.email::citext
  ) then
    perform app_hidden.raise_error('IPC02', 'This person is already a member of the organization.');
  end if;
  -- A new invitation replaces a pending one for the same address.
  update app_public.organization_invitations i set revoked_at = now()
  where i.organization_id = v_org and i.email = invite_member.email::citext
    and i.accepted_at is null and i.revoked_at is null;

  insert into app_public.organization_invitations (organization_id, email, role, invited_by)
  values (v_org, btrim(invite_member.email), invite_member.role, app_hidden.current_user_id())
  returning id into v_invitation_id;
  insert into app_private.invitation_tokens (token_hash, organization_id, invitation_id)
  values (public.digest(v_token, 'sha256'), v_org, v_invitation_id);
  return row(v_invitation_id, v_token)::app_hidden.issued_invitation;
end;
$$;

create function app_public.accept_invitation(token text) returns app_public.organization_memberships
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
begin
  return app_private.accept_invitation_for_user(app_hidden.assert_signed_in(), token);
end;
$$;
comment on function app_public.accept_invitation(text) is
  E'@resultFieldName membership\nJoins the inviting organization. The signed-in user must have the invited email; tokens are single-use.';

create function app_public.revoke_invitation(invitation_id uuid) returns app_public.organization_invitations
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_invitation app_public.organization_invitations;
begin
  perform app_hidden.assert_org_role('admin', 'revoke invitations');
  update app_public.organization_invitations i set revoked_at = now()
  where i.organization_id = app_hidden.current_org_id() and i.id = invitation_id
    and i.accepted_at is null and i.revoked_at is null
  returning * into v_invitation;
  if v_invitation.id is null then
    perform app_hidden.raise_error('IPN01', 'No pending invitation with this id.');
  end if;
  return v_invitation;
end;
$$;
comment on function app_public.revoke_invitation(uuid) is
  E'@resultFieldName invitation\nRevokes a pending invitation of the active organization.';

create function app_public.change_member_role(user_id uuid, role app_public.membership_role)
returns app_public.organization_memberships
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_membership app_public.organization_memberships;
begin
  perform app_hidden.assert_org_role('admin', 'change roles');
  update app_public.organization_memberships m set role = change_member_role.role
  where m.organization_id = app_hidden.current_org_id() and m.user_id = change_member_role.user_id
  returning * into v_membership;
  if v_membership.id is null then
    perform app_hidden.raise_error('IPN01', 'No member with this id in the organization.');
  end if;
  return v_membership;
end;
$$;
comment on function app_public.change_member_role(uuid, app_public.membership_role) is
  E'@resultFieldName membership\nChanges a member''s role (owners and admins; only owners grant or take the owner role; never your own).';

create function app_public.remove_member(user_id uuid) returns app_public.organization_memberships
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_membership app_public.organization_memberships;
begin
  perform app_hidden.assert_signed_in();
  delete from app_public.organization_memberships m
  where m.organization_id = app_hidden.current_org_id() and m.user_id = remove_member.user_id
  returning * into v_membership;
  if v_membership.id is null then
    if app_hidden.current_org_role() is null or app_hidden.current_org_role() < 'admin' then
      perform app_hidden.raise_error('IPF01', 'Only owners and admins can remove members.');
    end if;
    perform app_hidden.raise_error('IPN01', 'No member with this id in the organization.');
  end if;
  return v_membership;
end;
$$;
comment on function app_public.remove_member(uuid) is
  E'@resultFieldName membership\nRemoves a member from the active organization (owners and admins), or leaves it (yourself).';

create function app_public.change_password(old_password text, new_password text) returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_user uuid := app_hidden.assert_signed_in();
  v_hash text;
begin
  select c.password_hash into v_hash from app_private.user_credentials c where c.user_id = v_user;
  if v_hash is null or public.crypt(coalesce(old_password, ''), v_hash) <> v_hash then
    perform app_hidden.raise_error('IPA02', 'The current password is not correct.');
  end if;
  perform app_private.assert_password_acceptable(new_password);
  update app_private.user_credentials
  set password_hash = app_private.hash_password(new_password), password_changed_at = now()
  where user_id = v_user;
  -- Every other session of this user stops working at once.
  update app_private.sessions set revoked_at = now()
  where user_id = v_user and id <> app_hidden.current_session_id() and revoked_at is null;
  return true;
end;
$$;
comment on function app_public.change_password(text, text) is
  E'@resultFieldName changed\nChanges the signed-in user''s password and signs out every other session.';

------------------------------------------------------------------------------------------
-- Sign-in entry points for the API's auth mutations. They return what a token carries;
-- the server signs it. Not exposed in GraphQL (app_hidden).
------------------------------------------------------------------------------------------

create type app_hidden.token_claims as (
  session_id uuid,
  user_id uuid,
  organization_id uuid,
  role app_public.membership_role
);

create function app_private.claims_for_session(
  session app_private.sessions,
  organization_id uuid default null
) returns app_hidden.token_claims
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select row(session.id, session.user_id, m.organization_id, m.role)::app_hidden.token_claims
  from (select 1) as one
  left join lateral app_private.membership_for_token(session.user_id, organization_id) m on true;
$$;

create function app_hidden.register(
  email text,
  name text,
  password text,
  invitation_token text default null
) returns app_hidden.token_claims
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_session app_private.sessions := app_private.register_user(email, name, password, invitation_token);
begin
  -- A separate statement, so the claims see the membership registration just created.
  return app_private.claims_for_session(v_session);
end;
$$;

/* NULL for a wrong email or password, whichever it was. */
create function app_hidden.login(email text, password text) returns app_hidden.token_claims
language sql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select case when s.id is null then null else app_private.claims_for_session(s) end
  from app_private.login(email, password) s;
$$;

create function app_hidden.switch_organization(organization_id uuid) returns app_hidden.token_claims
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_session app_private.sessions;
  v_claims app_hidden.token_claims;
begin
  perform app_hidden.assert_signed_in();
  if not app_hidden.multi_tenant_enabled() then
    perform app_hidden.raise_error('IPM01', 'This deployment hosts a single organization.');
  end if;
  select * into v_session from app_private.sessions where id = app_hidden.current_session_id();
  v_claims := app_private.claims_for_session(v_session, switch_organization.organization_id);
  if v_claims.organization_id is null then
    perform app_hidden.raise_error('IPF02', 'You are not a member of this organization.');
  end if;
  return v_claims;
end;
$$;

create function app_hidden.logout() returns void
language sql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
  select app_private.revoke_session(app_hidden.current_session_id());
$$;

------------------------------------------------------------------------------------------
-- Execute grants: deliberate, one by one. Functions that need a signed-in user are callable
-- by anonymous too, so they answer UNAUTHENTICATED (IPA01) rather than a permission error.
------------------------------------------------------------------------------------------

grant execute on function app_hidden.raise_error(text, text, text) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.assert_signed_in() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.assert_org_role(app_public.membership_role, text) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;

grant execute on function app_hidden.current_session_id() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.current_user_id() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.current_org_id() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.current_org_role() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.current_user_organization_ids() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.multi_tenant_enabled() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.register(text, text, text, text) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.login(text, text) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.switch_organization(uuid) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.logout() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;

grant execute on function app_public.current_user() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.current_organization() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.current_membership() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.multi_tenant_enabled() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.create_organization(text, text) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.invite_member(text, app_public.membership_role) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.accept_invitation(text) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.revoke_invitation(uuid) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.change_member_role(uuid, app_public.membership_role) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.remove_member(uuid) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.change_password(text, text) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
