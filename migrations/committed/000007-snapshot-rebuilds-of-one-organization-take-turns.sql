--! Previous: sha1:1d208151323f930fece1cf971a9df8e814b03db4
--! Hash: sha1:08cd46f323c03eacda998bf19a3f794c6fd9be9d
--! Message: snapshot rebuilds of one organization take turns

/*
 * Two rebuild jobs of one organization could run at once (graphile-worker starts a new job
 * for the key while the previous one runs): the one that read the data first could then store
 * its older view after the newer one. A per-organization advisory lock, taken before reading,
 * orders them.
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
  return v_version;
end;
$$;
