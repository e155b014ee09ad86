-- Runs as the superuser right after the database is (re)created, before any migration.
begin;
revoke all on database :DATABASE_NAME from public;
grant connect on database :DATABASE_NAME to :DATABASE_OWNER, :DATABASE_AUTHENTICATOR;
grant all on database :DATABASE_NAME to :DATABASE_OWNER;
alter schema public owner to :DATABASE_OWNER;
revoke all on schema public from public;
grant usage on schema public to :DATABASE_VISITOR, :DATABASE_ANONYMOUS;
create extension if not exists citext with schema public;
create extension if not exists pgcrypto with schema public;
commit;
