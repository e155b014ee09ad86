/**
 * Isolation over HTTP (reference/security.md, "Proving isolation", step 7): the GraphQL schema
 * is introspected and every query field, `node(id:)` and every mutation is called with A's
 * credentials (each role, each API-key role) and B's ids and node ids, arguments generated
 * from the schema's types. Nothing of B may come back (responses are scanned for B's ids, node
 * ids, names and secrets) or change (B's rows are fingerprinted as root before and after).
 * Then the REST endpoints: attachments, alert hooks, public status pages and their SSE, export.
 * Every answer is also checked for what bad input must never produce: a 500, an uncoded error.
 */
import { randomBytes } from "node:crypto";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedOrganizationFully, type OrgExtras } from "../../db/__tests__/helpers/fullSeed.ts";
import { asRootIn, createIncident, createService, type OrgSeed } from "../../db/__tests__/helpers/incidentFixtures.ts";
import {
  checksumOfB,
  checksumQuery,
  markersOfB,
  tenantTables,
  type TenantTable,
} from "../../db/__tests__/helpers/isolationMatrix.ts";
import {
  documentOf,
  expectCodedAnswer,
  introspectSchema,
  listRowsByType,
  normalize,
  type Probe,
} from "./helpers/graphqlSchema.ts";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { fixtureOf } from "./helpers/organizationFixture.ts";
import { graphql, login, startTestServer, type GraphQLResponse, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
let schema: GraphQLSchema;
let A: OrganizationMembers;
let B: OrganizationMembers;
let seedA: OrgSeed & OrgExtras;
let seedB: OrgSeed & OrgExtras;
let tables: TenantTable[];
let checksum: string;
let before: Record<string, string>;
/** Strings that identify B: ids of its rows and node ids; names, emails and slug. */
const markers = new Set<string>();
const textMarkers = new Set<string>();
/** B's node ids and row ids by GraphQL type name, as B's owner sees them. */
const nodeIdsOfB = new Map<string, string>();
const rowIdsOfB = new Map<string, string>();
/** A's credentials: a token per role and an API key per role. */
const credentials: { label: string; token: string }[] = [];
let probes = 0;
const B_SECRET_NAME = `Bravo-internal-${randomBytes(4).toString("hex")}`;
const B_SERVICE_NAME = `Bravo-service-${randomBytes(4).toString("hex")}`;

async function createKey(ownerToken: string, role: string): Promise<string> {
  const result = await graphql(
    server.url,
    `
      mutation K($input: CreateApiKeyInput!) {
        createApiKey(input: $input) {
          token
        }
      }
    `,
    { input: { name: `probe ${role}`, role } },
    { token: ownerToken },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createApiKey.token as string;
}

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
  const suffix = randomBytes(3).toString("hex");
  A = await organizationWithMembers(server, `alpha-${suffix}`);
  B = await organizationWithMembers(server, `bravo-${suffix}`);
  seedA = await seedOrganizationFully(server.db.rootPool, fixtureOf(A), "alpha");
  seedB = await seedOrganizationFully(server.db.rootPool, fixtureOf(B), "bravo", async (client, seed) => {
    await createService(client, seed.organizationId, { name: B_SERVICE_NAME });
    await createIncident(client, seed.organizationId, { title: B_SECRET_NAME, visibility: "internal" });
    await asRootIn(client, seed.organizationId, async () => {
      await client.query("select app_private.rebuild_status_snapshot($1)", [seed.organizationId]);
    });
  });
  for (const role of ["owner", "admin", "editor", "viewer"] as const) {
    credentials.push({ label: `${role} of A`, token: A.tokens[role] });
  }
  for (const role of ["viewer", "editor", "admin"]) {
    credentials.push({ label: `${role} API key of A`, token: await createKey(A.tokens.owner, role) });
  }

  schema = await introspectSchema(server.url);

  tables = await tenantTables(server.db);
  for (const marker of await markersOfB(server.db, tables, B.organizationId)) markers.add(marker);
  textMarkers.add(B_SECRET_NAME);
  textMarkers.add(B_SERVICE_NAME);
  textMarkers.add(B.slug);
  for (const user of Object.values(B.users)) textMarkers.add(user.email);
  await collectNodeIdsOfB();
  checksum = checksumQuery(tables);
  before = await checksumNow();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

/** Every connection B's owner can list, with the node id and row id of one row per type. */
async function collectNodeIdsOfB() {
  const idFields = (field: string) => field === "id" || field === "rowId";
  for (const [type, rows] of await listRowsByType(server.url, schema, B.tokens.owner, idFields)) {
    for (const row of rows) {
      if (row.id) {
        markers.add(row.id);
        if (!nodeIdsOfB.has(type)) nodeIdsOfB.set(type, row.id);
      }
      if (row.rowId && !rowIdsOfB.has(type)) rowIdsOfB.set(type, row.rowId);
    }
  }
}

/** B's row id for an argument or field named like `incidentId`, `rowId` (of `entity`), …. */
function uuidOfB(name: string, entity: string | null): string {
  const stem = normalize(name.replace(/(Row)?Ids?$/, ""));
  if (stem === "" || stem === "row") {
    if (entity && rowIdsOfB.has(entity)) return rowIdsOfB.get(entity)!;
  }
  if (stem === "organization") return B.organizationId;
  if (stem === "user" || stem === "assignee") return B.users.owner.userId;
  for (const [type, id] of rowIdsOfB) if (normalize(type) === stem) return id;
  for (const [type, id] of rowIdsOfB) if (normalize(type).endsWith(stem)) return id;
  if (entity && rowIdsOfB.has(entity)) return rowIdsOfB.get(entity)!;
  return B.organizationId;
}

function nodeIdOfB(entity: string | null): string {
  if (entity && nodeIdsOfB.has(entity)) return nodeIdsOfB.get(entity)!;
  return [...nodeIdsOfB.values()][0]!;
}

/** The entity a field or mutation is about: its return type, or the type its name ends with. */
function entityOf(fieldName: string): string | null {
  const candidates = [...nodeIdsOfB.keys(), ...rowIdsOfB.keys()].sort((x, y) => y.length - x.length);
  const normalized = normalize(fieldName);
  return candidates.find((type) => normalized.endsWith(normalize(type))) ?? null;
}

/** A minimal value of an input type, aimed at B where it names a row. */
function valueFor(type: GraphQLInputType, name: string, entity: string | null, depth = 0): unknown {
  if (isNonNullType(type)) return valueFor(type.ofType, name, entity, depth);
  if (isListType(type)) return [valueFor(type.ofType as GraphQLInputType, name.replace(/s$/, ""), entity, depth)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    const isPatch = type.name.endsWith("Patch");
    let patched = false;
    for (const field of Object.values(type.getFields())) {
      const required = isNonNullType(field.type);
      const named = getNamedType(field.type);
      const wanted =
        required ||
        (depth === 0 && /(^id$|^nodeId$|Id$|^rowId$)/.test(field.name)) ||
        (isPatch && !patched && isScalarType(named) && named.name === "String");
      if (!wanted || depth > 3) continue;
      if (isPatch && !required) patched = true;
      value[field.name] = valueFor(field.type, field.name, entity ?? entityOf(type.name), depth + 1);
    }
    return value;
  }
  switch ((type as GraphQLNamedType).name) {
    case "UUID":
      return uuidOfB(name, entity);
    case "ID":
      return nodeIdOfB(entity);
    case "Int":
      return 1;
    case "Float":
      return 1.5;
    case "Boolean":
      return true;
    case "BigInt":
    case "BigFloat":
      return "1";
    case "Datetime":
      return "2031-01-01T00:00:00Z";
    case "Date":
      return "2031-01-01";
    case "JSON":
      return {};
    case "Cursor":
      return null;
    default:
      if (/slug/i.test(name)) return B.slug;
      if (/email/i.test(name)) return B.users.owner.email;
      if (/url/i.test(name)) return "https://example.com/probe";
      return "probe";
  }
}

function probeFor(operation: "query" | "mutation", field: GraphQLField<unknown, unknown>): Probe {
  const entity =
    entityOf(field.name) ?? (isObjectType(getNamedType(field.type)) ? getNamedType(field.type).name : null);
  const args: Record<string, unknown> = {};
  for (const arg of field.args) {
    const named = getNamedType(arg.type);
    const required = isNonNullType(arg.type);
    if (!required && !(isScalarType(named) && (named.name === "UUID" || named.name === "ID"))) {
      if (!(isInputObjectType(named) && named.name.endsWith("Condition"))) continue;
    }
    args[arg.name] = valueFor(arg.type, arg.name, entity);
  }
  return { operation, field, args };
}

/**
 * Strings of B in a value. Ids count even when the probe sent them (an answer about B's row is
 * a leak), unless `idsSent` allows echoing them (error messages); names, emails and the slug
 * count unless the probe sent them itself (an invitation to B's owner's address echoes it).
 */
function leaksIn(value: unknown, sent: string, idsSent = false): string[] {
  const text = JSON.stringify(value ?? null);
  return [
    ...[...markers].filter((marker) => text.includes(marker) && !(idsSent && sent.includes(marker))),
    ...[...textMarkers].filter((marker) => text.includes(marker) && !sent.includes(marker)),
  ];
}

function expectSound(label: string, result: GraphQLResponse, sent: string) {
  probes++;
  expectCodedAnswer(label, result);
  // Data never holds anything of B; errors never name more of B than the probe sent.
  expect(leaksIn(result.data, sent), `${label}: B in data`).toEqual([]);
  expect(leaksIn(result.errors, sent, true), `${label}: B in errors`).toEqual([]);
}

/** Each credential of A in parallel (they are independent), in order of the list. */
const asEachCredential = <T>(fn: (credential: { label: string; token: string }) => Promise<T>) =>
  Promise.all(credentials.map(fn));

/** Mutations that end the caller's session or the organization: run last, once per credential. */
const LAST = /^(logout|changePassword|requestOrganizationDeletion|switchOrganization)/;

async function checksumNow(): Promise<Record<string, string>> {
  const client = await server.db.rootPool.connect();
  try {
    return await checksumOfB(client, checksum, B.organizationId);
  } finally {
    client.release();
  }
}

async function expectBUnchanged(label: string, except: string[] = []) {
  const after = await checksumNow();
  const changed = Object.keys(after).filter((name) => after[name] !== before[name] && !except.includes(name));
  expect(changed, `${label}: B's tables changed`).toEqual([]);
}

describe("GraphQL with A's credentials and B's ids", () => {
  it("knows B's node ids and row ids for the probes", () => {
    expect(nodeIdsOfB.size).toBeGreaterThan(10);
    expect(rowIdsOfB.get("Incident")).toBeDefined();
    expect(Object.keys(before).length).toBe(tables.length);
  });

  it("every query field answers nothing of B", { timeout: 120_000 }, async () => {
    const fields = Object.values(schema.getQueryType()!.getFields()).filter((f) => f.name !== "node");
    expect(fields.length).toBeGreaterThan(20);
    for (const field of fields) {
      const probe = probeFor("query", field);
      const document = documentOf(probe);
      const sent = JSON.stringify(probe.args);
      for (const [i, result] of (
        await asEachCredential(({ token }) => graphql(server.url, document, probe.args, { token }))
      ).entries()) {
        expectSound(`query ${field.name} as ${credentials[i]!.label}`, result, sent);
      }
    }
  });

  it("node(id:) with each of B's node ids answers null", { timeout: 120_000 }, async () => {
    for (const [type, id] of nodeIdsOfB) {
      const results = await asEachCredential(({ token }) =>
        graphql(
          server.url,
          `
            query N($id: ID!) {
              node(id: $id) {
                id
                __typename
              }
            }
          `,
          { id },
          { token },
        ),
      );
      for (const [i, result] of results.entries()) {
        const label = `node(${type}) as ${credentials[i]!.label}`;
        expectSound(label, result, id);
        expect(result.data?.node ?? null, label).toBeNull();
      }
    }
  });

  it("every mutation aimed at B changes nothing of B and answers nothing of B", { timeout: 120_000 }, async () => {
    const fields = Object.values(schema.getMutationType()!.getFields()).sort(
      (x, y) => Number(LAST.test(x.name)) - Number(LAST.test(y.name)),
    );
    expect(fields.length).toBeGreaterThan(30);
    for (const field of fields) {
      const probe = probeFor("mutation", field);
      const document = documentOf(probe);
      const sent = JSON.stringify(probe.args);
      for (const [i, result] of (
        await asEachCredential(({ token }) => graphql(server.url, document, probe.args, { token }))
      ).entries()) {
        expectSound(`mutation ${field.name} as ${credentials[i]!.label}`, result, sent);
      }
      await expectBUnchanged(`mutation ${field.name}`);
    }
  });
});

describe("REST with A's credentials and B's ids", () => {
  const get = (path: string, token?: string) =>
    fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it("attachments: B's cannot be downloaded, nor uploaded to B's incidents", async () => {
    for (const { label, token } of credentials) {
      const download = await get(`/api/attachments/${seedB.attachmentId}`, token);
      probes++;
      expect([401, 403, 404], `download as ${label}`).toContain(download.status);
      expect(leaksIn(await download.text(), seedB.attachmentId, true), label).toEqual([]);
      const form = new FormData();
      form.append("file", new Blob(["probe\n"], { type: "text/plain" }), "probe.txt");
      const upload = await fetch(`${server.url}/api/incidents/${seedB.incidentId}/attachments`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
      probes++;
      expect([401, 403, 404], `upload as ${label}`).toContain(upload.status);
    }
    await expectBUnchanged("attachments");
  });

  it("alert hook of B's source refuses A's API keys", async () => {
    for (const { label, token } of credentials.filter((c) => c.token.startsWith("ipk_"))) {
      const response = await fetch(`${server.url}/hooks/alerts/${seedB.alertSourceId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ fingerprint: "probe", title: "Probe", status: "firing" }),
      });
      probes++;
      expect([401, 403, 404], `hook as ${label}`).toContain(response.status);
      expect(leaksIn(await response.text(), seedB.alertSourceId, true), label).toEqual([]);
    }
    // B's request log keeps every request to its source, refused ones included (as it would an
    // unsigned request from anywhere): refused, and naming no key of A.
    const logged = await server.db.rootPool.query<{ accepted: boolean; api_key_id: string | null; code: string }>(
      "select accepted, api_key_id, code from app_public.alert_requests where organization_id = $1 and received_at > now() - interval '5 minutes' and idempotency_key is null",
      [B.organizationId],
    );
    expect(logged.rows.length).toBeGreaterThan(0);
    for (const row of logged.rows) expect(row).toMatchObject({ accepted: false, api_key_id: null });
    await expectBUnchanged("alert hooks", ["app_public.alert_requests"]);
  });

  it("B's public status page, feeds, badge and stream never show B's internal incident", async () => {
    const paths = [
      "/api/v2/summary.json",
      "/api/v2/status.json",
      "/api/v2/components.json",
      "/api/v2/incidents.json",
      "/api/v2/incidents/unresolved.json",
      "/api/v2/scheduled-maintenances.json",
      "/history.rss",
      "/history.atom",
      "/badge.svg",
    ];
    let served = 0;
    for (const path of paths) {
      const response = await get(`/status/${B.slug}${path}`);
      probes++;
      expect(response.status, path).toBeLessThan(500);
      const body = await response.text();
      if (response.status === 200) served++;
      expect(body, path).not.toContain(B_SECRET_NAME);
      expect(body, path).not.toContain(seedB.apiKeyIds.admin);
    }
    expect(served).toBeGreaterThan(3);
    const controller = new AbortController();
    const stream = await fetch(`${server.url}/status/${B.slug}/events`, { signal: controller.signal });
    probes++;
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    const { value } = await reader.read();
    controller.abort();
    const first = new TextDecoder().decode(value);
    expect(first).toContain(B_SERVICE_NAME);
    expect(first).not.toContain(B_SECRET_NAME);
  });

  it("the export of A holds nothing of B", async () => {
    // The mutation probes signed A's owner out (logout): sign in again, acting in A.
    const signedIn = await login(server.url, A.users.owner.email);
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
    const response = await get("/api/organization/export", switched.data!.switchOrganization.token as string);
    probes++;
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain(seedA.incidentId);
    // The probes above invited B's owner's address into A: only ids and B's own names count here.
    expect([...markers, B_SECRET_NAME, B_SERVICE_NAME].filter((marker) => body.includes(marker))).toEqual([]);
    for (const { label, token } of credentials.slice(1)) {
      const refused = await get("/api/organization/export", token);
      probes++;
      expect([401, 403], `export as ${label}`).toContain(refused.status);
    }
  });

  it("reports the probe count", () => {
    console.log(`isolation probes over HTTP: ${probes}`);
    expect(probes).toBeGreaterThan(500);
  });
});
