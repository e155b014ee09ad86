/**
 * Schema-wide invariants, checked from the catalog so new tables and functions cannot escape.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";

const OUR_SCHEMAS = ["app_public", "app_hidden", "app_private"];
/**
 * Private tables looked up across organizations by a key from outside (the hash of an
 * invitation token or an API key, Stripe's ids): never readable by the API roles, so neither
 * fenced nor tenant-keyed.
 */
const CROSS_TENANT_LOOKUPS = [
  "app_private.invitation_tokens",
  "app_private.api_key_hashes",
  "app_private.organization_billing",
  "app_private.stripe_events",
  // Alert source secrets: a hook request names only the source.
  "app_private.alert_source_secrets",
  // Subscription links carry only a token: confirming or unsubscribing finds its subscriber by the hash.
  "app_private.subscriber_confirmation_tokens",
  "app_private.subscriber_unsubscribe_tokens",
];
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const rows = async <T>(text: string, values: unknown[] = []) => (await db.rootPool.query(text, values)).rows as T[];

describe("catalog invariants", () => {
  it("has tables to check", async () => {
    const tables = await rows<{ n: number }>(
      "select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname = any($1)",
      [OUR_SCHEMAS],
    );
    expect(tables[0]!.n).toBeGreaterThan(5);
  });

  it("enables and forces row-level security on every table", async () => {
    const offenders = await rows<{ table: string }>(
      `select n.nspname || '.' || c.relname as table
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('r', 'p') and n.nspname = any($1)
         and not (c.relrowsecurity and c.relforcerowsecurity)`,
      [OUR_SCHEMAS],
    );
    expect(offenders).toEqual([]);
  });

  it("pins search_path on every SECURITY DEFINER function and grants none to PUBLIC", async () => {
    const offenders = await rows<{ fn: string; problem: string }>(
      `select p.oid::regprocedure::text as fn,
              case when not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
                   then 'no search_path' else 'executable by PUBLIC' end as problem
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = any($1) and p.prosecdef
         and (
           not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
           or has_function_privilege('public', p.oid, 'execute') and p.proacl is null
           or exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE')
         )`,
      [OUR_SCHEMAS],
    );
    expect(offenders).toEqual([]);
  });

  it("keeps the authenticator NOINHERIT, and no API role superuser or BYPASSRLS", async () => {
    const { roles } = db.config;
    const found = await rows<{ rolname: string; rolinherit: boolean; rolsuper: boolean; rolbypassrls: boolean }>(
      "select rolname, rolinherit, rolsuper, rolbypassrls from pg_roles where rolname = any($1) order by rolname",
      [[roles.owner, roles.authenticator, roles.visitor, roles.anonymous]],
    );
    expect(found).toHaveLength(4);
    for (const role of found) {
      expect(role.rolsuper, role.rolname).toBe(false);
      expect(role.rolbypassrls, role.rolname).toBe(false);
    }
    expect(found.find((r) => r.rolname === roles.authenticator)!.rolinherit).toBe(false);
    const owned = await rows<{ n: number }>(
      "select count(*)::int as n from pg_class c where c.relowner = (select oid from pg_roles where rolname = $1)",
      [roles.authenticator],
    );
    expect(owned[0]!.n).toBe(0);
  });

  it("gives the anonymous role no INSERT, UPDATE, DELETE or TRUNCATE anywhere", async () => {
    const grants = await rows<{ table: string; privilege: string }>(
      `select table_schema || '.' || table_name as table, privilege_type as privilege
       from information_schema.role_table_grants
       where grantee = $1 and privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
       union all
       select table_schema || '.' || table_name, privilege_type
       from information_schema.role_column_grants
       where grantee = $1 and privilege_type in ('INSERT', 'UPDATE')`,
      [db.config.roles.anonymous],
    );
    expect(grants).toEqual([]);
  });

  it("never grants TRUNCATE, and grants nothing in app_private to the API roles", async () => {
    const { visitor, anonymous, authenticator } = db.config.roles;
    const grants = await rows<{ grantee: string; table: string; privilege: string }>(
      `select grantee, table_schema || '.' || table_name as table, privilege_type as privilege
       from information_schema.role_table_grants
       where grantee = any($1) and (privilege_type = 'TRUNCATE' or table_schema = 'app_private')`,
      [[visitor, anonymous, authenticator]],
    );
    expect(grants).toEqual([]);
    const usage = await rows<{ usable: boolean }>(
      "select has_schema_privilege($1, 'app_private', 'usage') or has_schema_privilege($2, 'app_private', 'usage') as usable",
      [visitor, anonymous],
    );
    expect(usage[0]!.usable).toBe(false);
  });

  it("includes organization_id in every key and foreign key between tenant tables", async () => {
    const offenders = await rows<{ constraint: string }>(
      `with tenant_tables as (
         select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
         join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and not a.attisdropped
         where c.relkind = 'r' and n.nspname = any($1)
       )
       select con.conrelid::regclass::text || ' ' || con.conname as constraint
       from pg_constraint con
       where con.conrelid in (select oid from tenant_tables)
         and (con.contype in ('p', 'u') or (con.contype = 'f' and con.confrelid in (select oid from tenant_tables)))
         and not exists (
           select 1 from unnest(con.conkey) k
           join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k
           where a.attname = 'organization_id'
         )
         and con.conrelid::regclass::text <> all ($2)`,
      [OUR_SCHEMAS, CROSS_TENANT_LOOKUPS],
    );
    expect(offenders).toEqual([]);
  });

  it("leads an index with organization_id on every tenant table", async () => {
    const offenders = await rows<{ table: string }>(
      `select c.oid::regclass::text as table
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and not a.attisdropped
       where c.relkind = 'r' and n.nspname = any($1)
         and c.oid::regclass::text <> all ($2)
         and not exists (select 1 from pg_index i where i.indrelid = c.oid and i.indkey[0] = a.attnum)`,
      [OUR_SCHEMAS, CROSS_TENANT_LOOKUPS],
    );
    expect(offenders).toEqual([]);
  });

  it("indexes every foreign key between tenant tables by its columns", async () => {
    // FK checks and cascades scan the referencing table; PostGraphile hides unindexed backward relations.
    const offenders = await rows<{ constraint: string }>(
      `select con.conrelid::regclass::text || ' ' || con.conname as constraint
       from pg_constraint con join pg_namespace n on n.oid = con.connamespace
       where con.contype = 'f' and n.nspname = any($1)
         and not exists (
           select 1 from pg_index i
           where i.indrelid = con.conrelid
             and (select array_agg(k order by k) from unnest(con.conkey) k)
               = (select array_agg(k order by k) from unnest((i.indkey::int2[])[0:cardinality(con.conkey) - 1]) k)
         )`,
      [OUR_SCHEMAS],
    );
    expect(offenders).toEqual([]);
  });

  it("has no view without security_invoker", async () => {
    const offenders = await rows<{ view: string }>(
      `select c.oid::regclass::text as view from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('v', 'm') and n.nspname = any($1)
         and not coalesce('security_invoker=true' = any(c.reloptions), false)`,
      [OUR_SCHEMAS],
    );
    expect(offenders).toEqual([]);
  });

  it("wraps request-context helpers in (select …) in every policy", async () => {
    const offenders = await rows<{ policy: string; qual: string }>(
      `select schemaname || '.' || tablename || ' ' || policyname as policy, coalesce(qual, '') || ' ' || coalesce(with_check, '') as qual
       from pg_policies where schemaname = any($1)`,
      [OUR_SCHEMAS],
    );
    const bare = offenders.filter(({ qual }) =>
      // Remove every wrapped call, then look for a helper call left over.
      /app_hidden\.current_\w+\(\)/.test(qual.replace(/\(\s*select\s+app_hidden\.current_\w+\(\)[^)]*\)/gi, "")),
    );
    expect(bare).toEqual([]);
  });

  /**
   * Tenant tables read across organizations on purpose: the identity tables (sign-in and
   * invitations) and the status snapshots, which the public reads by slug under their own
   * policy (published and active only).
   */
  const IDENTITY_TABLES = [
    "app_public.organization_memberships",
    "app_public.organization_invitations",
    "app_public.status_snapshots",
  ];
  /** Derived data, rebuilt from audited tables: the audit log itself, uptime rollups, snapshots. */
  const DERIVED_TABLES = [
    "app_public.audit_log",
    "app_public.service_uptime_days",
    "app_public.status_snapshots",
    // Written by deferred triggers at commit; the change itself is audited.
    "app_public.events",
    // A log of requests to alert sources: itself the record of what happened.
    "app_public.alert_requests",
  ];

  it("fences every other tenant table with the restrictive organization policy", async () => {
    const offenders = await rows<{ table: string }>(
      `select c.oid::regclass::text as table
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and not a.attisdropped
       where c.relkind = 'r' and n.nspname = any($1)
         and c.oid::regclass::text <> all ($2)
         and c.oid::regclass::text <> all ($3)
         and not exists (
           select 1 from pg_policy p
           where p.polrelid = c.oid and not p.polpermissive and p.polroles = '{0}'
             and pg_get_expr(p.polqual, p.polrelid) like '%organization_id = ( SELECT app_hidden.current_org_id()%'
         )`,
      [OUR_SCHEMAS, IDENTITY_TABLES, CROSS_TENANT_LOOKUPS],
    );
    expect(offenders).toEqual([]);
  });

  it("fills organization_id from the request wherever the visitor may insert", async () => {
    const offenders = await rows<{ table: string }>(
      `select c.oid::regclass::text as table
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and not a.attisdropped
       left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
       where c.relkind = 'r' and n.nspname = any($1)
         and has_any_column_privilege($2, c.oid, 'insert')
         and coalesce(pg_get_expr(d.adbin, d.adrelid), '') <> 'app_hidden.current_org_id()'`,
      [OUR_SCHEMAS, db.config.roles.visitor],
    );
    expect(offenders).toEqual([]);
  });

  it("audits every tenant table", async () => {
    const offenders = await rows<{ table: string }>(
      `select c.oid::regclass::text as table
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and not a.attisdropped
       where c.relkind = 'r' and n.nspname = 'app_public'
         and c.oid::regclass::text <> all ($1)
         and not exists (
           select 1 from pg_trigger t where t.tgrelid = c.oid and t.tgfoid = 'app_private.tg__audit()'::regprocedure
         )`,
      [DERIVED_TABLES],
    );
    expect(offenders).toEqual([]);
  });
});
