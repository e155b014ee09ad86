/**
 * The machinery of the generated isolation matrix (reference/security.md, "Proving isolation"):
 * tenant tables read from the catalog, every actor acting in organization A, and commands
 * generated per table that target organization B. Shared by the exhaustive matrix and the
 * property-based fuzz test.
 */
import { expect } from "vitest";
import type { DatabaseConfig } from "../../src/config.ts";
import type { TestDatabase } from "./database.ts";
import type { FullWorld, KeyRole } from "./fullSeed.ts";
import { becomeUser, type Client } from "./transactions.ts";
import { actAs } from "./world.ts";

export const OUR_SCHEMAS = ["app_public", "app_hidden", "app_private"];

export interface TenantTable {
  /** Qualified name, e.g. app_public.incidents. */
  name: string;
  /** The column naming the organization: organization_id, or id for organizations itself. */
  orgColumn: string;
  columns: string[];
  primaryKey: string[];
  /** Columns the visitor role may read / insert / update. */
  selectable: string[];
  insertable: string[];
  updatable: string[];
}

/**
 * Every table of our schemas with an organization_id column, plus organizations itself (keyed by
 * id): a table added later is in the matrix without anyone listing it.
 */
export async function tenantTables(db: TestDatabase): Promise<TenantTable[]> {
  const { rows } = await db.rootPool.query<TenantTable>(
    `select c.oid::regclass::text as name,
            case when c.oid = 'app_public.organizations'::regclass then 'id' else 'organization_id' end as "orgColumn",
            array(select a.attname::text from pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns,
            array(select a.attname::text from pg_constraint con
                  cross join lateral unnest(con.conkey) with ordinality k(attnum, ord)
                  join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
                  where con.conrelid = c.oid and con.contype = 'p' order by k.ord) as "primaryKey",
            array(select a.attname::text from pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                    and has_column_privilege($2, c.oid, a.attnum, 'SELECT') order by a.attnum) as selectable,
            array(select a.attname::text from pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
                    and has_column_privilege($2, c.oid, a.attnum, 'INSERT') order by a.attnum) as insertable,
            array(select a.attname::text from pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
                    and has_column_privilege($2, c.oid, a.attnum, 'UPDATE') order by a.attnum) as updatable
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind = 'r' and n.nspname = any($1)
       and (c.oid = 'app_public.organizations'::regclass
            or exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'organization_id'
                       and not a.attisdropped))
     order by 1`,
    [OUR_SCHEMAS, db.config.roles.visitor],
  );
  return rows;
}

export const ACTORS = [
  "owner",
  "admin",
  "editor",
  "viewer",
  "both",
  "outsider",
  "strangerClaimingB",
  "keyViewer",
  "keyEditor",
  "keyAdmin",
  "alertSource",
  "anonymous",
] as const;
export type MatrixActor = (typeof ACTORS)[number];

export const MATRIX_ACTOR_LABELS: Record<MatrixActor, string> = {
  owner: "owner of A",
  admin: "admin of A",
  editor: "editor of A",
  viewer: "viewer of A",
  both: "editor of A who owns B (acting in A)",
  outsider: "signed-in user with no membership",
  strangerClaimingB: "signed-in non-member whose token names B",
  keyViewer: "viewer API key of A",
  keyEditor: "editor API key of A",
  keyAdmin: "admin API key of A",
  alertSource: "alert source of A",
  anonymous: "anonymous",
};

const KEY_ACTORS: Partial<Record<MatrixActor, KeyRole>> = {
  keyViewer: "viewer",
  keyEditor: "editor",
  keyAdmin: "admin",
};

/** Switches the open transaction to `actor` (after `reset role`), as the server would. */
export async function actAsMatrix(client: Client, config: DatabaseConfig, full: FullWorld, actor: MatrixActor) {
  if (actor === "keyViewer" || actor === "keyEditor" || actor === "keyAdmin" || actor === "alertSource") {
    const keyRole = KEY_ACTORS[actor];
    await client.query("reset role");
    await client.query(
      `select set_config('role', $1, true), set_config('jwt.claims.user_id', '', true),
              set_config('jwt.claims.session_id', '', true), set_config('jwt.claims.org_id', $2, true),
              set_config('jwt.claims.api_key_id', $3, true), set_config('jwt.claims.alert_source_id', $4, true)`,
      [
        config.roles.visitor,
        full.a.organizationId,
        keyRole ? full.a.apiKeyIds[keyRole] : "",
        actor === "alertSource" ? full.a.alertSourceId : "",
      ],
    );
    return;
  }
  await client.query(
    "select set_config('jwt.claims.api_key_id', '', true), set_config('jwt.claims.alert_source_id', '', true)",
  );
  if (actor === "strangerClaimingB") {
    await becomeUser(client, config, full.world.outsider.id, full.b.organizationId);
    return;
  }
  await actAs(client, config, full.world, actor);
}

/** The user behind an actor, if any. */
export function matrixUserOf(full: FullWorld, actor: MatrixActor): string | null {
  switch (actor) {
    case "owner":
    case "admin":
    case "editor":
    case "viewer":
      return full.world.a.members[actor].id;
    case "both":
      return full.world.both.id;
    case "outsider":
    case "strangerClaimingB":
      return full.world.outsider.id;
    default:
      return null;
  }
}

export const COMMANDS = ["select", "insert", "insertChild", "upsert", "update", "move", "delete"] as const;
export type Command = (typeof COMMANDS)[number];

export const COMMAND_LABELS: Record<Command, string> = {
  select: "SELECT: nothing of B visible",
  insert: "INSERT with B's organization_id: refused",
  insertChild: "INSERT pointing at B's rows: refused or lands in A only",
  upsert: "INSERT … ON CONFLICT against B's keys: refused, reveals nothing",
  update: "UPDATE of B's rows: no effect",
  move: "UPDATE moving A's rows to B: refused or no effect",
  delete: "DELETE of B's rows: no effect",
};

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The rows of a table as the visitor may read them (the columns it holds SELECT on), as JSON
 * text; `where` filters over alias t.
 */
export function readableRows(table: TenantTable, where = "true"): string {
  const columns = (table.selectable.length > 0 ? table.selectable : [table.orgColumn]).map(ident);
  return `select to_jsonb(r)::text as row from (select ${columns.map((c) => `t.${c}`).join(", ")} from ${table.name} t where ${where}) r`;
}

/**
 * Tables whose B rows an actor of A may legitimately see, and which: as root, a predicate over
 * the table (alias t) with $1 the actor's user id (or null).
 */
export const CROSS_ORGANIZATION_READS: Record<string, string> = {
  // The organization switcher: every organization the user belongs to.
  "app_public.organizations":
    "t.id in (select m.organization_id from app_public.organization_memberships m where m.user_id = $1)",
  // One's own memberships, in every organization.
  "app_public.organization_memberships": "t.user_id = $1",
  // The public status page of every published, active organization.
  "app_public.status_snapshots": "t.published and t.active",
};

/** Values that identify B: its id and the id of each of its rows. */
export async function markersOfB(db: TestDatabase, tables: TenantTable[], b: string): Promise<Set<string>> {
  const markers = new Set<string>([b]);
  for (const table of tables) {
    if (!table.columns.includes("id") || table.orgColumn !== "organization_id") continue;
    const { rows } = await db.rootPool.query<{ id: string }>(
      `select id::text as id from ${table.name} where organization_id = $1`,
      [b],
    );
    for (const row of rows) markers.add(row.id);
  }
  return markers;
}

/** One query, as root, that fingerprints B's rows in the given tenant tables. */
export function checksumQuery(tables: TenantTable[]): string {
  const parts = tables.map(
    (table) =>
      `'${table.name}', (select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from ${table.name} t where t.${ident(table.orgColumn)} = $1)`,
  );
  return `select json_build_object(${parts.join(", ")}) as sums`;
}

export async function checksumOfB(client: Client, query: string, b: string): Promise<Record<string, string>> {
  const { rows } = await client.query<{ sums: Record<string, string> }>(query, [b]);
  return rows[0]!.sums;
}

/** A row of B (as JSON), to copy keys and references from; null when B has none. */
export async function sampleRowOfB(db: TestDatabase, table: TenantTable, b: string): Promise<Record<string, unknown>> {
  const { rows } = await db.rootPool.query<{ row: Record<string, unknown> }>(
    `select to_jsonb(t) as row from ${table.name} t where t.${ident(table.orgColumn)} = $1 limit 1`,
    [b],
  );
  return rows[0]?.row ?? {};
}

export interface Statement {
  text: string;
  values: unknown[];
}

/**
 * The statement of a command against B. Values of B's sample row are cast through
 * jsonb_populate_record so every column keeps its type.
 */
export function statementFor(
  table: TenantTable,
  command: Command,
  ids: { a: string; b: string },
  sample: Record<string, unknown>,
): Statement {
  const t = table.name;
  const org = ident(table.orgColumn);
  const from = `from jsonb_populate_record(null::${t}, $1::jsonb) r`;
  const row = JSON.stringify(sample);
  const some = (columns: string[]) => (columns.length > 0 ? columns : table.columns.slice(0, 1));
  switch (command) {
    case "select":
      return { text: readableRows(table), values: [] };
    case "insert": {
      const rest = table.insertable.filter((c) => c !== table.orgColumn).map(ident);
      const columns = [org, ...rest];
      const select = ["$2::uuid", ...rest.map((c) => `r.${c}`)];
      return {
        text: `insert into ${t} (${columns.join(", ")}) select ${select.join(", ")} ${from} returning to_jsonb(${t})::text as row`,
        values: [row, ids.b],
      };
    }
    case "insertChild": {
      if (table.insertable.length === 0) {
        return { text: `insert into ${t} default values returning to_jsonb(${t})::text as row`, values: [] };
      }
      const columns = table.insertable.map(ident);
      return {
        text: `insert into ${t} (${columns.join(", ")}) select ${columns.map((c) => `r.${c}`).join(", ")} ${from} returning to_jsonb(${t})::text as row`,
        values: [row],
      };
    }
    case "upsert": {
      const columns = [...new Set([...table.primaryKey, ...table.insertable, table.orgColumn])].map(ident);
      const key = table.primaryKey.map(ident);
      const set = some(table.updatable).map(ident)[0]!;
      const conflict =
        key.length > 0
          ? `on conflict (${key.join(", ")}) do update set ${set} = excluded.${set}`
          : "on conflict do nothing";
      return {
        text: `insert into ${t} (${columns.join(", ")}) select ${columns
          .map((c) => (c === org ? "$2::uuid" : `r.${c}`))
          .join(", ")} ${from} ${conflict} returning to_jsonb(${t})::text as row`,
        values: [row, ids.b],
      };
    }
    case "update": {
      const column = ident(some(table.updatable)[0]!);
      return {
        text: `update ${t} t set ${column} = t.${column} where t.${org} = $1 returning to_jsonb(t)::text as row`,
        values: [ids.b],
      };
    }
    case "move":
      return {
        text: `update ${t} t set ${org} = $1 where t.${org} = $2 returning to_jsonb(t)::text as row`,
        values: [ids.b, ids.a],
      };
    case "delete":
      return { text: `delete from ${t} t where t.${org} = $1 returning to_jsonb(t)::text as row`, values: [ids.b] };
  }
}

export interface Outcome {
  rows: string[];
  rowCount: number;
  error: { code: string; message: string } | null;
}

/** Runs a statement (and the deferred triggers it queued) in a savepoint, rolled back after. */
export async function runAs(
  client: Client,
  db: TestDatabase,
  full: FullWorld,
  actor: MatrixActor,
  statement: Statement,
  after: (outcome: Outcome) => Promise<void>,
  keep = false,
): Promise<void> {
  await client.query("savepoint matrix_case");
  let ok = false;
  try {
    await actAsMatrix(client, db.config, full, actor);
    let outcome: Outcome;
    await client.query("savepoint matrix_statement");
    try {
      const result = await client.query<{ row: string }>(statement.text, statement.values);
      await client.query("set constraints all immediate");
      await client.query("set constraints all deferred");
      outcome = {
        rows: result.rows.map((r) => r.row ?? JSON.stringify(r)),
        rowCount: result.rowCount ?? 0,
        error: null,
      };
    } catch (error) {
      await client.query("rollback to savepoint matrix_statement");
      const e = error as { code?: string; message?: string; where?: string };
      const message = `${e.message ?? ""}${e.where ? ` (${e.where.split("\n")[0]})` : ""}`;
      outcome = { rows: [], rowCount: 0, error: { code: e.code ?? "unknown", message } };
    }
    await client.query("reset role");
    await after(outcome);
    ok = true;
  } finally {
    if (keep && ok) await client.query("release savepoint matrix_case");
    else await client.query("rollback to savepoint matrix_case");
  }
}

/** Inside one transaction per batch, rolled back: the committed world never changes. */
export async function inRolledBack(db: TestDatabase, fn: (client: Client) => Promise<void>) {
  const client = await db.rootPool.connect();
  try {
    await client.query("begin");
    await fn(client);
  } finally {
    await client.query("rollback").catch(() => undefined);
    client.release();
  }
}

export interface MatrixContext {
  db: TestDatabase;
  full: FullWorld;
  tables: TenantTable[];
  /** Fingerprints B in every table / in one table. */
  checksum: string;
  tableChecksums: Map<string, string>;
  before: Record<string, string>;
  markers: Set<string>;
  samples: Map<string, Record<string, unknown>>;
}

export async function prepareMatrix(db: TestDatabase, full: FullWorld, tables: TenantTable[]): Promise<MatrixContext> {
  const checksum = checksumQuery(tables);
  const client = await db.rootPool.connect();
  let before: Record<string, string>;
  try {
    before = await checksumOfB(client, checksum, full.b.organizationId);
  } finally {
    client.release();
  }
  const markers = await markersOfB(db, tables, full.b.organizationId);
  const samples = new Map<string, Record<string, unknown>>();
  for (const table of tables) samples.set(table.name, await sampleRowOfB(db, table, full.b.organizationId));
  const tableChecksums = new Map(tables.map((table) => [table.name, checksumQuery([table])]));
  return { db, full, tables, checksum, tableChecksums, before, markers, samples };
}

/** B rows an actor may see in a table (as root), by their JSON text. */
async function allowedRowsOfB(client: Client, ctx: MatrixContext, table: TenantTable, userId: string | null) {
  const predicate = CROSS_ORGANIZATION_READS[table.name];
  if (!predicate) return [];
  const { rows } = await client.query<{ row: string }>(
    readableRows(table, `t.${ident(table.orgColumn)} = $1::uuid and (${predicate.replaceAll("$1", "$2::uuid")})`),
    predicate.includes("$1") ? [ctx.full.b.organizationId, userId] : [ctx.full.b.organizationId],
  );
  return rows.map((r) => r.row).sort();
}

const mentionsB = (text: string, markers: Set<string>) => [...markers].some((marker) => text.includes(marker));

/** One cell: `actor` runs `command` on `table` against B; nothing of B is seen or changed. */
export async function checkCase(
  client: Client,
  ctx: MatrixContext,
  table: TenantTable,
  actor: MatrixActor,
  command: Command,
  /** Keep what the statement did (for a check of every table after several cases). */
  keep = false,
) {
  const { full } = ctx;
  const statement = statementFor(
    table,
    command,
    { a: full.a.organizationId, b: full.b.organizationId },
    ctx.samples.get(table.name)!,
  );
  const label = `${table.name} × ${MATRIX_ACTOR_LABELS[actor]} × ${command}`;
  await runAs(
    client,
    ctx.db,
    full,
    actor,
    statement,
    async (outcome) => {
      if (outcome.error) {
        // Refusals are coded; the message never quotes one of B's rows.
        expect(outcome.error.code, `${label}: ${outcome.error.message}`).not.toBe("unknown");
      }
      const b = full.b.organizationId;
      const ofB = outcome.rows.filter((row) => (JSON.parse(row) as Record<string, unknown>)[table.orgColumn] === b);
      if (command === "select") {
        const allowed = await allowedRowsOfB(client, ctx, table, matrixUserOf(full, actor));
        expect(ofB.sort(), `${label}: B rows visible`).toEqual(allowed);
        const others = outcome.rows.filter((row) => !ofB.includes(row));
        expect(
          others.filter((row) => mentionsB(row, ctx.markers)),
          `${label}: rows of A that mention B`,
        ).toEqual([]);
      } else {
        expect(ofB, `${label}: B rows returned`).toEqual([]);
        if (command === "update" || command === "delete") expect(outcome.rowCount, label).toBe(0);
        if (command === "insert" || command === "upsert") expect(outcome.error, `${label}: not refused`).not.toBeNull();
      }
      await expectBUnchanged(client, ctx, label, table);
    },
    keep,
  );
}

/** B's rows, as root, are what they were when the world was seeded: in `table`, or in every table. */
export async function expectBUnchanged(client: Client, ctx: MatrixContext, label: string, table?: TenantTable) {
  const query = table ? ctx.tableChecksums.get(table.name)! : ctx.checksum;
  const after = await checksumOfB(client, query, ctx.full.b.organizationId);
  const changed = Object.keys(after).filter((name) => after[name] !== ctx.before[name]);
  expect(changed, `${label}: B's tables changed`).toEqual([]);
}
