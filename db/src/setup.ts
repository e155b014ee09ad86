/**
 * Bringing a database to the current schema: roles (idempotently, before any migration),
 * the database itself, graphile-migrate's committed migrations, and graphile-worker's schema.
 */
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import pg from "pg";
import { Logger as MigrateLogger, migrate, reset, watch, type Settings } from "graphile-migrate";
// Not re-exported from the package root: reads .gmrc exactly as the graphile-migrate CLI does.
import { getSettings } from "graphile-migrate/dist/commands/_common.js";
import { runMigrations as installWorkerSchema } from "graphile-worker";
import type { DatabaseConfig } from "./config.ts";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function passwordOf(url: string): string {
  const password = decodeURIComponent(new URL(url).password);
  if (!password) throw new Error("Database URLs must carry a password for the owner and authenticator roles.");
  return password;
}

/** Creates or re-asserts the four roles of DESIGN.md §3. Safe to run on every start. */
export async function ensureRoles(config: DatabaseConfig): Promise<void> {
  if (!config.rootUrl) return;
  const { owner, authenticator, visitor, anonymous } = config.roles;
  const ensure = (role: string, attributes: string) => `
    do $$ begin
      if not exists (select 1 from pg_roles where rolname = ${quoteLiteral(role)}) then
        create role ${quoteIdent(role)};
      end if;
    end $$;
    alter role ${quoteIdent(role)} ${attributes};`;
  await withClient(config.rootUrl, async (client) => {
    // Concurrent starts against one server must not race on role creation.
    await client.query("select pg_advisory_lock(hashtext('incidentpulse:roles'))");
    try {
      await client.query(
        ensure(
          owner,
          `login nosuperuser nocreaterole nobypassrls password ${quoteLiteral(passwordOf(config.ownerUrl))}`,
        ) +
          ensure(
            authenticator,
            `login noinherit nosuperuser nocreatedb nocreaterole nobypassrls password ${quoteLiteral(passwordOf(config.authenticatorUrl))}`,
          ) +
          ensure(visitor, "nologin nosuperuser nobypassrls") +
          ensure(anonymous, "nologin nosuperuser nobypassrls") +
          `grant ${quoteIdent(visitor)}, ${quoteIdent(anonymous)} to ${quoteIdent(authenticator)};` +
          // The owner grants privileges to these roles in migrations.
          `grant ${quoteIdent(visitor)}, ${quoteIdent(anonymous)} to ${quoteIdent(owner)};`,
      );
    } finally {
      await client.query("select pg_advisory_unlock(hashtext('incidentpulse:roles'))");
    }
  });
}

export async function migrationSettings(config: DatabaseConfig): Promise<Settings> {
  const fromFile = await getSettings({ configFile: resolve(PROJECT_ROOT, ".gmrc") });
  return {
    ...fromFile,
    migrationsFolder: resolve(PROJECT_ROOT, "migrations"),
    connectionString: config.ownerUrl,
    rootConnectionString: config.rootUrl,
    shadowConnectionString: config.shadowUrl,
    databaseOwner: config.roles.owner,
    // :DATABASE_NAME and :DATABASE_OWNER are provided by graphile-migrate itself.
    placeholders: {
      ":DATABASE_AUTHENTICATOR": config.roles.authenticator,
      ":DATABASE_VISITOR": config.roles.visitor,
      ":DATABASE_ANONYMOUS": config.roles.anonymous,
    },
    logger: quietLogger,
  };
}

// graphile-migrate narrates every step; keep its warnings and errors only.
const quietLogger = new MigrateLogger(() => (level, message) => {
  if (level === "error" || level === "warning") console.warn(message);
});

async function databaseExists(config: DatabaseConfig): Promise<boolean> {
  if (!config.rootUrl) return true;
  return withClient(config.rootUrl, async (client) => {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [config.name]);
    return rowCount === 1;
  });
}

/**
 * graphile-migrate refuses to run while another process migrates (an advisory lock, tried
 * once). Web and worker processes starting together take turns instead: the later one waits
 * and then finds nothing left to do.
 */
async function migrateWhenNobodyElseIs(settings: Parameters<typeof migrate>[0], attempts = 120): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrate(settings);
    } catch (error) {
      if (!/Failed to get exclusive lock/.test((error as Error).message) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export interface PrepareOptions {
  /** Drop and recreate the database first (tests, `npm run db -- reset`). */
  reset?: boolean;
  /** Also apply migrations/current.sql, the schema work in progress (tests during development). */
  includeCurrent?: boolean;
}

/** Roles, database, committed migrations and the worker schema; returns whether the database was new. */
export async function prepareDatabase(config: DatabaseConfig, options: PrepareOptions = {}): Promise<boolean> {
  await ensureRoles(config);
  const settings = await migrationSettings(config);
  const fresh = options.reset || !(await databaseExists(config));
  if (fresh) {
    if (!config.rootUrl) throw new Error("ROOT_DATABASE_URL is needed to create the database.");
    await reset(settings);
  } else {
    await migrateWhenNobodyElseIs(settings);
  }
  if (options.includeCurrent) await watch(settings, true);
  await installWorkerSchema({ connectionString: config.ownerUrl, logger: quietLogger });
  return fresh;
}

export interface InstanceSettings {
  multiTenant: boolean;
  billingGraceDays: number;
  /** How long an owner's request to delete the organization can be canceled. */
  organizationDeletionGraceDays: number;
}

/** Tells the database how the server runs (DESIGN.md §7), so triggers and SQL agree with it. */
export async function recordInstanceSettings(ownerUrl: string, settings: InstanceSettings): Promise<void> {
  await withClient(ownerUrl, async (client) => {
    await client.query(
      `update app_private.instance_settings
       set multi_tenant_enabled = $1, billing_grace_days = $2, organization_deletion_grace_days = $3,
           updated_at = now()`,
      [settings.multiTenant, settings.billingGraceDays, settings.organizationDeletionGraceDays],
    );
    if (!settings.multiTenant) await client.query("select app_private.ensure_default_organization()");
  });
}
