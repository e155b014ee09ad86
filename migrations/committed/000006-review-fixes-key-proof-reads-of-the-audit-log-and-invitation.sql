--! Previous: sha1:2c05e20c47be681f5cd15c10bfea50dcbcc38e3f
--! Hash: sha1:1d208151323f930fece1cf971a9df8e814b03db4
--! Message: review fixes: key-proof reads of the audit log and invitations, deleted pages leave the cache

-- Re-runnable while it is work in progress.
drop trigger if exists _900_status_page_gone on app_public.organizations;
drop function if exists app_private.tg_organizations__status_page_gone cascade;

-- What only people may manage, only people may read: API keys (even admin ones) see neither
-- the audit log nor pending invitations.
alter policy select_admin on app_public.audit_log using (
  (select app_hidden.current_org_role()) >= 'admin'
  and (select app_hidden.current_user_id()) is not null
);
alter policy select_admin on app_public.organization_invitations using (
  organization_id = (select app_hidden.current_org_id())
  and (select app_hidden.current_org_role()) >= 'admin'
  and (select app_hidden.current_user_id()) is not null
);

/*
 * Deleting an organization deletes its snapshot by cascade; web processes must hear of it
 * too, or they would keep serving the page from memory. The version is beyond any real one,
 * so every process reloads, finds nothing and drops the page (and ends its streams).
 */
create function app_private.tg_organizations__status_page_gone() returns trigger
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform pg_notify('status_snapshots', json_build_object(
    'organizationId', old.id, 'slug', old.slug, 'previousSlug', old.slug, 'version', 9007199254740991
  )::text);
  return null;
end;
$$;
create trigger _900_status_page_gone after delete on app_public.organizations
  for each row execute function app_private.tg_organizations__status_page_gone();
