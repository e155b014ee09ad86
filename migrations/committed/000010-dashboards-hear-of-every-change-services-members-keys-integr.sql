--! Previous: sha1:1aaee0d0f375d0e471fb6a409d64179c8b712a57
--! Hash: sha1:9d6fd25a9ad086d15270ef37e9f36a320f9482f6
--! Message: dashboards hear of every change: services, members, keys, integrations, deliveries and subscribers announce on organization_events

------------------------------------------------------------------------------------------
-- Dashboards also hear of changes that are not integration events (a service added, a member
-- invited, a webhook delivered...): each announces `changed` on organization_events, ids only.
-- PostgreSQL folds identical notifications of one transaction into one, so a statement that
-- touches many rows announces once per table.
------------------------------------------------------------------------------------------

drop function if exists app_private.tg__announce_change cascade;
create function app_private.tg__announce_change() returns trigger
language plpgsql
volatile
set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform pg_notify('organization_events', json_build_object(
    'organizationId', to_jsonb(coalesce(new, old)) ->> 'organization_id',
    'id', '', 'type', 'changed', 'subjectId', '', 'table', tg_table_name
  )::text);
  return null;
end;
$$;

do $$
declare
  v_table text;
begin
  foreach v_table in array array[
    'services', 'service_groups', 'maintenance_services', 'incident_attachments', 'organization_memberships',
    'organization_invitations', 'api_keys', 'status_page_settings', 'webhook_endpoints', 'chat_integrations',
    'webhook_deliveries', 'alert_sources', 'alert_requests', 'subscribers'
  ] loop
    execute format(
      'create trigger _910_announce_change after insert or update or delete on app_public.%I
         for each row execute function app_private.tg__announce_change()', v_table);
  end loop;
end;
$$;
