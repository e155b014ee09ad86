/**
 * API keys over HTTP: owners and admins issue them (the key is shown once, only its hash is
 * kept), a key acts in its organization with its role and is named in the timeline and the
 * audit log, never manages members, keys, the organization or billing, sees nothing of another
 * organization, and is refused with a coded 401 once revoked, expired, malformed or unknown,
 * or with 429 once over its per-minute budget.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
let acme: OrganizationMembers;
let globex: OrganizationMembers;

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
  acme = await organizationWithMembers(server, "acme-keys");
  globex = await organizationWithMembers(server, "globex-keys");
});
afterAll(async () => {
  await server.stop();
});

const CREATE_KEY = `mutation K($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { token apiKey { rowId name role displayPrefix expiresAt lastUsedAt revokedAt } }
}`;
const REVOKE_KEY = `mutation R($id: UUID!) { revokeApiKey(input: { apiKeyId: $id }) { apiKey { rowId revokedAt } } }`;
const LIST_KEYS = `query { apiKeys { nodes { rowId name role displayPrefix lastUsedAt revokedAt } } }`;
const CREATE_INCIDENT = `mutation I($title: String!) { createIncident(input: { incident: { title: $title } }) { incident { rowId } } }`;
const POST_UPDATE = `mutation U($input: PostIncidentUpdateInput!) {
  postIncidentUpdate(input: $input) { incidentUpdate { rowId authorApiKeyId } }
}`;
const INCIDENTS = `query { incidents { nodes { rowId title } } }`;
const CREATE_SERVICE = `mutation S($name: String!) { createService(input: { service: { name: $name } }) { service { rowId name } } }`;

const KEY_FORMAT = /^ipk_[A-Za-z0-9_-]{43}[0-9a-f]{6}$/;
const checksum = (body: string) => createHash("sha256").update(body).digest("hex").slice(0, 6);

interface IssuedKey {
  token: string;
  id: string;
}

async function issueKey(
  issuerToken: string,
  role: "admin" | "editor" | "viewer",
  name = `${role} tool ${randomBytes(3).toString("hex")}`,
  expiresAt?: string,
): Promise<IssuedKey> {
  const result = await graphql(server.url, CREATE_KEY, { input: { name, role, expiresAt } }, { token: issuerToken });
  expect(result.errors).toBeUndefined();
  const { token, apiKey } = result.data!.createApiKey;
  return { token, id: apiKey.rowId };
}

const keyCount = async () =>
  (await server.db.rootPool.query<{ n: number }>("select count(*)::int as n from app_public.api_keys")).rows[0]!.n;

const refusal = (result: { status: number; code: string | undefined; errors?: { extensions?: any }[] }) => [
  result.status,
  result.code,
  result.errors?.[0]?.extensions?.reason,
];

describe("creating keys", () => {
  it("lets owners and admins create a key that is shown once and stored only as a hash", async () => {
    for (const role of ["owner", "admin"] as const) {
      const name = `Deploy bot of the ${role}`;
      const result = await graphql(
        server.url,
        CREATE_KEY,
        { input: { name, role: "editor" } },
        { token: acme.tokens[role] },
      );
      expect(result.errors).toBeUndefined();
      expect(result.status).toBe(200);
      const { token, apiKey } = result.data!.createApiKey;
      expect(token).toMatch(KEY_FORMAT);
      expect(token.slice(-6)).toBe(checksum(token.slice(4, -6)));
      expect(apiKey).toMatchObject({
        name,
        role: "editor",
        displayPrefix: token.slice(0, 10),
        expiresAt: null,
        lastUsedAt: null,
        revokedAt: null,
      });

      // Nothing stored holds the key in clear: the row, the hash row and the audit log.
      const secret = token.slice(10);
      const { rows } = await server.db.rootPool.query<{ n: number }>(
        `select (select count(*) from app_public.api_keys k where strpos(k::text, $1) > 0)
              + (select count(*) from app_private.api_key_hashes h where strpos(h::text, $1) > 0)
              + (select count(*) from app_public.audit_log a where strpos(a::text, $1) > 0) as n`,
        [secret],
      );
      expect(Number(rows[0]!.n)).toBe(0);
      const hashes = await server.db.rootPool.query(
        `select 1 from app_private.api_key_hashes
         where organization_id = $1 and api_key_id = $2 and key_hash = public.digest($3, 'sha256')`,
        [acme.organizationId, apiKey.rowId, token],
      );
      expect(hashes.rowCount).toBe(1);
      const created = await server.db.rootPool.query(
        "select organization_id, created_by_id from app_public.api_keys where id = $1",
        [apiKey.rowId],
      );
      expect(created.rows).toEqual([{ organization_id: acme.organizationId, created_by_id: acme.users[role].userId }]);

      // The key can be listed afterwards, but nothing gives the key back.
      const listed = await graphql(server.url, LIST_KEYS, {}, { token: acme.tokens.owner });
      expect(listed.data!.apiKeys.nodes).toContainEqual(
        expect.objectContaining({ rowId: apiKey.rowId, displayPrefix: token.slice(0, 10) }),
      );
      expect(JSON.stringify(listed.data)).not.toContain(secret);
      const asking = await graphql(
        server.url,
        `
          query {
            apiKeys {
              nodes {
                token
              }
            }
          }
        `,
        {},
        { token: acme.tokens.owner },
      );
      expect([asking.status, asking.code]).toEqual([400, "GRAPHQL_VALIDATION_FAILED"]);
    }
  });

  it("refuses editors and viewers with 403 FORBIDDEN and creates nothing", async () => {
    const before = await keyCount();
    for (const role of ["editor", "viewer"] as const) {
      const result = await graphql(
        server.url,
        CREATE_KEY,
        { input: { name: `By ${role}`, role: "viewer" } },
        { token: acme.tokens[role] },
      );
      expect([result.status, result.code, result.data?.createApiKey ?? null]).toEqual([403, "FORBIDDEN", null]);
    }
    expect(await keyCount()).toBe(before);
  });

  it("refuses another key, even an admin one, with 403 API_KEY_NOT_ALLOWED", async () => {
    const adminKey = await issueKey(acme.tokens.owner, "admin");
    const before = await keyCount();
    const created = await graphql(
      server.url,
      CREATE_KEY,
      { input: { name: "Key from a key", role: "viewer" } },
      { token: adminKey.token },
    );
    expect([created.status, created.code, created.data?.createApiKey ?? null]).toEqual([
      403,
      "API_KEY_NOT_ALLOWED",
      null,
    ]);
    const victim = await issueKey(acme.tokens.owner, "viewer");
    const revoked = await graphql(server.url, REVOKE_KEY, { id: victim.id }, { token: adminKey.token });
    expect([revoked.status, revoked.code]).toEqual([403, "API_KEY_NOT_ALLOWED"]);
    expect(await keyCount()).toBe(before + 1);
    const { rows } = await server.db.rootPool.query("select revoked_at from app_public.api_keys where id = $1", [
      victim.id,
    ]);
    expect(rows[0].revoked_at).toBeNull();
  });

  it("refuses the owner role with 422 VALIDATION_FAILED", async () => {
    const before = await keyCount();
    const result = await graphql(
      server.url,
      CREATE_KEY,
      { input: { name: "Too powerful", role: "owner" } },
      { token: acme.tokens.owner },
    );
    expect([result.status, result.code, result.data?.createApiKey ?? null]).toEqual([422, "VALIDATION_FAILED", null]);
    expect(await keyCount()).toBe(before);
  });

  it("shows keys to owners and admins only, never to editors, viewers or keys", async () => {
    const own = await issueKey(acme.tokens.admin, "admin");
    const other = await issueKey(globex.tokens.owner, "viewer");
    for (const role of ["owner", "admin"] as const) {
      const listed = await graphql(server.url, LIST_KEYS, {}, { token: acme.tokens[role] });
      const ids = listed.data!.apiKeys.nodes.map((node: { rowId: string }) => node.rowId);
      expect(ids).toContain(own.id);
      expect(ids).not.toContain(other.id);
    }
    for (const token of [acme.tokens.editor, acme.tokens.viewer, own.token]) {
      const listed = await graphql(server.url, LIST_KEYS, {}, { token });
      expect(listed.errors).toBeUndefined();
      expect(listed.data!.apiKeys.nodes).toEqual([]);
    }
  });

  it("lets admins revoke their organization's keys, not another organization's (404 NOT_FOUND)", async () => {
    const key = await issueKey(acme.tokens.owner, "viewer");
    const foreign = await graphql(server.url, REVOKE_KEY, { id: key.id }, { token: globex.tokens.owner });
    expect([foreign.status, foreign.code]).toEqual([404, "NOT_FOUND"]);
    const byEditor = await graphql(server.url, REVOKE_KEY, { id: key.id }, { token: acme.tokens.editor });
    expect([byEditor.status, byEditor.code]).toEqual([403, "FORBIDDEN"]);
    const stillValid = await graphql(server.url, INCIDENTS, {}, { token: key.token });
    expect(stillValid.status).toBe(200);
    const revoked = await graphql(server.url, REVOKE_KEY, { id: key.id }, { token: acme.tokens.admin });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data!.revokeApiKey.apiKey.revokedAt).not.toBeNull();
  });
});

describe("keys at work", () => {
  it("a viewer key reads incidents but cannot create them (403 FORBIDDEN)", async () => {
    const created = await graphql(
      server.url,
      CREATE_INCIDENT,
      { title: "Seen by a viewer key" },
      {
        token: acme.tokens.editor,
      },
    );
    const incidentId = created.data!.createIncident.incident.rowId;
    const viewer = await issueKey(acme.tokens.owner, "viewer");
    const read = await graphql(server.url, INCIDENTS, {}, { token: viewer.token });
    expect(read.status).toBe(200);
    expect(read.data!.incidents.nodes.map((node: { rowId: string }) => node.rowId)).toContain(incidentId);
    const denied = await graphql(server.url, CREATE_INCIDENT, { title: "By a viewer key" }, { token: viewer.token });
    expect([denied.status, denied.code, denied.data?.createIncident ?? null]).toEqual([403, "FORBIDDEN", null]);
    const { rows } = await server.db.rootPool.query(
      "select count(*)::int as n from app_public.incidents where title = 'By a viewer key'",
    );
    expect(rows[0].n).toBe(0);
  });

  it("an editor key creates and edits incidents, named as the actor in the audit log", async () => {
    const editor = await issueKey(acme.tokens.owner, "editor");
    const created = await graphql(server.url, CREATE_INCIDENT, { title: "Opened by a tool" }, { token: editor.token });
    expect(created.errors).toBeUndefined();
    const incidentId = created.data!.createIncident.incident.rowId as string;
    const edited = await graphql(
      server.url,
      `
        mutation E($id: UUID!) {
          updateIncident(input: { rowId: $id, patch: { title: "Opened and edited by a tool" } }) {
            incident {
              title
            }
          }
        }
      `,
      { id: incidentId },
      { token: editor.token },
    );
    expect(edited.errors).toBeUndefined();
    expect(edited.data!.updateIncident.incident.title).toBe("Opened and edited by a tool");

    const audit = await server.db.rootPool.query(
      `select action, actor_user_id, actor_api_key_id from app_public.audit_log
       where organization_id = $1 and target_table = 'incidents' and target_id = $2 order by occurred_at`,
      [acme.organizationId, incidentId],
    );
    expect(audit.rows).toEqual([
      { action: "insert", actor_user_id: null, actor_api_key_id: editor.id },
      { action: "update", actor_user_id: null, actor_api_key_id: editor.id },
    ]);
    // An owner reading the audit log sees the key as the actor.
    const log = await graphql(
      server.url,
      `
        query A($id: UUID!) {
          auditLogs(condition: { targetId: $id, targetTable: "incidents" }) {
            nodes {
              action
              actorApiKeyId
              actorUser {
                rowId
              }
            }
          }
        }
      `,
      { id: incidentId },
      { token: acme.tokens.owner },
    );
    expect(log.errors).toBeUndefined();
    expect(log.data!.auditLogs.nodes).toContainEqual({ action: "insert", actorApiKeyId: editor.id, actorUser: null });
  });

  it("an editor key posts incident updates, named as their author and actor", async () => {
    const editor = await issueKey(acme.tokens.owner, "editor");
    const created = await graphql(server.url, CREATE_INCIDENT, { title: "Updated by a tool" }, { token: editor.token });
    const incidentId = created.data!.createIncident.incident.rowId as string;
    const posted = await graphql(
      server.url,
      POST_UPDATE,
      { input: { incidentId, status: "identified", body: "The tool found the cause." } },
      { token: editor.token },
    );
    expect([posted.status, posted.code]).toEqual([200, undefined]);
    const update = posted.data!.postIncidentUpdate.incidentUpdate;
    expect(update.authorApiKeyId).toBe(editor.id);
    const stored = await server.db.rootPool.query(
      "select author_user_id, author_api_key_id from app_public.incident_updates where id = $1",
      [update.rowId],
    );
    expect(stored.rows[0]).toEqual({ author_user_id: null, author_api_key_id: editor.id });
    const audit = await server.db.rootPool.query(
      `select actor_user_id, actor_api_key_id from app_public.audit_log
       where organization_id = $1 and target_table = 'incident_updates' and target_id = $2`,
      [acme.organizationId, update.rowId],
    );
    expect(audit.rows).toEqual([{ actor_user_id: null, actor_api_key_id: editor.id }]);
  });

  it("an admin key manages services but no member, key, organization setting or billing", async () => {
    const admin = await issueKey(acme.tokens.owner, "admin");
    const service = await graphql(server.url, CREATE_SERVICE, { name: "Keyed service" }, { token: admin.token });
    expect(service.errors).toBeUndefined();
    const renamed = await graphql(
      server.url,
      `
        mutation R($id: UUID!) {
          updateService(input: { rowId: $id, patch: { name: "Keyed service v2" } }) {
            service {
              name
            }
          }
        }
      `,
      { id: service.data!.createService.service.rowId },
      { token: admin.token },
    );
    expect(renamed.data!.updateService.service.name).toBe("Keyed service v2");

    const snapshot = async () => {
      const { rows } = await server.db.rootPool.query(
        `select (select json_agg(json_build_array(m.user_id, m.role) order by m.user_id)
                 from app_public.organization_memberships m where m.organization_id = $1) as members,
                (select count(*)::int from app_public.organization_invitations i where i.organization_id = $1) as invitations,
                (select count(*)::int from app_public.api_keys k where k.organization_id = $1) as keys,
                (select json_build_array(o.name, o.slug, o.plan) from app_public.organizations o where o.id = $1) as organization`,
        [acme.organizationId],
      );
      return rows[0];
    };
    const before = await snapshot();
    const attempts: Record<string, [string, Record<string, unknown>]> = {
      inviteMember: [
        `mutation I($email: String!) { inviteMember(input: { email: $email, role: viewer }) { token } }`,
        { email: "invited-by-key@example.com" },
      ],
      changeMemberRole: [
        `mutation C($userId: UUID!) { changeMemberRole(input: { userId: $userId, role: viewer }) { membership { role } } }`,
        { userId: acme.users.editor.userId },
      ],
      removeMember: [
        `mutation X($userId: UUID!) { removeMember(input: { userId: $userId }) { membership { rowId } } }`,
        { userId: acme.users.viewer.userId },
      ],
      createApiKey: [CREATE_KEY, { input: { name: "Another", role: "viewer" } }],
      startCheckout: [`mutation { startCheckout(input: { plan: pro }) { url } }`, {}],
    };
    for (const [name, [query, variables]] of Object.entries(attempts)) {
      const result = await graphql(server.url, query, variables, { token: admin.token });
      expect([result.status, result.code, result.data?.[name] ?? null], name).toEqual([
        403,
        "API_KEY_NOT_ALLOWED",
        null,
      ]);
    }
    const rename = await graphql(
      server.url,
      `
        mutation U($id: UUID!) {
          updateOrganization(input: { rowId: $id, patch: { name: "Renamed by a key" } }) {
            organization {
              name
            }
          }
        }
      `,
      { id: acme.organizationId },
      { token: admin.token },
    );
    // The row policy hides the organization from a key's update: nothing matches, so 404.
    expect(rename.data?.updateOrganization?.organization ?? null).toBeNull();
    expect([rename.status, rename.code]).toEqual([404, "NOT_FOUND"]);
    expect(await snapshot()).toEqual(before);
  });

  it("a key cannot switch to another organization", async () => {
    const admin = await issueKey(acme.tokens.owner, "admin");
    const result = await graphql(
      server.url,
      `
        mutation S($id: UUID!) {
          switchOrganization(input: { organizationId: $id }) {
            token
          }
        }
      `,
      { id: globex.organizationId },
      { token: admin.token },
    );
    expect(result.data?.switchOrganization ?? null).toBeNull();
    expect([result.status, result.code]).toEqual([403, "API_KEY_NOT_ALLOWED"]);
  });

  it("a key finds nothing of another organization and only ever sees its own", async () => {
    const globexIncident = (
      await graphql(server.url, CREATE_INCIDENT, { title: "Globex only" }, { token: globex.tokens.editor })
    ).data!.createIncident.incident.rowId as string;
    const acmeIncident = (
      await graphql(server.url, CREATE_INCIDENT, { title: "Acme only" }, { token: acme.tokens.editor })
    ).data!.createIncident.incident.rowId as string;
    const keys = [
      { org: acme, other: globexIncident, own: acmeIncident, key: await issueKey(acme.tokens.owner, "admin") },
      { org: acme, other: globexIncident, own: acmeIncident, key: await issueKey(acme.tokens.owner, "editor") },
      { org: acme, other: globexIncident, own: acmeIncident, key: await issueKey(acme.tokens.owner, "viewer") },
      { org: globex, other: acmeIncident, own: globexIncident, key: await issueKey(globex.tokens.owner, "admin") },
    ];
    const PROBE = `query P($id: UUID!) {
      incident(rowId: $id) { rowId }
      incidents { nodes { rowId } }
      services { nodes { rowId } }
      organizations { nodes { rowId } }
      organizationMemberships { nodes { user { rowId } } }
      currentOrganization { rowId }
    }`;
    for (const { org, other, own, key } of keys) {
      const idsOf = async (table: string) =>
        (
          await server.db.rootPool.query<{ id: string }>(
            `select id from app_public.${table} where organization_id = $1`,
            [org.organizationId],
          )
        ).rows.map((row) => row.id);
      const foreign = await graphql(server.url, PROBE, { id: other }, { token: key.token });
      expect(foreign.errors).toBeUndefined();
      expect(foreign.data!.incident).toBeNull();
      const incidents = foreign.data!.incidents.nodes.map((node: { rowId: string }) => node.rowId);
      expect(incidents).toContain(own);
      expect(incidents).not.toContain(other);
      const ownIncidents = await idsOf("incidents");
      expect(incidents.every((id: string) => ownIncidents.includes(id))).toBe(true);
      const ownServices = await idsOf("services");
      expect(foreign.data!.services.nodes.every((node: { rowId: string }) => ownServices.includes(node.rowId))).toBe(
        true,
      );
      // Keys list no organization today (the organizations policy looks at memberships), and
      // certainly none but their own.
      expect(
        foreign.data!.organizations.nodes.every((node: { rowId: string }) => node.rowId === org.organizationId),
      ).toBe(true);
      expect(foreign.data!.currentOrganization).toEqual({ rowId: org.organizationId });
      const members = foreign.data!.organizationMemberships.nodes.map(
        (node: { user: { rowId: string } | null }) => node.user?.rowId,
      );
      expect(members.length).toBeGreaterThan(0);
      const ownMembers = Object.values(org.users).map((user) => user.userId);
      expect(members.every((id: string | undefined) => id !== undefined && ownMembers.includes(id))).toBe(true);

      const ownProbe = await graphql(server.url, PROBE, { id: own }, { token: key.token });
      expect(ownProbe.data!.incident).toEqual({ rowId: own });
    }
    // A fresh key of B lists exactly B's services.
    const emptyKey = await issueKey(globex.tokens.owner, "viewer");
    const services = await graphql(
      server.url,
      `
        query {
          services {
            nodes {
              rowId
            }
          }
        }
      `,
      {},
      { token: emptyKey.token },
    );
    const globexServices = await server.db.rootPool.query(
      "select count(*)::int as n from app_public.services where organization_id = $1",
      [globex.organizationId],
    );
    expect(services.data!.services.nodes.length).toBe(globexServices.rows[0].n);
  });

  it("sets lastUsedAt once the key is used", async () => {
    const key = await issueKey(acme.tokens.owner, "viewer");
    const lastUsed = async () =>
      (await graphql(server.url, LIST_KEYS, {}, { token: acme.tokens.owner })).data!.apiKeys.nodes.find(
        (node: { rowId: string }) => node.rowId === key.id,
      ).lastUsedAt as string | null;
    expect(await lastUsed()).toBeNull();
    const before = Date.now();
    expect((await graphql(server.url, INCIDENTS, {}, { token: key.token })).status).toBe(200);
    const used = await lastUsed();
    expect(used).not.toBeNull();
    expect(Math.abs(new Date(used!).getTime() - before)).toBeLessThan(60_000);
  });
});

describe("refused keys", () => {
  it("answers 401 INVALID_API_KEY, reason revoked, for a revoked key", async () => {
    const key = await issueKey(acme.tokens.owner, "editor");
    expect((await graphql(server.url, INCIDENTS, {}, { token: key.token })).status).toBe(200);
    const revoked = await graphql(server.url, REVOKE_KEY, { id: key.id }, { token: acme.tokens.owner });
    expect(revoked.errors).toBeUndefined();
    const result = await graphql(server.url, INCIDENTS, {}, { token: key.token });
    expect(refusal(result)).toEqual([401, "INVALID_API_KEY", "revoked"]);
    expect(result.data ?? null).toBeNull();
    expect(result.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("answers 401 INVALID_API_KEY, reason expired, once the key's expiry has passed", async () => {
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const key = await issueKey(acme.tokens.owner, "viewer", "Short-lived", expiresAt);
    expect((await graphql(server.url, INCIDENTS, {}, { token: key.token })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, new Date(expiresAt).getTime() - Date.now()) + 300));
    const result = await graphql(server.url, INCIDENTS, {}, { token: key.token });
    expect(refusal(result)).toEqual([401, "INVALID_API_KEY", "expired"]);
  });

  it("refuses an expiry in the past with 422 VALIDATION_FAILED", async () => {
    const result = await graphql(
      server.url,
      CREATE_KEY,
      { input: { name: "Born expired", role: "viewer", expiresAt: new Date(Date.now() - 60_000).toISOString() } },
      { token: acme.tokens.owner },
    );
    expect([result.status, result.code]).toEqual([422, "VALIDATION_FAILED"]);
  });

  it("answers 401 INVALID_API_KEY, reason malformed, when one character is changed", async () => {
    const key = await issueKey(acme.tokens.owner, "viewer");
    const body = key.token.slice(4, -6);
    const replacement = ["A", "B"].find((c) => c !== body[10])!;
    const changedBody = body.slice(0, 10) + replacement + body.slice(11);
    expect(checksum(changedBody)).not.toBe(key.token.slice(-6));
    const tampered = `ipk_${changedBody}${key.token.slice(-6)}`;
    const result = await graphql(server.url, INCIDENTS, {}, { token: tampered });
    expect(refusal(result)).toEqual([401, "INVALID_API_KEY", "malformed"]);
    const truncated = await graphql(server.url, INCIDENTS, {}, { token: key.token.slice(0, -1) });
    expect(refusal(truncated)).toEqual([401, "INVALID_API_KEY", "malformed"]);
    // The original still works.
    expect((await graphql(server.url, INCIDENTS, {}, { token: key.token })).status).toBe(200);
  });

  it("answers 401 INVALID_API_KEY, reason unknown, for a well-formed key nobody issued", async () => {
    const body = randomBytes(32).toString("base64url");
    expect(body).toHaveLength(43);
    const result = await graphql(server.url, INCIDENTS, {}, { token: `ipk_${body}${checksum(body)}` });
    expect(refusal(result)).toEqual([401, "INVALID_API_KEY", "unknown"]);
  });
});

describe("attachments over REST with a key", () => {
  const upload = async (token: string, incidentId: string, filename: string) => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(Buffer.from("log line\n"))], { type: "text/plain" }), filename);
    const response = await fetch(`${server.url}/api/incidents/${incidentId}/attachments`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    const body = (await response.json()) as {
      attachment?: { id: string };
      errors?: { extensions: { code: string; reason?: string } }[];
    };
    return { status: response.status, body, code: body.errors?.[0]?.extensions.code };
  };

  it("accepts an editor key's upload and refuses a viewer key's (403 FORBIDDEN) and a revoked key's (401)", async () => {
    const incidentId = (
      await graphql(server.url, CREATE_INCIDENT, { title: "With a tool's files" }, { token: acme.tokens.editor })
    ).data!.createIncident.incident.rowId as string;
    const editor = await issueKey(acme.tokens.owner, "editor");
    const viewer = await issueKey(acme.tokens.owner, "viewer");
    const accepted = await upload(editor.token, incidentId, "tool.log");
    expect(accepted.status).toBe(201);
    const stored = await server.db.rootPool.query(
      "select organization_id, incident_id from app_public.incident_attachments where id = $1",
      [accepted.body.attachment!.id],
    );
    expect(stored.rows).toEqual([{ organization_id: acme.organizationId, incident_id: incidentId }]);
    const download = await fetch(`${server.url}/api/attachments/${accepted.body.attachment!.id}`, {
      headers: { authorization: `Bearer ${viewer.token}` },
    });
    expect(download.status).toBe(200);

    const refused = await upload(viewer.token, incidentId, "viewer.log");
    expect([refused.status, refused.code]).toEqual([403, "FORBIDDEN"]);
    const foreignKey = await issueKey(globex.tokens.owner, "editor");
    const foreign = await upload(foreignKey.token, incidentId, "foreign.log");
    expect([foreign.status, foreign.code]).toEqual([404, "NOT_FOUND"]);
    await graphql(server.url, REVOKE_KEY, { id: editor.id }, { token: acme.tokens.owner });
    const revoked = await upload(editor.token, incidentId, "revoked.log");
    expect([revoked.status, revoked.code, revoked.body.errors?.[0]?.extensions.reason]).toEqual([
      401,
      "INVALID_API_KEY",
      "revoked",
    ]);
    const { rows } = await server.db.rootPool.query(
      "select count(*)::int as n from app_public.incident_attachments where filename in ('viewer.log', 'foreign.log', 'revoked.log')",
    );
    expect(rows[0].n).toBe(0);
  });
});

describe("rate limit", () => {
  let limited: TestServer;
  let members: OrganizationMembers;
  const LIMIT = 5;

  beforeAll(async () => {
    limited = await startTestServer({ MULTI_TENANT_ENABLED: "true", API_KEY_REQUESTS_PER_MINUTE: String(LIMIT) });
    members = await organizationWithMembers(limited, "limited-keys");
  });
  afterAll(async () => {
    await limited.stop();
  });

  it("answers 429 RATE_LIMITED with Retry-After once a key exceeds its per-minute budget, per key", async () => {
    const issue = async () => {
      const result = await graphql(
        limited.url,
        CREATE_KEY,
        { input: { name: `Busy ${randomBytes(3).toString("hex")}`, role: "viewer" } },
        { token: members.tokens.owner },
      );
      return result.data!.createApiKey.token as string;
    };
    const busy = await issue();
    const quiet = await issue();
    for (let i = 0; i < LIMIT; i++) {
      const ok = await graphql(limited.url, INCIDENTS, {}, { token: busy });
      expect(ok.status, `request ${i + 1}`).toBe(200);
    }
    const over = await graphql(limited.url, INCIDENTS, {}, { token: busy });
    expect([over.status, over.code]).toEqual([429, "RATE_LIMITED"]);
    expect(over.data ?? null).toBeNull();
    const retryAfter = Number(over.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(over.errors![0]!.extensions!.retryAfterSeconds).toBe(retryAfter);
    // Another key, and people, keep their own budget.
    expect((await graphql(limited.url, INCIDENTS, {}, { token: quiet })).status).toBe(200);
    expect((await graphql(limited.url, INCIDENTS, {}, { token: members.tokens.viewer })).status).toBe(200);
  });
});

describe("what only people may read", () => {
  it("keeps the audit log and pending invitations from keys, even admin ones", async () => {
    const invited = await graphql(
      server.url,
      `
        mutation {
          inviteMember(input: { email: "pending-for-keys@example.com" }) {
            token
          }
        }
      `,
      {},
      { token: acme.tokens.owner },
    );
    expect(invited.errors).toBeUndefined();
    const READ = `{ auditLogs { totalCount } organizationInvitations { totalCount } }`;
    const asOwner = await graphql(server.url, READ, {}, { token: acme.tokens.owner });
    expect(asOwner.data!.auditLogs.totalCount).toBeGreaterThan(0);
    expect(asOwner.data!.organizationInvitations.totalCount).toBeGreaterThan(0);
    const admin = await issueKey(acme.tokens.owner, "admin");
    const asKey = await graphql(server.url, READ, {}, { token: admin.token });
    expect(asKey.data).toEqual({ auditLogs: { totalCount: 0 }, organizationInvitations: { totalCount: 0 } });
  });
});
