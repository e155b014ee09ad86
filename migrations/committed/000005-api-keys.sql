--! Previous: sha1:760ac44770fccf1d44f20aacff3ed33ae0772fda
--! Hash: sha1:2c05e20c47be681f5cd15c10bfea50dcbcc38e3f
--! Message: api keys

/*
 * API keys act in one organization with a role (viewer, editor or admin) under the same
 * policies as a member. They never manage members, keys or billing: those need a person.
 * Only a SHA-256 of a key is stored; the key itself is shown once.
 */

-- Re-runnable while it is work in progress.
drop table if exists app_private.api_key_hashes, app_public.api_keys cascade;
drop function if exists app_hidden.current_api_key_id cascade;
drop function if exists app_hidden.create_api_key cascade;
drop function if exists app_public.revoke_api_key cascade;
drop function if exists app_private.authenticate_api_key cascade;
drop type if exists app_hidden.issued_api_key cascade;
alter table app_public.audit_log drop column if exists actor_api_key_id;
alter table app_public.incident_updates drop column if exists author_api_key_id;

create function app_hidden.current_api_key_id() returns uuid
language sql
stable
set search_path = pg_catalog, public, pg_temp
as $$
  select nullif(current_setting('jwt.claims.api_key_id', true), '')::uuid;
$$;
comment on function app_hidden.current_api_key_id() is
  'The API key the request authenticated with (the server verified it), or NULL.';

create table app_public.api_keys (
  organization_id uuid not null default app_hidden.current_org_id()
    references app_public.organizations (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 100),
  role app_public.membership_role not null default 'viewer' check (role <> 'owner'),
  -- The first characters of the key, so people can tell their keys apart.
  display_prefix text not null,
  created_by_id uuid default app_hidden.current_user_id() references app_public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  primary key (organization_id, id),
  check (expires_at is null or expires_at > created_at)
);
create index on app_public.api_keys (organization_id, created_at desc);
create index on app_public.api_keys (created_by_id);
create trigger _100_timestamps before insert or update on app_public.api_keys
  for each row execute function app_private.tg__timestamps();
select app_private.create_tenant_policies('app_public.api_keys', null, null, null);
-- Keys are managed by people (owners and admins), never by another key.
drop policy select_member on app_public.api_keys;
create policy select_admin on app_public.api_keys for select to :DATABASE_VISITOR
  using ((select app_hidden.current_org_role()) >= 'admin' and (select app_hidden.current_user_id()) is not null);
grant select on app_public.api_keys to :DATABASE_VISITOR;
create trigger _500_audit after insert or update or delete on app_public.api_keys
  for each row execute function app_private.tg__audit('id');
comment on table app_public.api_keys is
  E'@behavior -insert -update -delete\nKeys for tools: each acts in this organization with its role. Created with createApiKey (shown once), revoked with revokeApiKey.';

create table app_private.api_key_hashes (
  key_hash bytea primary key,
  organization_id uuid not null,
  api_key_id uuid not null,
  foreign key (organization_id, api_key_id) references app_public.api_keys (organization_id, id) on delete cascade,
  unique (organization_id, api_key_id)
);
alter table app_private.api_key_hashes enable row level security;
alter table app_private.api_key_hashes force row level security;
create policy owner_all on app_private.api_key_hashes to :DATABASE_OWNER using (true) with check (true);

create type app_hidden.issued_api_key as (api_key_id uuid, token text);

/*
 * Creates a key: `ipk_` + 32 random bytes (base64url) + a 6-character checksum, so a typo or a
 * truncated key is recognised before any lookup. Only its SHA-256 is stored.
 */
create function app_hidden.create_api_key(
  name text,
  role app_public.membership_role,
  expires_at timestamptz default null
) returns app_hidden.issued_api_key
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_body text := translate(encode(gen_random_bytes(32), 'base64'), '+/=', '-_');
  v_token text;
  v_key app_public.api_keys;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('admin', 'manage API keys');
  if create_api_key.role = 'owner' then
    perform app_hidden.raise_error('IPV01', 'An API key is a viewer, an editor or an admin.');
  end if;
  v_token := 'ipk_' || v_body || left(encode(digest(v_body, 'sha256'), 'hex'), 6);
  insert into app_public.api_keys (name, role, display_prefix, expires_at)
  values (btrim(create_api_key.name), create_api_key.role, left(v_token, 10), create_api_key.expires_at)
  returning * into v_key;
  insert into app_private.api_key_hashes (key_hash, organization_id, api_key_id)
  values (digest(v_token, 'sha256'), v_key.organization_id, v_key.id);
  return row(v_key.id, v_token)::app_hidden.issued_api_key;
end;
$$;

create function app_public.revoke_api_key(api_key_id uuid) returns app_public.api_keys
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_key app_public.api_keys;
begin
  perform app_hidden.assert_signed_in();
  perform app_hidden.assert_org_role('admin', 'manage API keys');
  update app_public.api_keys k set revoked_at = coalesce(k.revoked_at, now())
  where k.organization_id = app_hidden.current_org_id() and k.id = revoke_api_key.api_key_id
  returning * into v_key;
  if v_key.id is null then
    perform app_hidden.raise_error('IPN01', 'No API key with this id in the organization.');
  end if;
  return v_key;
end;
$$;
comment on function app_public.revoke_api_key(uuid) is
  E'@resultFieldName apiKey\nRevokes an API key at once (owners and admins).';

/*
 * The server's check of a presented key: the key's organization and role when it is valid
 * (known, not revoked, not expired), else nothing. Marks it used, at most once a minute.
 */
create function app_private.authenticate_api_key(token text)
returns table (api_key_id uuid, organization_id uuid, role app_public.membership_role, state text)
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
#variable_conflict use_column
declare
  v_hash app_private.api_key_hashes;
  v_key app_public.api_keys;
begin
  select h.* into v_hash from app_private.api_key_hashes h where h.key_hash = digest(coalesce(token, ''), 'sha256');
  -- The key names its organization; the tenant fence then lets the owner read the key's row.
  perform set_config('jwt.claims.org_id', coalesce(v_hash.organization_id::text, ''), true);
  select k.* into v_key from app_public.api_keys k
  where k.organization_id = v_hash.organization_id and k.id = v_hash.api_key_id;
  if v_key.id is null then
    return query select null::uuid, null::uuid, null::app_public.membership_role, 'unknown'::text;
    return;
  end if;
  if v_key.revoked_at is not null then
    return query select v_key.id, v_key.organization_id, v_key.role, 'revoked'::text;
    return;
  end if;
  if v_key.expires_at is not null and v_key.expires_at <= now() then
    return query select v_key.id, v_key.organization_id, v_key.role, 'expired'::text;
    return;
  end if;
  if v_key.last_used_at is null or v_key.last_used_at < now() - interval '1 minute' then
    update app_public.api_keys k set last_used_at = now()
    where k.organization_id = v_key.organization_id and k.id = v_key.id;
  end if;
  return query select v_key.id, v_key.organization_id, v_key.role, 'valid'::text;
end;
$$;

------------------------------------------------------------------------------------------
-- The role of the caller: a member's, or a valid key's
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
       and (k.expires_at is null or k.expires_at > now()))
  );
$$;

-- Member management is for people: a key, whatever its role, changes no membership,
-- invitation or organization setting.
alter policy update_admin on app_public.organization_memberships using (
  organization_id = (select app_hidden.current_org_id())
  and (select app_hidden.current_org_role()) >= 'admin'
  and (select app_hidden.current_user_id()) is not null
);
alter policy delete_admin_or_self on app_public.organization_memberships using (
  organization_id = (select app_hidden.current_org_id())
  and (select app_hidden.current_user_id()) is not null
  and (
    (select app_hidden.current_org_role()) >= 'admin'
    or user_id = (select app_hidden.current_user_id())
  )
);
alter policy update_admin on app_public.organization_invitations using (
  organization_id = (select app_hidden.current_org_id())
  and (select app_hidden.current_org_role()) >= 'admin'
  and (select app_hidden.current_user_id()) is not null
);
alter policy update_admin on app_public.organizations using (
  id = (select app_hidden.current_org_id())
  and (select app_hidden.current_org_role()) >= 'admin'
  and (select app_hidden.current_user_id()) is not null
);

/* Actions that need a person: a key gets a clear "not with an API key" (403), not "sign in". */
create or replace function app_hidden.assert_signed_in() returns uuid
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_user uuid := app_hidden.current_user_id();
begin
  if v_user is null and app_hidden.current_api_key_id() is not null then
    perform app_hidden.raise_error('IPF05', 'API keys cannot do this: it needs a signed-in person.');
  end if;
  if v_user is null then
    perform app_hidden.raise_error('IPA01', 'You must be signed in.');
  end if;
  return v_user;
end;
$$;

/*
 * A role check for what members and keys may both do (incidents, maintenance, services):
 * the caller's role, a person's or a key's, must reach the minimum. What only people may do
 * calls assert_signed_in first.
 */
create or replace function app_hidden.assert_org_role(minimum app_public.membership_role, action text)
returns app_public.membership_role
language plpgsql
stable
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_role app_public.membership_role := app_hidden.current_org_role();
begin
  if v_role is null and app_hidden.current_user_id() is null and app_hidden.current_api_key_id() is null then
    perform app_hidden.raise_error('IPA01', 'You must be signed in.');
  end if;
  if v_role is null or v_role < minimum then
    perform app_hidden.raise_error('IPF01', format('Only %ss and above can %s.', minimum, action));
  end if;
  return v_role;
end;
$$;

create or replace function app_hidden.invite_member(email text, role app_public.membership_role)
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
  -- Member management needs a person: an API key, whatever its role, may not.
  perform app_hidden.assert_signed_in();
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

create or replace function app_public.revoke_invitation(invitation_id uuid) returns app_public.organization_invitations
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_invitation app_public.organization_invitations;
begin
  -- Member management needs a person: an API key, whatever its role, may not.
  perform app_hidden.assert_signed_in();
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

create or replace function app_public.change_member_role(user_id uuid, role app_public.membership_role)
returns app_public.organization_memberships
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_membership app_public.organization_memberships;
begin
  -- Member management needs a person: an API key, whatever its role, may not.
  perform app_hidden.assert_signed_in();
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

------------------------------------------------------------------------------------------
-- Keys as actors: in the timeline and the audit log
------------------------------------------------------------------------------------------

alter table app_public.incident_updates
  add column author_api_key_id uuid default app_hidden.current_api_key_id();
alter table app_public.incident_updates
  add foreign key (organization_id, author_api_key_id)
    references app_public.api_keys (organization_id, id) on delete set null (author_api_key_id);
create index on app_public.incident_updates (organization_id, author_api_key_id);
comment on column app_public.incident_updates.author_api_key_id is 'The API key that posted the update, when a tool did.';

alter table app_public.audit_log add column actor_api_key_id uuid;
create index on app_public.audit_log (organization_id, actor_api_key_id, occurred_at desc);
comment on column app_public.audit_log.actor_api_key_id is 'The API key that made the change, when a tool did (its row may be gone since).';

create or replace function app_private.tg__audit() returns trigger
language plpgsql
volatile
security definer
set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_ignored text[] := array['created_at', 'updated_at', 'status_changed_at', 'organization_id', 'last_used_at']
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
  insert into app_public.audit_log (
    organization_id, actor_user_id, actor_api_key_id, action, target_table, target_id, changes
  )
  values (v_org, app_hidden.current_user_id(), app_hidden.current_api_key_id(), lower(tg_op), tg_table_name,
          (v_row ->> tg_argv[0])::uuid, coalesce(v_changes, '{}'));
  perform app_private.leave_organization(v_active_org);
  return null;
end;
$$;

grant execute on function app_hidden.current_api_key_id() to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_hidden.create_api_key(text, app_public.membership_role, timestamptz) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
grant execute on function app_public.revoke_api_key(uuid) to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
