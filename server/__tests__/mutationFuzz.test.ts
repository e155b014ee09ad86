/**
 * Every GraphQL mutation, fuzzed over HTTP. The schema is introspected and, per mutation, a
 * fast-check arbitrary is built from its input type tree: each field gets either a plausible
 * value aimed at organization A's own rows (so requests get past "not found" into validation,
 * constraints and triggers) or a hostile one: the wrong JSON type, null, a huge or odd unicode
 * string, an edge number, an impossible date, a malformed UUID or node id, an unknown field, a
 * very long list, a body over the server's limit. A's owner (and an admin API key) sends it.
 *
 * Whatever comes in, three things must hold for every call:
 *   - no HTTP 5xx but the documented server-side ones (billing not set up, timeouts);
 *   - every error carries an `extensions.code`, never INTERNAL_SERVER_ERROR (a body over the
 *     limit is a 413 PAYLOAD_TOO_LARGE);
 *   - a refused mutation (errors and no data for the field) changed nothing: the row count of
 *     every table of our schemas (read from the catalog, so new tables are covered) and a
 *     checksum of A's rows in every tenant table are the same before and after.
 * An accepted mutation's result becomes the new baseline. Requests go one at a time and nothing
 * else writes meanwhile (no worker runs), so any difference is the refused request's doing.
 * Mutations that end the session or the organization run last, and A's owner is signed in again
 * whenever a mutation took the session or the ownership away, so later runs still reach the
 * database.
 *
 * On failure the fast-check report (seed, counterexample) is printed per mutation; replay with
 * `FC_SEED=<seed>` (earlier mutations change the state later ones see, so replay the file).
 * `FC_RUNS` sets the runs per mutation, `FC_TRACE=1` prints every call.
 */
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import {
  GraphQLError,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedOrganizationFully } from "../../db/__tests__/helpers/fullSeed.ts";
import {
  checksumQuery,
  OUR_SCHEMAS,
  tenantTables,
  type TenantTable,
} from "../../db/__tests__/helpers/isolationMatrix.ts";
import {
  documentOf,
  expectCodedAnswer,
  introspectSchema,
  listRowsByType,
  normalize,
  type ListedRow,
} from "./helpers/graphqlSchema.ts";
import { maskError } from "../src/errors.ts";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { fixtureOf } from "./helpers/organizationFixture.ts";
import {
  graphql,
  login,
  PASSWORD,
  startTestServer,
  type GraphQLResponse,
  type TestServer,
} from "./helpers/testServer.ts";

/** Runs per mutation: 8 keep the file near a minute on two cores (the whole suite has a budget). */
const RUNS_PER_MUTATION = Number(process.env.FC_RUNS ?? 8);
/** grafserv's maxRequestLength (graphile.config.ts): longer bodies are refused with a 413. */
const BODY_LIMIT = 1_000_000;
/** Prints every call (its answer's code and the variables sent) when set. */
const TRACE = Boolean(process.env.FC_TRACE);
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : randomBytes(4).readInt32LE();

/**
 * Tables a refused request writes on purpose, left out of the comparison. Keep this short:
 * every entry is a place where a partial write would go unnoticed.
 */
const WRITTEN_WHEN_REFUSED = new Set([
  // Sign-in and sign-up throttle counters (auth/loginThrottle.ts): every attempt is counted
  // before it is judged, in a connection of its own, so refused ones count most of all.
  "app_private.rate_limits",
]);

/** Mutations that end the caller's session or organization, run last and in this order. */
const LAST = [
  "requestOrganizationDeletion",
  "cancelOrganizationDeletion",
  "switchOrganization",
  "changePassword",
  "logout",
];
/** Mutations that remove rows: after the others, so the rows they remove were there for them to fuzz. */
const REMOVING = /^(delete|remove|revoke)/;
/** The fields each listed row keeps: ids, references and the unique keys `…ByName` mutations take. */
const isListedField = (field: string) =>
  ["id", "rowId", "name", "email", "slug"].includes(field) || field.endsWith("Id");

type ActorName = "owner" | "admin key";

interface Snapshot {
  counts: Record<string, number>;
  sums: Record<string, string>;
}

let server: TestServer;
let schema: GraphQLSchema;
let A: OrganizationMembers;
let snapshotQuery: string;
let baseline: Snapshot;
/** A's rows as its owner lists them, by node type: the targets of plausible ids and keys. */
let rowsOfA = new Map<string, ListedRow[]>();
let eventTypes: string[] = [];
const actor = { owner: "", key: "", keyId: "", slug: "" };
const tally = { runs: 0, refused: 0, accepted: 0, oversized: 0, codes: new Map<string, number>() };
const covered = new Set<string>();

beforeAll(async () => {
  server = await startTestServer({
    MULTI_TENANT_ENABLED: "true",
    // The fuzzed logins would otherwise lock out the owner's own sign-ins (throttle.test.ts
    // covers the throttle).
    LOGIN_MAX_FAILURES_PER_EMAIL: "1000000",
    LOGIN_MAX_FAILURES_PER_ADDRESS: "1000000",
  });
  A = await organizationWithMembers(server, `fuzz-${randomBytes(3).toString("hex")}`);
  await seedOrganizationFully(server.db.rootPool, fixtureOf(A), "fuzz");
  actor.owner = A.tokens.owner;
  actor.slug = A.slug;
  await createActorKey();
  schema = await introspectSchema(server.url);
  const types = await graphql(server.url, "{ eventTypes }", {}, { token: actor.owner });
  eventTypes = types.data!.eventTypes as string[];
  await refreshRowsOfA();
  snapshotQuery = await snapshotQueryFor(await tenantTables(server.db));
  baseline = await snapshot();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// The state compared around each call
// ---------------------------------------------------------------------------------------------

/**
 * One query: the row count of every table of our schemas (all organizations, users, sessions)
 * and the checksum of A's rows per tenant table ($1 = A).
 */
async function snapshotQueryFor(tables: TenantTable[]): Promise<string> {
  const { rows } = await server.db.rootPool.query<{ name: string }>(
    `select c.oid::regclass::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname = any($1) order by 1`,
    [OUR_SCHEMAS],
  );
  const counts = rows.map(({ name }) => `('${name}', (select count(*) from ${name}))`).join(", ");
  return `select (select json_object_agg(name, n) from (values ${counts}) v(name, n)) as counts,
                 (${checksumQuery(tables)}) as sums`;
}

async function snapshot(): Promise<Snapshot> {
  const { rows } = await server.db.rootPool.query<Snapshot>(snapshotQuery, [A.organizationId]);
  return rows[0]!;
}

/** Tables whose count or whose rows of A differ, but for those refused requests write. */
function changedTables(before: Snapshot, after: Snapshot): string[] {
  const names = new Set([...Object.keys(before.counts), ...Object.keys(after.counts), ...Object.keys(after.sums)]);
  return [...names]
    .filter((name) => !WRITTEN_WHEN_REFUSED.has(name))
    .filter((name) => before.counts[name] !== after.counts[name] || before.sums[name] !== after.sums[name])
    .sort();
}

// ---------------------------------------------------------------------------------------------
// The actors: A's owner and an admin API key of A, restored when a mutation took them away
// ---------------------------------------------------------------------------------------------

/** An admin key that never records its use (its last use is in the future), so using it writes nothing. */
async function createActorKey() {
  const created = await graphql(
    server.url,
    `
      mutation K($input: CreateApiKeyInput!) {
        createApiKey(input: $input) {
          token
          apiKey {
            rowId
          }
        }
      }
    `,
    { input: { name: "fuzz actor", role: "admin" } },
    { token: actor.owner },
  );
  expect(created.errors).toBeUndefined();
  actor.key = created.data!.createApiKey.token as string;
  actor.keyId = created.data!.createApiKey.apiKey.rowId as string;
  await server.db.rootPool.query(
    "update app_public.api_keys set last_used_at = now() + interval '1 year' where id = $1",
    [actor.keyId],
  );
}

const OWNER_CHECK = "{ currentOrganization { rowId slug } currentMembership { role } }";

/** Whether the owner's token still acts as owner in A; also notes A's slug (a patch may change it). */
async function ownerStillActs(): Promise<boolean> {
  const result = await graphql(server.url, OWNER_CHECK, {}, { token: actor.owner });
  const organization = result.data?.currentOrganization as { rowId: string; slug: string } | null | undefined;
  if (organization?.rowId === A.organizationId) actor.slug = organization.slug;
  return organization?.rowId === A.organizationId && result.data?.currentMembership?.role === "owner";
}

async function keyStillActs(): Promise<boolean> {
  const result = await graphql(server.url, "{ currentOrganization { rowId } }", {}, { token: actor.key });
  return result.data?.currentOrganization?.rowId === A.organizationId;
}

/**
 * Makes A's owner an owner of A again, with the test password, and signs in afresh: a fuzzed
 * logout, password change, role change or removal may have taken any of it away.
 */
async function restoreOwner() {
  const { userId, email } = A.users.owner;
  const client = await server.db.rootPool.connect();
  try {
    // In A, as the seed writes: triggers that record events are fenced to the active organization.
    await client.query("begin");
    await client.query("select set_config('jwt.claims.org_id', $1, true)", [A.organizationId]);
    await client.query(
      `insert into app_public.organization_memberships (organization_id, user_id, role) values ($1, $2, 'owner')
       on conflict (organization_id, user_id) do update set role = 'owner'`,
      [A.organizationId, userId],
    );
    await client.query(
      "update app_private.user_credentials set password_hash = app_private.hash_password($2) where user_id = $1",
      [userId, PASSWORD],
    );
    await client.query("commit");
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
  const signedIn = await login(server.url, email);
  expect(signedIn.errors, "signing A's owner in again").toBeUndefined();
  const switched = await graphql(
    server.url,
    `
      mutation S($id: UUID!) {
        switchOrganization(input: { organizationId: $id }) {
          token
        }
      }
    `,
    { id: A.organizationId },
    { token: signedIn.data!.login.token as string },
  );
  expect(switched.errors, "switching A's owner to A").toBeUndefined();
  actor.owner = switched.data!.switchOrganization.token as string;
  expect(await ownerStillActs(), "A's owner restored").toBe(true);
}

/** After an accepted mutation: both actors still act in A, restored if not (a new baseline then). */
async function keepActorsUsable() {
  let restored = false;
  if (!(await ownerStillActs())) {
    await restoreOwner();
    restored = true;
  }
  if (!(await keyStillActs())) {
    await createActorKey();
    restored = true;
  }
  if (restored) baseline = await snapshot();
}

async function refreshRowsOfA() {
  rowsOfA = await listRowsByType(server.url, schema, actor.owner, isListedField);
  // The owner's other organizations (createOrganization makes some) are not A's.
  rowsOfA.set(
    "Organization",
    (rowsOfA.get("Organization") ?? []).filter((row) => row.rowId === A.organizationId),
  );
  // The acting key must survive revokeApiKey: it is no target.
  rowsOfA.set(
    "ApiKey",
    (rowsOfA.get("ApiKey") ?? []).filter((row) => row.rowId !== actor.keyId),
  );
}

// ---------------------------------------------------------------------------------------------
// Values: plausible ones aimed at A's rows, and hostile ones
// ---------------------------------------------------------------------------------------------

/** A long string, sent whole but printed short in fast-check's reports. */
class Repeated {
  constructor(
    readonly unit: string,
    readonly count: number,
  ) {}
  toJSON(): string {
    return this.unit.repeat(this.count);
  }
  [fc.toStringMethod](): string {
    return `${fc.stringify(this.unit)} × ${this.count}`;
  }
}

/** A list of `count` copies of a value, printed short; emails get a prefix each, to stay distinct. */
class LongList {
  constructor(
    readonly item: unknown,
    readonly count: number,
  ) {}
  toJSON(): unknown[] {
    const item = this.item;
    const distinct = typeof item === "string" && item.includes("@");
    return Array.from({ length: this.count }, (_, i) => (distinct ? `${i}${item}` : item));
  }
  [fc.toStringMethod](): string {
    return `[${fc.stringify(this.item)}, … × ${this.count}]`;
  }
  /** Up to `count` copies, fewer when the item is big: the list stays near the body limit, not gigabytes. */
  static upTo(item: unknown, count: number): LongList {
    const size = JSON.stringify(item ?? null).length + 1;
    return new LongList(item, Math.max(1, Math.min(count, Math.floor(1_500_000 / size))));
  }
}

const deepObject = (depth: number): unknown => (depth === 0 ? "bottom" : { nested: deepObject(depth - 1) });

/**
 * How hostile a case is. `plausible`: what a client would send, aimed at A's rows; it gets
 * accepted often, so the state moves and later cases meet rows made by earlier ones. `typed`:
 * every value has its field's type (a string for a String, an existing enum value, a
 * well-formed UUID), so GraphQL lets it through and the server and database must cope with
 * what is inside: huge and odd strings, edge numbers, impossible dates, foreign or forged ids,
 * nulls, empty patches, long lists. `rough`: anything goes as well (the wrong JSON type, null
 * for required fields, missing or unknown fields), which GraphQL's coercion must refuse, coded.
 */
type Mode = "plausible" | "typed" | "rough";

/** Values of the wrong JSON type for anything. */
const wrongJsonType = fc.constantFrom<unknown>(
  {},
  { value: 1 },
  [],
  [1, "two", null],
  true,
  0,
  -1.5,
  "text",
  deepObject(60),
);

/** Strings that pass GraphQL's String type and must be handled (or refused, coded) further in. */
const hostileString = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "\u0000",
      "a\u0000b",
      "\ud800",
      "x\udfff\ud800y",
      "🔥🚨".repeat(40),
      "e\u0301\u0302\u0303\u0304",
      "\u202Egnp.exe\u202C",
      "שלום עולם",
      "\u200B\u200C\u200D\uFEFF",
      "'; drop table app_public.incidents; --",
      "%s%n%x\\",
      "line\nbreak\r\ttab",
      "<script>alert(1)</script>",
      "null",
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(new Repeated("x", 100_000), new Repeated("é", 60_000), new Repeated("🔥", 30_000)),
  },
  // Over the server's body limit: a coded 413, never a 500.
  { weight: 1, arbitrary: fc.constant(new Repeated("y", BODY_LIMIT + 100_000)) },
);

/** Ints at the edges of GraphQL's 32-bit Int, and (rough) beyond it or not integers at all. */
const hostileInt = (mode: Mode) =>
  fc.constantFrom<unknown>(
    -1,
    0,
    -0,
    2 ** 31 - 1,
    -(2 ** 31),
    ...(mode === "rough" ? [2 ** 31, 2 ** 53 + 1, 1e308, -1e308, 1.5, "7"] : []),
  );

const hostileDatetime = fc.constantFrom(
  "0000-01-01",
  "0001-01-01T00:00:00Z",
  "10000-01-01T00:00:00Z",
  "2024-02-30T00:00:00Z",
  "2024-02-30",
  "2024-13-01",
  "not a date",
  "+275760-09-13T00:00:00Z",
  "294277-01-01T00:00:00Z",
  "99999999999-01-01",
  "infinity",
  "-infinity",
  "epoch",
  "1970-01-01T00:00:00+25:00",
  "2000-01-01 BC",
  "",
);

/** Well-formed UUIDs of no row; (rough) malformed ones. */
const hostileUuid = (mode: Mode) =>
  fc.oneof(
    fc.uuid(),
    fc.constantFrom(
      "00000000-0000-0000-0000-000000000000",
      "ffffffff-ffff-ffff-ffff-ffffffffffff",
      "00000000000000000000000000000000",
      ...(mode === "rough"
        ? [
            "not-a-uuid",
            "",
            "00000000-0000-0000-0000-00000000000g",
            "00000000-0000-0000-0000-0000000000000",
            "{00000000-0000-0000-0000-000000000000}",
          ]
        : []),
    ),
  );

const base64 = (text: string) => Buffer.from(text).toString("base64");

/**
 * Node ids that are not one of A's rows of the type: another type's, forged ones (base64 JSON
 * naming the type with a bad key, too few or too many keys, an unknown type) and garbage.
 */
function hostileNodeIds(entity: string | null): fc.Arbitrary<unknown> {
  const type = entity ?? "Incident";
  const otherTypes = [...rowsOfA.keys()].filter((name) => name !== entity);
  return fc.oneof(
    fc.constantFrom<unknown>(
      base64(JSON.stringify([type, "not-a-uuid"])),
      base64(JSON.stringify([type])),
      base64(JSON.stringify([type, "00000000-0000-0000-0000-000000000000"])),
      base64(JSON.stringify([type, "00000000-0000-0000-0000-000000000000", "extra"])),
      base64(JSON.stringify([type, { rowId: 1 }])),
      base64(JSON.stringify([type, null])),
      base64(JSON.stringify([type, 2 ** 53 + 1])),
      base64(JSON.stringify(["NoSuchType", "00000000-0000-0000-0000-000000000000"])),
      base64(JSON.stringify({})),
      base64("["),
      base64("garbage"),
      "not base64 !!!",
      "",
      12345,
    ),
    fc.nat().map((i) => pick(rowsOfA.get(pick(otherTypes, i) ?? "") ?? [], i)?.id ?? "missing"),
  );
}

const pick = <T>(list: readonly T[], index: number): T | undefined =>
  list.length === 0 ? undefined : list[index % list.length];

/** Where a value goes: its field name, the input type holding it, the mutation and its entity, the mode. */
interface Slot {
  name: string;
  parent: string;
  mutation: string;
  entity: string | null;
  depth: number;
  mode: Mode;
}

/** The node type a field like `incidentId`, `defaultServiceId`, `assigneeId` or `rowId` names. */
function entityOfSlot(slot: Slot): string | null {
  const stem = normalize(slot.name.replace(/(Row)?Ids?$/, ""));
  if (stem === "" || stem === "row") return slot.entity;
  if (stem === "assignee") return "User";
  const types = [...rowsOfA.keys()].sort((x, y) => y.length - x.length);
  return (
    types.find((type) => normalize(type) === stem) ??
    types.find((type) => normalize(type).endsWith(stem)) ??
    types.find((type) => stem.endsWith(normalize(type))) ??
    slot.entity
  );
}

/** The node type a mutation is about: `updateIncidentById` → Incident, `rotateAlertSourceSecret` → AlertSource. */
function entityOfMutation(name: string): string | null {
  const types = [...rowsOfA.keys()];
  const crud = /^(?:create|update|delete)(.+?)(?:By[A-Z]\w*)?$/.exec(name);
  if (crud && types.includes(crud[1]!)) return crud[1]!;
  const normalized = normalize(name);
  return types.sort((x, y) => y.length - x.length).find((type) => normalized.includes(normalize(type))) ?? null;
}

/** A value one of A's listed rows of `entity` has in `field`, drawn when the run is generated. */
const existing = (entity: string | null, field: string, fallback: string): fc.Arbitrary<string> =>
  fc.nat().map(
    (i) =>
      pick(
        (rowsOfA.get(entity ?? "") ?? []).filter((row) => row[field]),
        i,
      )?.[field] ?? fallback,
  );

/** The row id of any of A's rows, whatever its type: a real id of the wrong kind. */
const anyRowIdOfA = fc.nat().map((i) => {
  const ids = [...rowsOfA.values()].flat().flatMap((row) => (row.rowId ? [row.rowId] : []));
  return pick(ids, i) ?? A.organizationId;
});

/** The key field of `…ByName`, `…ByEmail` and `…BySlug` inputs: it names an existing row. */
const isUniqueKeyOf = (slot: Slot) =>
  slot.parent.endsWith(`By${slot.name[0]!.toUpperCase()}${slot.name.slice(1)}Input`);

let drawn = 0;
/** A word no other run drew: fresh names, slugs and emails get past uniqueness into validation. */
const uniqueWord = fc.nat().map((n) => `${n}-${++drawn}`);
const freshSlug = uniqueWord.map((word) => `fuzz-${word}`);
/** A's slug when the run is drawn (a patch may have changed it). */
const currentSlug = fc.constant(null).map(() => actor.slug);

/**
 * A string for a field, by its name: what a client would send (`usual`) and, but in plausible
 * cases, what a client might send that clashes with what is there (`clashing`): a taken name
 * or email, the current slug, an unknown time zone or event type, another password.
 */
function plausibleString(slot: Slot): fc.Arbitrary<unknown> {
  const { name } = slot;
  const choose = (usual: fc.Arbitrary<unknown>, clashing: fc.Arbitrary<unknown>) =>
    slot.mode === "plausible" ? usual : fc.oneof(usual, clashing);
  if (isUniqueKeyOf(slot)) return existing(slot.entity, name, "missing");
  if (/password/i.test(name)) return choose(fc.constant(PASSWORD), fc.string({ minLength: 8, maxLength: 30 }));
  // requestOrganizationDeletion wants the slug typed to confirm; everything else a new one.
  if (name === "confirmSlug") return choose(currentSlug, uniqueWord);
  if (/slug/i.test(name)) return choose(freshSlug, currentSlug);
  if (/email/i.test(name)) {
    return choose(
      uniqueWord.map((w) => `fuzz-${w}@example.com`),
      fc.oneof(fc.constant(A.users.owner.email), existing("Subscriber", "email", "nobody@example.com")),
    );
  }
  if (/url/i.test(name)) {
    return fc.oneof(
      uniqueWord.map((w) => `https://example.com/hooks/${w}`),
      uniqueWord.map((w) => `https://hooks.slack.com/services/T000/B000/${w}`),
    );
  }
  if (/timeZone/i.test(name)) {
    return choose(fc.constantFrom("UTC", "Europe/Berlin", "America/New_York"), fc.constant("Mars/Olympus_Mons"));
  }
  if (/eventType/i.test(name)) return choose(fc.constantFrom(...eventTypes), fc.constant("incident.nope"));
  if (/token/i.test(name)) return fc.constantFrom(`ip_${randomBytes(16).toString("base64url")}`, "");
  if (name === "name" || name === "title") {
    return choose(
      uniqueWord.map((w) => `Fuzz ${w}`),
      existing(slot.entity, "name", "Fuzz"),
    );
  }
  return choose(
    uniqueWord.map((w) => `fuzzed ${name} ${w}`),
    fc.string({ maxLength: 30 }),
  );
}

function plausibleDatetime(): fc.Arbitrary<string> {
  return fc
    .integer({ min: -30 * 24, max: 30 * 24 })
    .map((hours) => new Date(Date.now() + hours * 3_600_000).toISOString());
}

/** A plausible or hostile value of a scalar, by the scalar and the field's name. */
function scalarArbitrary(type: GraphQLNamedType, slot: Slot): fc.Arbitrary<unknown> {
  const either = (plausible: fc.Arbitrary<unknown>, hostile: fc.Arbitrary<unknown>) =>
    slot.mode === "plausible"
      ? plausible
      : fc.oneof({ weight: slot.mode === "typed" ? 3 : 2, arbitrary: plausible }, { weight: 1, arbitrary: hostile });
  const rough = slot.mode === "rough";
  switch (type.name) {
    case "String":
      return either(plausibleString(slot), hostileString);
    case "Int":
      return either(fc.integer({ min: 0, max: 100 }), hostileInt(slot.mode));
    case "Float":
      return either(fc.double({ noNaN: true, noDefaultInfinity: true }), hostileInt(slot.mode));
    case "Boolean":
      return rough ? either(fc.boolean(), fc.constantFrom<unknown>("true", 1, 0)) : fc.boolean();
    case "Datetime":
    case "Date":
      return either(plausibleDatetime(), hostileDatetime);
    case "UUID": {
      const entity = entityOfSlot(slot);
      return either(
        existing(entity, "rowId", "00000000-0000-0000-0000-000000000000"),
        fc.oneof(
          hostileUuid(slot.mode),
          fc.constant(A.organizationId),
          anyRowIdOfA,
          ...(rough ? [existing(entity, "id", "missing")] : []),
        ),
      );
    }
    case "ID": {
      const entity = entityOfSlot(slot);
      return either(existing(entity, "id", "missing"), hostileNodeIds(entity));
    }
    default:
      return either(fc.string({ maxLength: 20 }), hostileString);
  }
}

/** A value of an input type; in rough cases sometimes null or of the wrong JSON type. */
function inputArbitrary(type: GraphQLInputType, slot: Slot): fc.Arbitrary<unknown> {
  const required = isNonNullType(type);
  const typed = typedArbitrary((required ? type.ofType : type) as GraphQLInputType, slot);
  if (slot.mode === "plausible") return typed;
  if (slot.mode === "typed") {
    return required ? typed : fc.oneof({ weight: 12, arbitrary: typed }, { weight: 1, arbitrary: fc.constant(null) });
  }
  return fc.oneof(
    { weight: 12, arbitrary: typed },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: wrongJsonType },
  );
}

function typedArbitrary(type: GraphQLInputType, slot: Slot): fc.Arbitrary<unknown> {
  if (slot.depth > 5) return fc.constant(null);
  if (isListType(type)) {
    const item = inputArbitrary(type.ofType as GraphQLInputType, { ...slot, name: slot.name.replace(/s$/, "") });
    if (slot.mode === "plausible") return fc.array(item, { maxLength: 3 });
    return fc.oneof(
      { weight: 6, arbitrary: fc.array(item, { maxLength: 3 }) },
      // GraphQL coerces a single value to a list of one.
      { weight: 1, arbitrary: item },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.constantFrom(1_001, 20_000), item).map(([n, value]) => LongList.upTo(value, n)),
      },
    );
  }
  if (isEnumType(type)) {
    const values = fc.constantFrom(...type.getValues().map((value) => value.value as string));
    if (slot.mode !== "rough") return values;
    const invalid = fc.constantFrom<unknown>("NOT_A_VALUE", "", type.getValues()[0]!.name.toUpperCase(), 1);
    return fc.oneof({ weight: 4, arbitrary: values }, { weight: 1, arbitrary: invalid });
  }
  if (isInputObjectType(type)) return objectArbitrary(Object.values(type.getFields()), type.name, slot);
  return scalarArbitrary(type as GraphQLNamedType, slot);
}

/**
 * An input object (or a field's arguments): required fields present and optional ones at
 * random; in rough cases required ones may be missing and a field the type lacks may come.
 */
function objectArbitrary(
  fields: readonly (GraphQLInputField | GraphQLArgument)[],
  parent: string,
  slot: Pick<Slot, "mutation" | "entity" | "depth" | "mode">,
): fc.Arbitrary<Record<string, unknown>> {
  const model = Object.fromEntries(
    fields.map((field) => [
      field.name,
      inputArbitrary(field.type, { ...slot, name: field.name, parent, depth: slot.depth + 1 }),
    ]),
  );
  const required = fields
    .filter((field) => isNonNullType(field.type) && field.defaultValue === undefined)
    .map((field) => field.name);
  const complete = withCoherentKeys(fc.record(model, { requiredKeys: required }), fields, slot);
  if (slot.mode !== "rough") return complete;
  const unknownField = fc.record({ notAField: fc.oneof(fc.string(), wrongJsonType) });
  return fc
    .tuple(
      fc.oneof({ weight: 6, arbitrary: complete }, { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) }),
      fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: unknownField }),
    )
    .map(([value, extra]) => (extra ? { ...value, ...extra } : value));
}

/**
 * Fields that together name one row of the mutation's entity (incidentId and serviceId of an
 * IncidentService) are drawn from one existing row, always in plausible cases and now and then
 * in the others: drawn apart, they would hardly ever meet. Creations want new pairs: left alone.
 */
function withCoherentKeys(
  record: fc.Arbitrary<Record<string, unknown>>,
  fields: readonly (GraphQLInputField | GraphQLArgument)[],
  slot: Pick<Slot, "mutation" | "entity" | "mode">,
): fc.Arbitrary<Record<string, unknown>> {
  const sample = rowsOfA.get(slot.entity ?? "")?.[0];
  if (!sample || slot.mutation.startsWith("create")) return record;
  const keys = fields
    .filter((field) => getNamedType(field.type).name === "UUID" && field.name in sample)
    .map((field) => field.name);
  if (keys.length < 2) return record;
  const coherent = slot.mode === "plausible" ? fc.constant(true) : fc.boolean();
  return fc.tuple(record, fc.nat(), coherent).map(([value, index, wanted]) => {
    const row = pick(rowsOfA.get(slot.entity!) ?? [], index);
    if (!wanted || !row) return value;
    return { ...value, ...Object.fromEntries(keys.filter((key) => key in value).map((key) => [key, row[key]])) };
  });
}

interface FuzzCase {
  mode: Mode;
  actor: ActorName;
  variables: Record<string, unknown>;
}

function caseArbitrary(field: GraphQLField<unknown, unknown>): fc.Arbitrary<FuzzCase> {
  const entity = entityOfMutation(field.name);
  const actors = fc.oneof(
    { weight: 3, arbitrary: fc.constant<ActorName>("owner") },
    fc.constant<ActorName>("admin key"),
  );
  const inMode = (mode: Mode) =>
    fc.record({
      mode: fc.constant(mode),
      actor: actors,
      variables: objectArbitrary(field.args, `${field.name} arguments`, {
        mutation: field.name,
        entity,
        depth: 0,
        mode,
      }),
    });
  return fc.oneof(
    { weight: 1, arbitrary: inMode("plausible") },
    { weight: 2, arbitrary: inMode("typed") },
    { weight: 1, arbitrary: inMode("rough") },
  );
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

/** Refused: errors, and nothing where the mutation's result would be. */
const refused = (result: GraphQLResponse, field: string) =>
  (result.errors?.length ?? 0) > 0 && (result.data?.[field] ?? null) === null;

function count(result: GraphQLResponse) {
  tally.runs++;
  const key = result.code ?? "ok";
  tally.codes.set(key, (tally.codes.get(key) ?? 0) + 1);
}

async function send(field: GraphQLField<unknown, unknown>, document: string, fuzzCase: FuzzCase) {
  const token = fuzzCase.actor === "owner" ? actor.owner : actor.key;
  try {
    return await graphql(server.url, document, fuzzCase.variables, { token });
  } catch (error) {
    throw new Error(`${field.name}: the answer is not GraphQL JSON (${String(error)})`);
  }
}

const bodySize = (document: string, fuzzCase: FuzzCase) =>
  Buffer.byteLength(JSON.stringify({ query: document, variables: fuzzCase.variables }));

async function checkCall(field: GraphQLField<unknown, unknown>, document: string, fuzzCase: FuzzCase) {
  const label = `${field.name} (${fuzzCase.mode}) as ${fuzzCase.actor}`;
  const result = await send(field, document, fuzzCase);
  count(result);
  if (TRACE)
    console.log(
      `${label}: ${result.code ?? "ok"} ${result.errors?.[0]?.message ?? ""} ${fc.stringify(fuzzCase.variables)}`,
    );
  covered.add(field.name);
  // The state moves on before anything is asserted, so a failed run does not blame the next one.
  const wasRefused = refused(result, field.name);
  const after = await snapshot();
  const changed = wasRefused ? changedTables(baseline, after) : [];
  baseline = after;
  if (wasRefused) tally.refused++;
  else {
    tally.accepted++;
    await keepActorsUsable();
    // What was removed is no target any more: the next runs aim at what is left.
    if (REMOVING.test(field.name)) await refreshRowsOfA();
  }
  expectCodedAnswer(`${label} (HTTP ${result.status}, ${result.errors?.[0]?.message ?? "no error"})`, result);
  if (bodySize(document, fuzzCase) > BODY_LIMIT) {
    tally.oversized++;
    expect([result.status, result.code], `${label}: a body over the limit`).toEqual([413, "PAYLOAD_TOO_LARGE"]);
  }
  expect(changed.join(", "), `${label} was refused (${result.code}) but wrote`).toBe("");
}

/** Runs the property for one mutation; the fast-check report if it failed. */
async function fuzzMutation(field: GraphQLField<unknown, unknown>, index: number): Promise<string | null> {
  const document = documentOf({
    operation: "mutation",
    field,
    args: Object.fromEntries(field.args.map((a) => [a.name, 1])),
  });
  const property = fc.asyncProperty(caseArbitrary(field), (fuzzCase) => checkCall(field, document, fuzzCase));
  const acceptedBefore = tally.accepted;
  // Shrinking replays calls against a database that has moved on: it gets a few seconds.
  const details = await fc.check(property, {
    numRuns: RUNS_PER_MUTATION,
    seed: (SEED + index) | 0,
    interruptAfterTimeLimit: 15_000,
  });
  if (details.failed) {
    // A run that failed before the state was read leaves the baseline behind: catch up.
    baseline = await snapshot();
    await keepActorsUsable();
  }
  // Rows made or removed by these runs are what the next mutations aim at (refused runs changed nothing).
  if (tally.accepted > acceptedBefore || details.failed) await refreshRowsOfA();
  return details.failed
    ? `mutation ${field.name}: ${String(details.errorInstance)}\n${fc.defaultReportMessage(details)}`
    : null;
}

/** Mutations in the order they are fuzzed: most first, then removals, then LAST in its order. */
function mutationsInOrder(): GraphQLField<unknown, unknown>[] {
  const rank = (name: string) => (LAST.includes(name) ? 2 + LAST.indexOf(name) : REMOVING.test(name) ? 1 : 0);
  return Object.values(schema.getMutationType()!.getFields()).sort((x, y) => rank(x.name) - rank(y.name));
}

/**
 * Calls `field(input:)` as A's owner (the input type named after the field, as PostGraphile
 * names them), selecting `selection`, and expects it refused with `code`, nothing written.
 */
async function expectRefusedCleanly(field: string, selection: string, input: Record<string, unknown>, code: string) {
  const type = `${field[0]!.toUpperCase()}${field.slice(1)}Input`;
  const document = `mutation M($input: ${type}!) { ${field}(input: $input) { ${selection} } }`;
  const before = await snapshot();
  const result = await graphql(server.url, document, { input }, { token: actor.owner });
  expectCodedAnswer(field, result);
  expect(result.code, JSON.stringify(result.errors)).toBe(code);
  expect(changedTables(before, await snapshot())).toEqual([]);
}

describe("inputs fuzzing found mishandled", () => {
  it("text with a NUL character (PostgreSQL 22021) is INVALID_INPUT, not an internal error", async () => {
    await expectRefusedCleanly(
      "createService",
      "service { rowId }",
      { service: { name: "Fuzz\u0000NUL" } },
      "INVALID_INPUT",
    );
  });

  it("an infinite time is VALIDATION_FAILED, never stored to come back as null in a non-null field", async () => {
    const incidentId = rowsOfA.get("Incident")![0]!.rowId;
    const startsAt = new Date().toISOString();
    const cases: [string, string, Record<string, unknown>][] = [
      [
        "createMaintenanceWindow",
        "maintenanceWindow { endsAt }",
        { maintenanceWindow: { title: "Forever", startsAt, endsAt: "infinity" } },
      ],
      ["createIncident", "incident { startedAt }", { incident: { title: "Since always", startedAt: "-infinity" } }],
      [
        "postIncidentUpdate",
        "incidentUpdate { displayAt }",
        { incidentId, status: "identified", body: "Later", displayAt: "infinity" },
      ],
      ["createApiKey", "apiKey { expiresAt }", { name: "Never expires", role: "viewer", expiresAt: "infinity" }],
    ];
    for (const [field, selection, input] of cases) {
      await expectRefusedCleanly(field, selection, input, "VALIDATION_FAILED");
    }
  });

  it("a null where the schema promises a value is coded INTERNAL_SERVER_ERROR (and logged), not left uncoded", () => {
    const path = ["updateMaintenanceWindowById", "maintenanceWindow", "endsAt"];
    const masked = maskError(
      new GraphQLError("Cannot return null for non-nullable field MaintenanceWindow.endsAt.", { path }),
    );
    expect(masked.extensions).toMatchObject({ code: "INTERNAL_SERVER_ERROR" });
    expect(masked.path).toEqual(path);
  });
});

describe("GraphQL mutations, fuzzed over HTTP", () => {
  it("know A's rows to aim at", () => {
    for (const type of ["Incident", "Service", "MaintenanceWindow", "WebhookEndpoint", "Subscriber", "User"]) {
      expect(rowsOfA.get(type)?.length ?? 0, type).toBeGreaterThan(0);
    }
  });

  it("answer every input coded, without a 5xx, and write nothing when they refuse", { timeout: 600_000 }, async () => {
    console.log(`mutation fuzz: seed ${SEED} (replay with FC_SEED=${SEED}), ${RUNS_PER_MUTATION} runs per mutation`);
    baseline = await snapshot();
    const mutations = mutationsInOrder();
    const failures: string[] = [];
    for (const [index, field] of mutations.entries()) {
      const failure = await fuzzMutation(field, index);
      if (failure) failures.push(failure);
    }
    const codes = [...tally.codes].sort((x, y) => y[1] - x[1]).map(([code, n]) => `${code} ${n}`);
    const outcomes = `${tally.accepted} accepted, ${tally.refused} refused, ${tally.oversized} over the body limit`;
    console.log(`mutation fuzz: ${tally.runs} runs over ${covered.size} mutations (${outcomes}; ${codes.join(", ")})`);
    expect(failures, failures.join("\n\n")).toEqual([]);
    expect([...covered].sort()).toEqual(mutations.map((field) => field.name).sort());
    expect(tally.accepted).toBeGreaterThan(mutations.length);
  });
});
