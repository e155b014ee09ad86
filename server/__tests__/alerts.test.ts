/**
 * Inbound alerts over HTTP: owners and admins manage alert sources (the secret is shown once,
 * only a masked hint is readable), and POST /hooks/alerts/<id> opens, updates and resolves
 * incidents from the real Alertmanager and Grafana payloads (fixtures/alerts) and the generic
 * format, de-duplicated by fingerprint, with idempotency keys, signatures, bearer secrets and
 * API keys, plan limits, a request log and nothing crossing organizations.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureHeader } from "../src/alerts/signature.ts";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), "fixtures/alerts");
/** A fixture as it travels: compact JSON (Alertmanager's encoder adds a newline). */
const fixture = (name: string) => {
  const compact = JSON.stringify(JSON.parse(readFileSync(resolve(fixtures, `${name}.json`), "utf8")));
  return name.startsWith("alertmanager") ? `${compact}\n` : compact;
};

let server: TestServer;
let acme: OrganizationMembers;
let globex: OrganizationMembers;
let checkoutServiceId: string;
let fallbackServiceId: string;

const CREATE_SERVICE = `mutation S($name: String!) { createService(input: { service: { name: $name } }) { service { rowId } } }`;
const CREATE_SOURCE = `mutation C($input: CreateAlertSourceInput!) {
  createAlertSource(input: $input) {
    secret hookPath
    alertSource { rowId name format defaultServiceId defaultSeverity visibility enabled secretHint hookPath createdById }
  }
}`;
const ROTATE_SECRET = `mutation R($id: UUID!) { rotateAlertSourceSecret(input: { id: $id }) { secret alertSource { rowId secretHint } } }`;
const UPDATE_SOURCE = `mutation U($id: UUID!, $patch: AlertSourcePatch!) {
  updateAlertSource(input: { rowId: $id, patch: $patch }) { alertSource { rowId enabled name } }
}`;
const DELETE_SOURCE = `mutation D($id: UUID!) { deleteAlertSource(input: { rowId: $id }) { alertSource { rowId } } }`;
const LIST_SOURCES = `query { alertSources { nodes { rowId name secretHint lastReceivedAt } } }`;
const LIST_REQUESTS = `query { alertRequests { nodes { alertSourceId accepted code httpStatus alertCount incidentIds authenticatedBy } } }`;
const CREATE_KEY = `mutation K($input: CreateApiKeyInput!) { createApiKey(input: $input) { token } }`;

interface Source {
  id: string;
  secret: string;
  hookPath: string;
}

async function createSource(org: OrganizationMembers, input: Record<string, unknown>, role = "owner" as const) {
  const result = await graphql(
    server.url,
    CREATE_SOURCE,
    { input: { name: `source ${randomUUID().slice(0, 8)}`, ...input } },
    { token: org.tokens[role] },
  );
  expect(result.errors).toBeUndefined();
  const created = result.data!.createAlertSource;
  return { id: created.alertSource.rowId, secret: created.secret, hookPath: created.hookPath } as Source;
}

interface SendOptions {
  /** How to authenticate: sign (default), the secret as bearer, an API key, or nothing. */
  auth?: { sign: string; timestamp?: number } | { bearer: string } | "none";
  idempotencyKey?: string;
}

async function send(source: Source | string, body: string | object, options: SendOptions = {}) {
  const raw = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  const headers: Record<string, string> = { "content-type": "application/json" };
  const auth = options.auth ?? (typeof source === "string" ? "none" : { sign: source.secret });
  if (auth !== "none" && "sign" in auth) {
    const timestamp = String(auth.timestamp ?? Math.floor(Date.now() / 1000));
    headers["x-incidentpulse-timestamp"] = timestamp;
    headers["x-incidentpulse-signature"] = signatureHeader(auth.sign, timestamp, raw);
  } else if (auth !== "none") {
    headers.authorization = `Bearer ${auth.bearer}`;
  }
  if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
  const id = typeof source === "string" ? source : source.id;
  const response = await fetch(`${server.url}/hooks/alerts/${id}`, { method: "POST", headers, body: raw });
  const json = (await response.json()) as Record<string, any>;
  return {
    status: response.status,
    headers: response.headers,
    body: json,
    code: json.errors?.[0]?.extensions?.code as string | undefined,
    reason: json.errors?.[0]?.extensions?.reason as string | undefined,
  };
}

const query = async <T = Record<string, any>>(text: string, values: unknown[] = []) =>
  (await server.db.rootPool.query(text, values)).rows as T[];

const incidentsOf = (org: OrganizationMembers) =>
  query<{ id: string; title: string; severity: string; status: string; visibility: string }>(
    "select id, title, severity, status, visibility from app_public.incidents where organization_id = $1 order by created_at",
    [org.organizationId],
  );

const incident = async (id: string) =>
  (
    await query(
      `select i.*, (select count(*)::int from app_public.incident_updates u where u.incident_id = i.id) as updates,
              (select array_agg(c.service_id::text || '=' || c.status) from app_public.incident_services c
               where c.incident_id = i.id) as claims
       from app_public.incidents i where i.id = $1`,
      [id],
    )
  )[0]!;

const serviceStatus = async (id: string) =>
  (await query<{ status: string }>("select status from app_public.services where id = $1", [id]))[0]!.status;

const requestLog = (source: Source) =>
  query<{ accepted: boolean; code: string; http_status: number; alert_count: number; authenticated_by: string | null }>(
    `select accepted, code, http_status, alert_count, authenticated_by, incident_ids, body_excerpt
     from app_public.alert_requests where alert_source_id = $1 order by received_at, id`,
    [source.id],
  );

async function issueKey(org: OrganizationMembers, role: "viewer" | "editor" | "admin") {
  const result = await graphql(
    server.url,
    CREATE_KEY,
    { input: { name: `${role} key`, role } },
    { token: org.tokens.owner },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createApiKey.token as string;
}

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
  acme = await organizationWithMembers(server, "acme-alerts");
  globex = await organizationWithMembers(server, "globex-alerts");
  const checkout = await graphql(server.url, CREATE_SERVICE, { name: "Checkout" }, { token: acme.tokens.owner });
  checkoutServiceId = checkout.data!.createService.service.rowId;
  const fallback = await graphql(server.url, CREATE_SERVICE, { name: "Platform" }, { token: acme.tokens.owner });
  fallbackServiceId = fallback.data!.createService.service.rowId;
});
afterAll(async () => {
  await server.stop();
});

describe("managing alert sources", () => {
  it("creates a source whose secret is shown once and kept only sealed, with a masked hint", async () => {
    const result = await graphql(
      server.url,
      CREATE_SOURCE,
      { input: { name: "Prometheus", format: "alertmanager", defaultServiceId: fallbackServiceId } },
      { token: acme.tokens.admin },
    );
    expect(result.errors).toBeUndefined();
    const { secret, hookPath, alertSource } = result.data!.createAlertSource;
    expect(secret).toMatch(/^ipas_[A-Za-z0-9_-]{43}$/);
    expect(hookPath).toBe(`/hooks/alerts/${alertSource.rowId}`);
    expect(alertSource).toMatchObject({
      name: "Prometheus",
      format: "alertmanager",
      defaultServiceId: fallbackServiceId,
      defaultSeverity: "high",
      visibility: "internal",
      enabled: true,
      secretHint: `ipas_…${secret.slice(-4)}`,
      hookPath,
      createdById: acme.users.admin.userId,
    });

    // Nothing readable holds the secret: not the row, not the sealed bytes, not the audit log.
    const [stored] = await query<{ n: number }>(
      `select (select count(*) from app_public.alert_sources s where strpos(s::text, $1) > 0)
            + (select count(*) from app_private.alert_source_secrets k where position(convert_to($1, 'UTF8') in k.sealed_secret) > 0)
            + (select count(*) from app_public.audit_log a where strpos(a::text, $1) > 0) as n`,
      [secret.slice(5)],
    );
    expect(Number(stored!.n)).toBe(0);

    // Every member sees the source and its hint; no field gives the secret back.
    const listed = await graphql(server.url, LIST_SOURCES, {}, { token: acme.tokens.viewer });
    expect(listed.data!.alertSources.nodes).toContainEqual(
      expect.objectContaining({ rowId: alertSource.rowId, secretHint: alertSource.secretHint }),
    );
    expect(JSON.stringify(listed.data)).not.toContain(secret.slice(5));
    for (const field of ["secret", "sealedSecret"]) {
      const asking = await graphql(
        server.url,
        `query { alertSources { nodes { ${field} } } }`,
        {},
        { token: acme.tokens.owner },
      );
      expect([asking.status, asking.code]).toEqual([400, "GRAPHQL_VALIDATION_FAILED"]);
    }
  });

  it("lets only owners and admins (people, not keys) create, change, rotate and delete sources", async () => {
    for (const role of ["editor", "viewer"] as const) {
      const refused = await graphql(
        server.url,
        CREATE_SOURCE,
        { input: { name: `by ${role}` } },
        { token: acme.tokens[role] },
      );
      expect([refused.status, refused.code]).toEqual([403, "FORBIDDEN"]);
    }
    const adminKey = await issueKey(acme, "admin");
    const byKey = await graphql(server.url, CREATE_SOURCE, { input: { name: "by key" } }, { token: adminKey });
    expect([byKey.status, byKey.code]).toEqual([403, "API_KEY_NOT_ALLOWED"]);
    expect(await query("select 1 from app_public.alert_sources where name like 'by %'")).toEqual([]);

    const source = await createSource(acme, { name: "Managed" });
    const byEditor = await graphql(
      server.url,
      UPDATE_SOURCE,
      { id: source.id, patch: { enabled: false } },
      { token: acme.tokens.editor },
    );
    expect(byEditor.code).toBe("NOT_FOUND");
    const rotatedByEditor = await graphql(server.url, ROTATE_SECRET, { id: source.id }, { token: acme.tokens.editor });
    expect(rotatedByEditor.code).toBe("FORBIDDEN");
    const deletedByEditor = await graphql(server.url, DELETE_SOURCE, { id: source.id }, { token: acme.tokens.editor });
    expect(deletedByEditor.code).toBe("NOT_FOUND");

    const renamed = await graphql(
      server.url,
      UPDATE_SOURCE,
      { id: source.id, patch: { name: "Renamed" } },
      { token: acme.tokens.admin },
    );
    expect(renamed.data!.updateAlertSource.alertSource).toMatchObject({ name: "Renamed", enabled: true });
    const deleted = await graphql(server.url, DELETE_SOURCE, { id: source.id }, { token: acme.tokens.owner });
    expect(deleted.errors).toBeUndefined();
    expect(
      await query("select 1 from app_private.alert_source_secrets where alert_source_id = $1", [source.id]),
    ).toEqual([]);
  });

  it("rotates the secret: the old one stops working at once", async () => {
    const source = await createSource(acme, { name: "Rotated" });
    const rotated = await graphql(server.url, ROTATE_SECRET, { id: source.id }, { token: acme.tokens.admin });
    expect(rotated.errors).toBeUndefined();
    const { secret } = rotated.data!.rotateAlertSourceSecret;
    expect(secret).not.toBe(source.secret);
    expect(rotated.data!.rotateAlertSourceSecret.alertSource.secretHint).toBe(`ipas_…${secret.slice(-4)}`);

    const alert = { title: "Disk almost full", fingerprint: "disk" };
    const old = await send(source, alert);
    expect([old.status, old.code, old.reason]).toEqual([401, "INVALID_SIGNATURE", "mismatch"]);
    const fresh = await send({ ...source, secret }, alert);
    expect(fresh.status).toBe(202);
  });

  it("shows another organization nothing of a source, and lets it change nothing", async () => {
    const source = await createSource(acme, { name: "Private" });
    const listed = await graphql(server.url, LIST_SOURCES, {}, { token: globex.tokens.owner });
    expect(listed.data!.alertSources.nodes.map((s: { rowId: string }) => s.rowId)).not.toContain(source.id);
    const rotated = await graphql(server.url, ROTATE_SECRET, { id: source.id }, { token: globex.tokens.owner });
    expect([rotated.status, rotated.code]).toEqual([404, "ALERT_SOURCE_NOT_FOUND"]);
    const updated = await graphql(
      server.url,
      UPDATE_SOURCE,
      { id: source.id, patch: { enabled: false } },
      { token: globex.tokens.owner },
    );
    expect(updated.code).toBe("NOT_FOUND");
    const deleted = await graphql(server.url, DELETE_SOURCE, { id: source.id }, { token: globex.tokens.owner });
    expect(deleted.code).toBe("NOT_FOUND");
    const fresh = await send(source, { title: "Still mine", fingerprint: "mine" });
    expect(fresh.status).toBe(202);
  });
});

describe("Alertmanager (webhook v4, several alerts per request)", () => {
  it("opens one incident per alert, updates it when it fires again, and resolves it", async () => {
    const source = await createSource(acme, { format: "alertmanager", defaultServiceId: fallbackServiceId });
    const before = (await incidentsOf(acme)).length;

    const firing = await send(source, fixture("alertmanager-firing"));
    expect(firing.status).toBe(202);
    expect(firing.body.accepted).toBe(2);
    expect(
      firing.body.incidents.map((i: { action: string; fingerprint: string }) => [i.fingerprint, i.action]),
    ).toEqual([
      ["d8499fc59097237b", "opened"],
      ["9f9c6e6068850328", "opened"],
    ]);
    const [first, second] = firing.body.incidents.map((i: { id: string }) => i.id);
    expect(first).not.toBe(second);
    expect((await incidentsOf(acme)).length).toBe(before + 2);
    const opened = await incident(first);
    expect(opened).toMatchObject({
      title: "HighErrorRate: High HTTP 5xx error rate on checkout-01.prod.example.com:8080",
      severity: "critical",
      status: "investigating",
      visibility: "internal",
      acknowledged_at: null,
      updates: 1,
      claims: [`${checkoutServiceId}=major_outage`],
    });
    expect(opened.description).toContain("checkout-01.prod.example.com:8080 are failing with HTTP 5xx");
    expect(opened.started_at.toISOString()).toBe("2025-06-03T09:14:07.481Z");
    expect(await serviceStatus(checkoutServiceId)).toBe("major_outage");

    // Alertmanager repeats a group's notification: the same fingerprints update, never reopen.
    const again = await send(source, fixture("alertmanager-firing"));
    expect(again.body.incidents.map((i: { id: string; action: string }) => [i.id, i.action])).toEqual([
      [first, "updated"],
      [second, "updated"],
    ]);
    expect((await incidentsOf(acme)).length).toBe(before + 2);
    // An alert firing again is not someone acknowledging.
    expect(await incident(first)).toMatchObject({ updates: 2, acknowledged_at: null });

    const resolved = await send(source, fixture("alertmanager-resolved"));
    expect(resolved.status).toBe(202);
    expect(resolved.body.incidents.map((i: { id: string; action: string }) => [i.id, i.action])).toEqual([
      [first, "resolved"],
      [second, "resolved"],
    ]);
    const closed = await incident(first);
    expect(closed.status).toBe("resolved");
    expect(closed.root_cause).toContain("HighErrorRate");
    expect(closed.resolution_summary).toContain("resolved automatically");
    expect(await serviceStatus(checkoutServiceId)).toBe("operational");
    const openAlerts = await query(
      "select 1 from app_public.incident_alerts where alert_source_id = $1 and resolved_at is null",
      [source.id],
    );
    expect(openAlerts).toEqual([]);

    // Resolved twice (an HA pair): nothing left to resolve.
    const twice = await send(source, fixture("alertmanager-resolved"));
    expect(twice.body.incidents.map((i: { action: string }) => i.action)).toEqual(["ignored", "ignored"]);

    // The same alert firing later is a new incident.
    const later = await send(source, fixture("alertmanager-firing"));
    expect(later.body.incidents.map((i: { action: string }) => i.action)).toEqual(["opened", "opened"]);
    expect(later.body.incidents[0].id).not.toBe(first);
    await send(source, fixture("alertmanager-resolved"));
  });

  it("computes Alertmanager's fingerprint when a sender leaves it out", async () => {
    const source = await createSource(acme, { format: "alertmanager" });
    const payload = JSON.parse(fixture("alertmanager-firing"));
    for (const alert of payload.alerts) delete alert.fingerprint;
    const result = await send(source, payload);
    expect(result.body.incidents.map((i: { fingerprint: string }) => i.fingerprint)).toEqual([
      "d8499fc59097237b",
      "9f9c6e6068850328",
    ]);
    await send(source, fixture("alertmanager-resolved"));
  });
});

describe("Grafana alerting (webhook contact point)", () => {
  it("opens and resolves incidents, authenticated by the secret as a bearer token", async () => {
    const source = await createSource(acme, { format: "grafana", defaultSeverity: "medium", visibility: "public" });
    const firing = await send(source, fixture("grafana-firing"), { auth: { bearer: source.secret } });
    expect(firing.status).toBe(202);
    expect(
      firing.body.incidents.map((i: { fingerprint: string; action: string }) => [i.fingerprint, i.action]),
    ).toEqual([
      ["381af57e5431a08f", "opened"],
      [expect.stringMatching(/^[0-9a-f]{16}$/), "opened"],
    ]);
    const opened = await incident(firing.body.incidents[0].id);
    expect(opened).toMatchObject({
      severity: "critical",
      visibility: "public",
      title: "Checkout high error rate: High HTTP 5xx error rate on checkout-01.prod.example.com:8080",
      claims: [`${checkoutServiceId}=major_outage`],
    });

    const resolved = await send(source, fixture("grafana-resolved"), { auth: { bearer: source.secret } });
    expect(resolved.body.incidents.map((i: { action: string }) => i.action)).toEqual(["resolved", "resolved"]);
    expect((await incident(firing.body.incidents[1].id)).status).toBe("resolved");
    expect((await requestLog(source)).map((r) => r.authenticated_by)).toEqual(["secret", "secret"]);

    // The status page reads generic updates; the alert's own text (hosts, links) stays internal.
    const { rows: updates } = await server.db.rootPool.query<{ body: string; is_public: boolean }>(
      "select body, is_public from app_public.incident_updates where incident_id = $1 order by created_at, id",
      [firing.body.incidents[1].id],
    );
    expect(updates.filter((update) => update.is_public).map((update) => update.body)).toEqual([
      "We are investigating this issue.",
      "This issue has been resolved.",
    ]);
    const internal = updates.filter((update) => !update.is_public).map((update) => update.body);
    expect(internal).toHaveLength(2);
    expect(internal.some((body) => body.startsWith('Opened by alert source "'))).toBe(true);
    expect(internal.some((body) => body.startsWith("Alert resolved: "))).toBe(true);

    const wrong = await send(source, fixture("grafana-firing"), { auth: { bearer: "ipas_not-the-secret" } });
    expect([wrong.status, wrong.code, wrong.reason]).toEqual([401, "INVALID_SIGNATURE", "mismatch"]);
  });
});

describe("the generic format", () => {
  it("finds the service by name or id, raises the severity when worse, and resolves", async () => {
    const source = await createSource(acme, { defaultServiceId: fallbackServiceId, defaultSeverity: "low" });
    const warning = await send(source, {
      title: "Checkout latency above 2 s",
      severity: "warning",
      service: "checkout",
      fingerprint: "checkout-latency",
      message: "p99 latency is 2.4 s",
      occurred_at: "2025-06-03T09:00:00+02:00",
    });
    expect(warning.status).toBe(202);
    const id = warning.body.incidents[0].id;
    expect(await incident(id)).toMatchObject({
      severity: "medium",
      description: "p99 latency is 2.4 s",
      claims: [`${checkoutServiceId}=degraded_performance`],
    });
    expect((await incident(id)).started_at.toISOString()).toBe("2025-06-03T07:00:00.000Z");

    const critical = await send(source, {
      title: "Checkout latency above 2 s",
      severity: "critical",
      service: checkoutServiceId,
      fingerprint: "checkout-latency",
    });
    expect(critical.body.incidents).toEqual([{ id, fingerprint: "checkout-latency", action: "updated" }]);
    const raised = await incident(id);
    expect(raised.severity).toBe("critical");
    const [update] = await query<{ body: string; is_public: boolean }>(
      "select body, is_public from app_public.incident_updates where incident_id = $1 order by created_at desc limit 1",
      [id],
    );
    expect(update).toMatchObject({
      is_public: false,
      body: expect.stringContaining("severity raised from medium to critical"),
    });

    // A lesser severity later never lowers it.
    await send(source, { title: "Checkout latency above 2 s", severity: "info", fingerprint: "checkout-latency" });
    expect((await incident(id)).severity).toBe("critical");

    const resolved = await send(source, {
      title: "Checkout latency above 2 s",
      status: "resolved",
      fingerprint: "checkout-latency",
    });
    expect(resolved.body.incidents).toEqual([{ id, fingerprint: "checkout-latency", action: "resolved" }]);
    expect((await incident(id)).status).toBe("resolved");
  });

  it("uses the source's defaults for an unknown service or severity, and derives a fingerprint", async () => {
    const source = await createSource(acme, { defaultServiceId: fallbackServiceId, defaultSeverity: "low" });
    const first = await send(source, { title: "Queue backlog", service: "no such service", severity: "purple" });
    expect(await incident(first.body.incidents[0].id)).toMatchObject({
      severity: "low",
      claims: [`${fallbackServiceId}=degraded_performance`],
    });
    const second = await send(source, { title: "Queue backlog", service: "no such service" });
    expect(second.body.incidents[0]).toMatchObject({ id: first.body.incidents[0].id, action: "updated" });
    await send(source, { title: "Queue backlog", service: "no such service", status: "resolved" });
  });

  it("answers 400 INVALID_PAYLOAD with details, and changes nothing", async () => {
    const source = await createSource(acme, {});
    const before = (await incidentsOf(acme)).length;
    const missing = await send(source, { severity: "critical", status: "burning" });
    expect([missing.status, missing.code]).toEqual([400, "INVALID_PAYLOAD"]);
    expect(missing.body.errors[0].extensions.details.map((d: { path: string }) => d.path).sort()).toEqual([
      "status",
      "title",
    ]);
    const notJson = await send(source, "{not json");
    expect([notJson.status, notJson.code]).toEqual([400, "INVALID_PAYLOAD"]);
    const wrongFormat = await send(source, fixture("alertmanager-firing"));
    expect([wrongFormat.status, wrongFormat.code]).toEqual([400, "INVALID_PAYLOAD"]);
    const amSource = await createSource(acme, { format: "alertmanager" });
    const notAlertmanager = await send(amSource, { title: "generic" });
    expect([notAlertmanager.status, notAlertmanager.code]).toEqual([400, "INVALID_PAYLOAD"]);
    expect((await incidentsOf(acme)).length).toBe(before);
  });
});

describe("idempotency", () => {
  it("answers a retry with the same key exactly as the first time, without a second incident", async () => {
    const source = await createSource(acme, {});
    const alert = { title: "Payment provider timeouts", fingerprint: "psp-timeouts" };
    const key = randomUUID();
    const first = await send(source, alert, { idempotencyKey: key });
    expect(first.status).toBe(202);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const retry = await send(source, alert, { idempotencyKey: key });
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    // Without the key the same alert is an update: the key is what made the retry a replay.
    const updates = async () =>
      (
        await query<{ n: number }>(
          "select count(*)::int as n from app_public.incident_updates where incident_id = $1",
          [first.body.incidents[0].id],
        )
      )[0]!.n;
    expect(await updates()).toBe(1);

    const unreadable = await send(source, alert, { idempotencyKey: "x".repeat(256) });
    expect([unreadable.status, unreadable.code]).toEqual([400, "BAD_REQUEST"]);
    const reused = await send(source, { ...alert, title: "Something else" }, { idempotencyKey: key });
    expect([reused.status, reused.code]).toEqual([409, "IDEMPOTENCY_KEY_REUSED"]);
    expect((await requestLog(source)).map((r) => r.code)).toEqual([
      "ACCEPTED",
      "REPLAYED",
      "BAD_REQUEST",
      "IDEMPOTENCY_KEY_REUSED",
    ]);
  });

  it("lets concurrent deliveries with the same key open one incident", async () => {
    const source = await createSource(acme, {});
    const alert = { title: "Concurrent delivery", fingerprint: "concurrent" };
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(source, alert, { idempotencyKey: key })));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    const opened = await query("select 1 from app_public.incident_alerts where alert_source_id = $1", [source.id]);
    expect(opened).toHaveLength(1);
  });

  it("lets concurrent deliveries of one alert without a key open one incident", async () => {
    const source = await createSource(acme, {});
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => send(source, { title: "HA pair", fingerprint: "ha-pair" })),
    );
    expect(answers.map((a) => a.body.incidents[0].action).sort()).toEqual([
      "opened",
      "updated",
      "updated",
      "updated",
      "updated",
    ]);
  });
});

describe("authentication", () => {
  it("refuses bad, stale, malformed and missing signatures with 401 and changes nothing", async () => {
    const source = await createSource(acme, {});
    const before = (await incidentsOf(acme)).length;
    const alert = { title: "Unsigned", fingerprint: "unsigned" };
    const cases: [SendOptions["auth"], string][] = [
      [{ sign: "ipas_someone-else" }, "mismatch"],
      [{ sign: source.secret, timestamp: Math.floor(Date.now() / 1000) - 301 }, "stale"],
      [{ sign: source.secret, timestamp: Math.floor(Date.now() / 1000) + 301 }, "stale"],
      ["none", "missing"],
    ];
    for (const [auth, reason] of cases) {
      const refused = await send(source, alert, { auth });
      expect([refused.status, refused.code, refused.reason]).toEqual([401, "INVALID_SIGNATURE", reason]);
    }
    // A body changed after signing.
    const timestamp = String(Math.floor(Date.now() / 1000));
    const tampered = await fetch(`${server.url}/hooks/alerts/${source.id}`, {
      method: "POST",
      headers: {
        "x-incidentpulse-timestamp": timestamp,
        "x-incidentpulse-signature": signatureHeader(source.secret, timestamp, Buffer.from(JSON.stringify(alert))),
      },
      body: JSON.stringify({ ...alert, title: "Tampered" }),
    });
    expect(tampered.status).toBe(401);
    const malformed = await fetch(`${server.url}/hooks/alerts/${source.id}`, {
      method: "POST",
      headers: { "x-incidentpulse-timestamp": "yesterday", "x-incidentpulse-signature": "sha1=abc" },
      body: JSON.stringify(alert),
    });
    expect([malformed.status, ((await malformed.json()) as any).errors[0].extensions.reason]).toEqual([
      401,
      "malformed",
    ]);
    expect((await incidentsOf(acme)).length).toBe(before);
    const log = await requestLog(source);
    expect(log).toHaveLength(6);
    expect(log.every((r) => !r.accepted && r.code === "INVALID_SIGNATURE" && r.http_status === 401)).toBe(true);
  });

  it("accepts an editor's API key of the source's organization and refuses a viewer's", async () => {
    const source = await createSource(acme, {});
    const editor = await send(
      source,
      { title: "From a script", fingerprint: "script" },
      { auth: { bearer: await issueKey(acme, "editor") } },
    );
    expect(editor.status).toBe(202);
    expect(editor.body.incidents[0].action).toBe("opened");

    const viewer = await send(
      source,
      { title: "From a viewer", fingerprint: "viewer" },
      { auth: { bearer: await issueKey(acme, "viewer") } },
    );
    expect([viewer.status, viewer.code]).toEqual([403, "FORBIDDEN"]);
    const garbage = await send(source, { title: "Garbage key" }, { auth: { bearer: `ipk_${"a".repeat(49)}` } });
    expect([garbage.status, garbage.code, garbage.reason]).toEqual([401, "INVALID_API_KEY", "malformed"]);
    expect((await requestLog(source)).map((r) => [r.code, r.authenticated_by])).toEqual([
      ["ACCEPTED", "api_key"],
      ["FORBIDDEN", "api_key"],
      ["INVALID_API_KEY", null],
    ]);
  });

  it("finds nothing with another organization's API key, and changes nothing in either", async () => {
    const source = await createSource(acme, {});
    const acmeBefore = (await incidentsOf(acme)).length;
    const globexBefore = (await incidentsOf(globex)).length;
    for (const role of ["editor", "admin"] as const) {
      const result = await send(
        source,
        { title: "Cross-tenant", fingerprint: "cross" },
        { auth: { bearer: await issueKey(globex, role) } },
      );
      expect([result.status, result.code]).toEqual([404, "ALERT_SOURCE_NOT_FOUND"]);
      // With an Idempotency-Key too (it is claimed before the alerts are applied).
      const keyed = await send(
        source,
        { title: "Cross-tenant", fingerprint: "cross" },
        { auth: { bearer: await issueKey(globex, role) }, idempotencyKey: randomUUID() },
      );
      expect([keyed.status, keyed.code]).toEqual([404, "ALERT_SOURCE_NOT_FOUND"]);
    }
    expect((await incidentsOf(acme)).length).toBe(acmeBefore);
    expect((await incidentsOf(globex)).length).toBe(globexBefore);
    // A source's secret opens only its own source.
    const globexSource = await createSource(globex, {});
    const crossed = await send(globexSource, { title: "Wrong secret" }, { auth: { sign: source.secret } });
    expect([crossed.status, crossed.code]).toEqual([401, "INVALID_SIGNATURE"]);
  });

  it("answers 404 for unknown and disabled sources, logging only those it knows", async () => {
    for (const id of [randomUUID(), "not-a-uuid"]) {
      const unknown = await send(id, { title: "Nobody home" });
      expect([unknown.status, unknown.code]).toEqual([404, "ALERT_SOURCE_NOT_FOUND"]);
    }
    const source = await createSource(acme, {});
    await graphql(
      server.url,
      UPDATE_SOURCE,
      { id: source.id, patch: { enabled: false } },
      { token: acme.tokens.admin },
    );
    const disabled = await send(source, { title: "Switched off" });
    expect([disabled.status, disabled.code]).toEqual([404, "ALERT_SOURCE_NOT_FOUND"]);
    expect((await requestLog(source)).map((r) => [r.code, r.http_status])).toEqual([["ALERT_SOURCE_NOT_FOUND", 404]]);
  });
});

describe("limits", () => {
  it("answers 402 PLAN_LIMIT_EXCEEDED on the free plan at its incident limit, and logs it", async () => {
    const free = await organizationWithMembers(server, "free-alerts", "free");
    const source = await createSource(free, {});
    const client = await server.db.rootPool.connect();
    try {
      await client.query("begin");
      await client.query("set local session_replication_role = replica");
      await client.query(
        `insert into app_public.incidents (organization_id, title) select $1, 'Fixture ' || n from generate_series(1, 50) n`,
        [free.organizationId],
      );
      await client.query("commit");
    } finally {
      client.release();
    }
    const result = await send(source, { title: "One too many", fingerprint: "too-many" });
    expect([result.status, result.code]).toEqual([402, "PLAN_LIMIT_EXCEEDED"]);
    expect(result.body.errors[0].extensions).toMatchObject({
      resource: "incidents_per_month",
      limit: 50,
      plan: "free",
    });
    expect((await incidentsOf(free)).length).toBe(50);
    expect((await requestLog(source)).map((r) => [r.code, r.http_status, r.accepted])).toEqual([
      ["PLAN_LIMIT_EXCEEDED", 402, false],
    ]);
  });

  it("answers 413 for a body over 1 MB", async () => {
    const source = await createSource(acme, {});
    const result = await send(source, { title: "Huge", message: "x".repeat(1_100_000) });
    expect([result.status, result.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    expect((await requestLog(source)).map((r) => r.code)).toEqual(["PAYLOAD_TOO_LARGE"]);
  });
});

describe("the request log", () => {
  it("keeps accepted and refused requests for admins only, within the organization", async () => {
    const source = await createSource(acme, {});
    const accepted = await send(source, { title: "Logged", fingerprint: "logged" });
    await send(source, { title: "Refused" }, { auth: { sign: "ipas_wrong" } });
    const log = await requestLog(source);
    expect(log).toMatchObject([
      {
        accepted: true,
        code: "ACCEPTED",
        http_status: 202,
        alert_count: 1,
        authenticated_by: "signature",
        incident_ids: [accepted.body.incidents[0].id],
      },
      { accepted: false, code: "INVALID_SIGNATURE", http_status: 401, alert_count: 0, authenticated_by: null },
    ]);
    expect(log[1]).toMatchObject({ body_excerpt: JSON.stringify({ title: "Refused" }) });

    const forAdmin = await graphql(server.url, LIST_REQUESTS, {}, { token: acme.tokens.admin });
    expect(
      forAdmin.data!.alertRequests.nodes.filter((r: { alertSourceId: string }) => r.alertSourceId === source.id),
    ).toHaveLength(2);
    for (const token of [acme.tokens.editor, acme.tokens.viewer, await issueKey(acme, "admin"), globex.tokens.owner]) {
      const hidden = await graphql(server.url, LIST_REQUESTS, {}, { token });
      expect(
        hidden.data!.alertRequests.nodes.filter((r: { alertSourceId: string }) => r.alertSourceId === source.id),
      ).toEqual([]);
    }
    const [heard] = await query<{ last_received_at: Date | null }>(
      "select last_received_at from app_public.alert_sources where id = $1",
      [source.id],
    );
    expect(heard!.last_received_at).not.toBeNull();
  });

  it("shows another organization none of the incidents or alerts a source opened", async () => {
    const source = await createSource(acme, {});
    const opened = await send(source, { title: "Acme only", fingerprint: "acme-only" });
    const id = opened.body.incidents[0].id;
    const seen = await graphql(
      server.url,
      `
        query ($id: UUID!) {
          incident(rowId: $id) {
            rowId
          }
          incidentAlerts {
            nodes {
              incidentId
            }
          }
        }
      `,
      { id },
      { token: globex.tokens.owner },
    );
    expect(seen.data!.incident).toBeNull();
    expect(seen.data!.incidentAlerts.nodes.map((n: { incidentId: string }) => n.incidentId)).not.toContain(id);
    const mine = await graphql(
      server.url,
      `
        query {
          incidentAlerts {
            nodes {
              incidentId
              fingerprint
              alertSourceId
            }
          }
        }
      `,
      {},
      { token: acme.tokens.viewer },
    );
    expect(mine.data!.incidentAlerts.nodes).toContainEqual({
      incidentId: id,
      fingerprint: "acme-only",
      alertSourceId: source.id,
    });
  });
});

describe("rate limit", () => {
  it("turns away an address whose requests keep failing, before reading them", async () => {
    const guarded = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
    const previous = server;
    server = guarded;
    try {
      const org = await organizationWithMembers(guarded, "guessed-alerts");
      const source = await createSource(org, {});
      const forged = { title: "Forged", fingerprint: "forged" };
      const statuses: number[] = [];
      for (let n = 0; n < 31; n++)
        statuses.push((await send(source, forged, { auth: { bearer: "ipas_guess" } })).status);
      expect(statuses.slice(0, 30).every((status) => status === 401)).toBe(true);
      const turnedAway = await send(source, forged, { auth: { bearer: source.secret } });
      expect([turnedAway.status, turnedAway.code]).toEqual([429, "RATE_LIMITED"]);
    } finally {
      server = previous;
      await guarded.stop();
    }
  });

  it("answers 429 with Retry-After past the per-source budget", async () => {
    const limited = await startTestServer({ MULTI_TENANT_ENABLED: "true", ALERT_REQUESTS_PER_MINUTE: "2" });
    const previous = server;
    server = limited;
    try {
      const org = await organizationWithMembers(limited, "limited-alerts");
      const source = await createSource(org, {});
      // Forged requests spend nothing of the source's budget.
      for (let n = 0; n < 3; n++) {
        const forged = await send(
          source,
          { title: "Forged", fingerprint: "forged" },
          { auth: { bearer: "ipas_forged" } },
        );
        expect(forged.status).toBe(401);
      }
      const statuses = [];
      for (let n = 0; n < 3; n++) statuses.push(await send(source, { title: `Burst ${n}`, fingerprint: "burst" }));
      expect(statuses.map((s) => s.status)).toEqual([202, 202, 429]);
      expect(statuses[2]!.code).toBe("RATE_LIMITED");
      expect(Number(statuses[2]!.headers.get("retry-after"))).toBeGreaterThan(0);
      // Another source has its own budget.
      const other = await createSource(org, {});
      expect((await send(other, { title: "Other" })).status).toBe(202);
    } finally {
      server = previous;
      await limited.stop();
    }
  });
});
