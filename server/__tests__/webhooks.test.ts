/**
 * Outbound webhooks over HTTP and through the worker: owners and admins (people, not API keys)
 * register endpoints and see the whsec_ secret once; incident changes reach subscribed
 * endpoints signed per Standard Webhooks (checked with the independent `standardwebhooks`
 * package); failures are retried and each attempt logged; redirects are not followed; private
 * destinations are refused after DNS resolution; an endpoint that keeps failing is turned off
 * and its owners emailed once; no organization hears of another's events.
 */
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkDestination, parseAllowList } from "../src/integrations/webhooks/destinationGuard.ts";
import { MAX_ATTEMPTS, nextAttemptAt } from "../src/integrations/webhooks/retrySchedule.ts";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";
import { runJobs } from "./helpers/webhookJobs.ts";
import { answer, startReceiver, type Receiver } from "./helpers/webhookReceiver.ts";

let server: TestServer;
let acme: OrganizationMembers;
let globex: OrganizationMembers;
let ownerPool: pg.Pool;
let receiver: Receiver;
let mailDir: string;
/** Local receivers allowed, retries due at once: a test never waits for a backoff. */
let workerEnv: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
  acme = await organizationWithMembers(server, "acme-hooks");
  globex = await organizationWithMembers(server, "globex-hooks");
  ownerPool = new pg.Pool({ connectionString: server.db.config.ownerUrl });
  ownerPool.on("error", () => undefined);
  ownerPool.on("connect", (client) => client.on("error", () => undefined));
  receiver = await startReceiver();
  const dataDir = await mkdtemp(join(tmpdir(), "incidentpulse-webhooks-"));
  mailDir = join(dataDir, "mail");
  workerEnv = { WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", WEBHOOK_RETRY_BASE_MS: "0", DATA_DIR: dataDir };
});
afterEach(async () => {
  // Each test starts with no endpoint, an empty queue and a receiver answering 200.
  await server.db.rootPool.query("delete from app_public.webhook_endpoints");
  await server.db.rootPool.query("delete from graphile_worker._private_jobs");
  receiver.requests.length = 0;
  receiver.respondWith(answer(200, "ok"));
});
afterAll(async () => {
  await receiver.close();
  await ownerPool.end();
  await server.stop();
});

const CREATE_ENDPOINT = `mutation C($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    secret
    webhookEndpoint { rowId url description eventTypes enabled includeInternal secretHint createdById }
  }
}`;
const ROTATE_SECRET = `mutation R($id: UUID!) {
  rotateWebhookEndpointSecret(input: { webhookEndpointId: $id }) { secret webhookEndpoint { rowId secretHint } }
}`;
const UPDATE_ENDPOINT = `mutation U($id: UUID!, $patch: WebhookEndpointPatch!) {
  updateWebhookEndpoint(input: { rowId: $id, patch: $patch }) {
    webhookEndpoint { rowId url enabled disabledAt disabledReason consecutiveFailures }
  }
}`;
const ENDPOINTS = `query { webhookEndpoints { nodes { rowId url secretHint } } }`;
const DELIVERY_LOG = `query L($id: UUID!) {
  webhookEndpoint(rowId: $id) {
    webhookDeliveries { nodes { rowId eventType origin messageId attempt status responseStatus durationMs error } }
  }
}`;
const SEND_TEST = `mutation T($id: UUID!) {
  sendTestWebhook(input: { webhookEndpointId: $id }) { webhookDelivery { rowId eventType origin status messageId } }
}`;
const REDELIVER = `mutation D($id: UUID!) {
  redeliverWebhook(input: { deliveryId: $id }) { webhookDelivery { rowId origin messageId attempt status } }
}`;
const CREATE_INCIDENT = `mutation I($incident: IncidentInput!) {
  createIncident(input: { incident: $incident }) { incident { rowId } }
}`;
const CREATE_KEY = `mutation K($name: String!) { createApiKey(input: { name: $name, role: admin }) { token } }`;

interface Endpoint {
  id: string;
  secret: string;
}

async function createEndpoint(token: string, input: Record<string, unknown>): Promise<Endpoint> {
  const result = await graphql(server.url, CREATE_ENDPOINT, { input }, { token });
  expect(result.errors).toBeUndefined();
  const { secret, webhookEndpoint } = result.data!.createWebhookEndpoint;
  return { id: webhookEndpoint.rowId, secret };
}

async function createIncident(token: string, incident: Record<string, unknown>): Promise<string> {
  const result = await graphql(server.url, CREATE_INCIDENT, { incident }, { token });
  expect(result.errors).toBeUndefined();
  return result.data!.createIncident.incident.rowId;
}

interface DeliveryRow {
  id: string;
  event_type: string;
  origin: string;
  message_id: string;
  attempt: number;
  status: string;
  response_status: number | null;
  duration_ms: number | null;
  response_body: string | null;
  error: string | null;
  next_attempt_at: Date | null;
}

async function deliveries(endpointId: string): Promise<DeliveryRow[]> {
  const { rows } = await server.db.rootPool.query<DeliveryRow>(
    "select * from app_public.webhook_deliveries where webhook_endpoint_id = $1 order by created_at, attempt",
    [endpointId],
  );
  return rows;
}

const headersOf = (request: Receiver["requests"][number]) =>
  Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));

describe("managing endpoints", () => {
  it("answers the whsec_ secret once; afterwards only its masked hint exists, nowhere in clear", async () => {
    const result = await graphql(
      server.url,
      CREATE_ENDPOINT,
      { input: { url: `${receiver.url}/hooks`, description: "Ops bridge", eventTypes: ["incident.created"] } },
      { token: acme.tokens.admin },
    );
    expect(result.errors).toBeUndefined();
    const { secret, webhookEndpoint } = result.data!.createWebhookEndpoint;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(webhookEndpoint).toMatchObject({
      url: `${receiver.url}/hooks`,
      description: "Ops bridge",
      eventTypes: ["incident.created"],
      enabled: true,
      includeInternal: false,
      secretHint: `whsec_…${secret.slice(-4)}`,
      createdById: acme.users.admin.userId,
    });

    const listed = await graphql(server.url, ENDPOINTS, {}, { token: acme.tokens.owner });
    expect(listed.data!.webhookEndpoints.nodes).toEqual([
      { rowId: webhookEndpoint.rowId, url: `${receiver.url}/hooks`, secretHint: `whsec_…${secret.slice(-4)}` },
    ]);
    const sealedField = await graphql(
      server.url,
      `
        query {
          webhookEndpoints {
            nodes {
              sealedSecret
            }
          }
        }
      `,
      {},
      {
        token: acme.tokens.owner,
      },
    );
    expect(sealedField.code).toBe("GRAPHQL_VALIDATION_FAILED");

    const stored = await server.db.rootPool.query<{ sealed_secret: Buffer }>(
      "select sealed_secret from app_private.webhook_endpoint_secrets where webhook_endpoint_id = $1",
      [webhookEndpoint.rowId],
    );
    expect(stored.rows[0]!.sealed_secret.includes(Buffer.from(secret.slice(6)))).toBe(false);
    const audit = await server.db.rootPool.query<{ changes: string }>(
      "select changes::text from app_public.audit_log where target_id = $1",
      [webhookEndpoint.rowId],
    );
    expect(audit.rows.length).toBeGreaterThan(0);
    expect(audit.rows.map((row) => row.changes).join()).not.toContain(secret.slice(6));
  });

  it("is for owners and admins: editors, viewers and API keys (even admin keys) cannot manage or read endpoints", async () => {
    const endpoint = await createEndpoint(acme.tokens.owner, { url: `${receiver.url}/roles` });
    for (const role of ["editor", "viewer"] as const) {
      const token = acme.tokens[role];
      expect((await graphql(server.url, CREATE_ENDPOINT, { input: { url: receiver.url } }, { token })).code).toBe(
        "FORBIDDEN",
      );
      expect((await graphql(server.url, ENDPOINTS, {}, { token })).data!.webhookEndpoints.nodes).toEqual([]);
      expect((await graphql(server.url, SEND_TEST, { id: endpoint.id }, { token })).code).toBe("FORBIDDEN");
      expect((await graphql(server.url, ROTATE_SECRET, { id: endpoint.id }, { token })).code).toBe("FORBIDDEN");
      const update = await graphql(
        server.url,
        UPDATE_ENDPOINT,
        { id: endpoint.id, patch: { enabled: false } },
        { token },
      );
      expect(update.code).toBe("NOT_FOUND");
    }
    const key = await graphql(server.url, CREATE_KEY, { name: "automation" }, { token: acme.tokens.owner });
    const keyToken = key.data!.createApiKey.token as string;
    const byKey = await graphql(server.url, CREATE_ENDPOINT, { input: { url: receiver.url } }, { token: keyToken });
    expect(byKey.code).toBe("API_KEY_NOT_ALLOWED");
    expect((await graphql(server.url, SEND_TEST, { id: endpoint.id }, { token: keyToken })).code).toBe(
      "API_KEY_NOT_ALLOWED",
    );
    expect((await graphql(server.url, ENDPOINTS, {}, { token: keyToken })).data!.webhookEndpoints.nodes).toEqual([]);
  });

  it("deletes an endpoint with its delivery log", async () => {
    const endpoint = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/gone` });
    await graphql(server.url, SEND_TEST, { id: endpoint.id }, { token: acme.tokens.admin });
    await runJobs(ownerPool, workerEnv);
    expect(await deliveries(endpoint.id)).toHaveLength(1);
    const editorDelete = await graphql(
      server.url,
      `
        mutation X($id: UUID!) {
          deleteWebhookEndpoint(input: { rowId: $id }) {
            deletedWebhookEndpointId
          }
        }
      `,
      { id: endpoint.id },
      { token: acme.tokens.editor },
    );
    expect(editorDelete.code).toBe("NOT_FOUND");
    const deleted = await graphql(
      server.url,
      `
        mutation X($id: UUID!) {
          deleteWebhookEndpoint(input: { rowId: $id }) {
            webhookEndpoint {
              rowId
            }
          }
        }
      `,
      { id: endpoint.id },
      { token: acme.tokens.admin },
    );
    expect(deleted.errors).toBeUndefined();
    expect(await deliveries(endpoint.id)).toEqual([]);
  });

  it("validates URLs and event types on create and on update", async () => {
    for (const url of ["ftp://example.com/hook", "example.com/hook", "http://user:pass@example.com/", "http:// x"]) {
      const result = await graphql(server.url, CREATE_ENDPOINT, { input: { url } }, { token: acme.tokens.admin });
      expect(result.code, url).toBe("INVALID_WEBHOOK_URL");
    }
    const unknown = await graphql(
      server.url,
      CREATE_ENDPOINT,
      { input: { url: receiver.url, eventTypes: ["incident.created", "incident.exploded"] } },
      { token: acme.tokens.admin },
    );
    expect(unknown.code).toBe("UNKNOWN_EVENT_TYPE");
    expect(unknown.errors![0]!.extensions!.unknown).toEqual(["incident.exploded"]);

    const endpoint = await createEndpoint(acme.tokens.admin, { url: receiver.url });
    const badUrl = await graphql(
      server.url,
      UPDATE_ENDPOINT,
      { id: endpoint.id, patch: { url: "javascript:alert(1)" } },
      { token: acme.tokens.admin },
    );
    expect(badUrl.code).toBe("INVALID_WEBHOOK_URL");
    const badTypes = await graphql(
      server.url,
      UPDATE_ENDPOINT,
      { id: endpoint.id, patch: { eventTypes: ["nope"] } },
      { token: acme.tokens.admin },
    );
    expect(badTypes.code).toBe("UNKNOWN_EVENT_TYPE");
    expect(await deliveries(endpoint.id)).toEqual([]);
  });

  it("rotates the secret: deliveries are signed with the new one, the old one no longer verifies", async () => {
    const endpoint = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/rotate` });
    const rotated = await graphql(server.url, ROTATE_SECRET, { id: endpoint.id }, { token: acme.tokens.admin });
    expect(rotated.errors).toBeUndefined();
    const { secret } = rotated.data!.rotateWebhookEndpointSecret;
    expect(secret).not.toBe(endpoint.secret);
    expect(rotated.data!.rotateWebhookEndpointSecret.webhookEndpoint.secretHint).toBe(`whsec_…${secret.slice(-4)}`);

    await graphql(server.url, SEND_TEST, { id: endpoint.id }, { token: acme.tokens.admin });
    await runJobs(ownerPool, workerEnv);
    const [request] = receiver.requests;
    expect(() => new Webhook(secret).verify(request!.body, headersOf(request!))).not.toThrow();
    expect(() => new Webhook(endpoint.secret).verify(request!.body, headersOf(request!))).toThrow();

    const missing = await graphql(
      server.url,
      ROTATE_SECRET,
      { id: "00000000-0000-4000-8000-000000000000" },
      { token: acme.tokens.admin },
    );
    expect(missing.code).toBe("WEBHOOK_NOT_FOUND");
  });
});

describe("delivering events", () => {
  it("sends an incident change, signed per Standard Webhooks, to the endpoints subscribed to it", async () => {
    const all = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/all` });
    const maintenanceOnly = await createEndpoint(acme.tokens.admin, {
      url: `${receiver.url}/maintenance`,
      eventTypes: ["maintenance.scheduled"],
    });
    const incidentId = await createIncident(acme.tokens.editor, { title: "Checkout errors", severity: "high" });
    await runJobs(ownerPool, workerEnv);

    expect(receiver.requests.map((request) => request.path)).toEqual(["/all"]);
    const [request] = receiver.requests;
    expect(request!.headers["user-agent"]).toBe("IncidentPulse-Webhooks/1");
    expect(request!.headers["content-type"]).toBe("application/json");
    const verified = new Webhook(all.secret).verify(request!.body, headersOf(request!)) as any;
    expect(verified).toMatchObject({
      type: "incident.created",
      data: {
        organization: { id: acme.organizationId, slug: acme.slug, status_page_path: `/status/${acme.slug}` },
        incident: { id: incidentId, title: "Checkout errors", severity: "high", visibility: "public" },
      },
    });
    expect(new Date(verified.timestamp).getTime()).not.toBeNaN();
    expect(request!.headers["webhook-id"]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Math.abs(Number(request!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(300);

    const [delivery] = await deliveries(all.id);
    expect(delivery).toMatchObject({
      event_type: "incident.created",
      origin: "event",
      attempt: 1,
      status: "succeeded",
      response_status: 200,
      response_body: "ok",
      error: null,
      message_id: request!.headers["webhook-id"],
    });
    expect(delivery!.duration_ms).toBeGreaterThanOrEqual(0);
    expect(await deliveries(maintenanceOnly.id)).toEqual([]);

    const log = await graphql(server.url, DELIVERY_LOG, { id: all.id }, { token: acme.tokens.admin });
    expect(log.data!.webhookEndpoint.webhookDeliveries.nodes).toEqual([
      expect.objectContaining({ eventType: "incident.created", attempt: 1, status: "succeeded", responseStatus: 200 }),
    ]);
    const viewerLog = await graphql(server.url, DELIVERY_LOG, { id: all.id }, { token: acme.tokens.viewer });
    expect(viewerLog.data!.webhookEndpoint).toBeNull();
  });

  it("sends events about internal incidents only to endpoints that include internal events", async () => {
    const publicOnly = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/public` });
    const internalToo = await createEndpoint(acme.tokens.admin, {
      url: `${receiver.url}/internal`,
      includeInternal: true,
    });
    await createIncident(acme.tokens.editor, { title: "Database failover drill", visibility: "internal" });
    await runJobs(ownerPool, workerEnv);

    expect(await deliveries(publicOnly.id)).toEqual([]);
    expect((await deliveries(internalToo.id)).map((row) => [row.event_type, row.status])).toEqual([
      ["incident.created", "succeeded"],
    ]);
    expect(receiver.json()).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ incident: expect.objectContaining({ visibility: "internal" }) }),
      }),
    ]);
  });

  it("leaves internal details out for endpoints without internal events, and cancels what they stop wanting", async () => {
    const endpoint = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/public-details` });
    receiver.respondWith((_request, response) => {
      // While the first attempt is answered, an admin narrows the endpoint's event types.
      void server.db.rootPool
        .query("update app_public.webhook_endpoints set event_types = '{maintenance.scheduled}' where id = $1", [
          endpoint.id,
        ])
        .then(() => response.writeHead(503).end("busy"));
    });
    await createIncident(acme.tokens.editor, { title: "Cause kept inside", rootCause: "A bad deploy of billing-7" });
    await runJobs(ownerPool, workerEnv);

    const [sent] = receiver.json() as { data: { incident: Record<string, unknown> } }[];
    expect(sent!.data.incident.title).toBe("Cause kept inside");
    expect(sent!.data.incident).not.toHaveProperty("root_cause");
    expect(JSON.stringify(receiver.json())).not.toContain("billing-7");
    expect((await deliveries(endpoint.id)).map((row) => [row.attempt, row.status, row.error])).toEqual([
      [1, "failed", expect.stringMatching(/503/)],
      [2, "canceled", "The endpoint no longer subscribes to this event type."],
    ]);
    expect(receiver.requests).toHaveLength(1);
  });

  it("retries a failing receiver with the same webhook-id and logs every attempt", async () => {
    const endpoint = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/flaky` });
    let calls = 0;
    receiver.respondWith((_request, response) => {
      calls += 1;
      if (calls <= 2) response.writeHead(503).end("busy");
      else response.writeHead(204).end();
    });
    await createIncident(acme.tokens.editor, { title: "Flaky receiver" });
    await runJobs(ownerPool, workerEnv);

    const rows = await deliveries(endpoint.id);
    expect(rows.map((row) => [row.attempt, row.status, row.response_status])).toEqual([
      [1, "failed", 503],
      [2, "failed", 503],
      [3, "succeeded", 204],
    ]);
    expect(new Set(rows.map((row) => row.message_id)).size).toBe(1);
    expect(rows[0]!.response_body).toBe("busy");
    expect(rows[0]!.error).toMatch(/503/);
    expect(rows[0]!.next_attempt_at).not.toBeNull();
    expect(rows[2]!.next_attempt_at).toBeNull();
    expect(new Set(receiver.requests.map((request) => request.headers["webhook-id"]))).toEqual(
      new Set([rows[0]!.message_id]),
    );
    // Each attempt is signed afresh, and each signature verifies.
    for (const request of receiver.requests) {
      expect(() => new Webhook(endpoint.secret).verify(request.body, headersOf(request))).not.toThrow();
    }
    const endpointRow = await server.db.rootPool.query(
      "select consecutive_failures, enabled from app_public.webhook_endpoints where id = $1",
      [endpoint.id],
    );
    expect(endpointRow.rows[0]).toEqual({ consecutive_failures: 0, enabled: true });
  });

  it("does not follow redirects: a 3xx is a failure and its target is never called", async () => {
    const elsewhere = await startReceiver();
    try {
      const endpoint = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/moved` });
      receiver.respondWith(answer(302, "", { location: `${elsewhere.url}/stolen` }));
      await graphql(server.url, SEND_TEST, { id: endpoint.id }, { token: acme.tokens.admin });
      await runJobs(ownerPool, workerEnv);

      expect(receiver.requests).toHaveLength(1);
      expect(elsewhere.requests).toEqual([]);
      const [delivery] = await deliveries(endpoint.id);
      expect(delivery).toMatchObject({ status: "failed", response_status: 302 });
      expect(delivery!.error).toMatch(/redirect/i);
    } finally {
      await elsewhere.close();
    }
  });

  it("gives up on a receiver that does not answer in time, and keeps only the start of a long answer", async () => {
    const slow = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/slow` });
    receiver.respondWith(() => undefined);
    await graphql(server.url, SEND_TEST, { id: slow.id }, { token: acme.tokens.admin });
    await runJobs(ownerPool, { ...workerEnv, WEBHOOK_TIMEOUT_MS: "200" });
    expect((await deliveries(slow.id))[0]).toMatchObject({
      status: "failed",
      response_status: null,
      error: "No answer within 200 ms.",
    });

    const chatty = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/chatty` });
    receiver.respondWith(answer(200, "x".repeat(50_000)));
    await graphql(server.url, SEND_TEST, { id: chatty.id }, { token: acme.tokens.admin });
    await runJobs(ownerPool, workerEnv);
    const [delivery] = await deliveries(chatty.id);
    expect(delivery).toMatchObject({ status: "succeeded", response_status: 200 });
    expect(delivery!.response_body).toHaveLength(4096);
  });

  it("turns off an endpoint whose deliveries fail for every attempt, and emails its owners once", async () => {
    const endpoint = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/down` });
    receiver.respondWith(answer(500, "down"));
    await createIncident(acme.tokens.editor, { title: "Receiver is down" });
    await runJobs(ownerPool, workerEnv);

    const rows = await deliveries(endpoint.id);
    expect(rows.map((row) => row.attempt)).toEqual(Array.from({ length: MAX_ATTEMPTS }, (_, i) => i + 1));
    expect(rows.every((row) => row.status === "failed")).toBe(true);
    expect(rows.at(-1)!.next_attempt_at).toBeNull();
    const { rows: state } = await server.db.rootPool.query(
      "select enabled, disabled_reason, disabled_at is not null as disabled from app_public.webhook_endpoints where id = $1",
      [endpoint.id],
    );
    expect(state[0]).toEqual({ enabled: false, disabled_reason: "failing", disabled: true });

    const mails = await readdir(mailDir);
    expect(mails).toHaveLength(1);
    const mail = await readFile(join(mailDir, mails[0]!), "utf8");
    expect(mail).toContain(`To: ${acme.users.owner.email}`);
    expect(mail).toContain(`${receiver.url}/down`);

    // Turned off: new events are not sent, and nobody is emailed again.
    const before = receiver.requests.length;
    await createIncident(acme.tokens.editor, { title: "Another one" });
    await runJobs(ownerPool, workerEnv);
    expect(receiver.requests).toHaveLength(before);
    expect(await readdir(mailDir)).toHaveLength(1);
    expect((await graphql(server.url, SEND_TEST, { id: endpoint.id }, { token: acme.tokens.admin })).code).toBe(
      "WEBHOOK_TARGET_DISABLED",
    );

    // Turning it back on clears the reason and the failure streak.
    const enabled = await graphql(
      server.url,
      UPDATE_ENDPOINT,
      { id: endpoint.id, patch: { enabled: true } },
      { token: acme.tokens.admin },
    );
    expect(enabled.data!.updateWebhookEndpoint.webhookEndpoint).toMatchObject({
      enabled: true,
      disabledAt: null,
      disabledReason: null,
      consecutiveFailures: 0,
    });
  });
});

describe("test events and redelivery", () => {
  it("sends a signed test event, and redelivers a delivery's message with the same webhook-id", async () => {
    const endpoint = await createEndpoint(acme.tokens.admin, { url: `${receiver.url}/manual` });
    const test = await graphql(server.url, SEND_TEST, { id: endpoint.id }, { token: acme.tokens.admin });
    expect(test.errors).toBeUndefined();
    expect(test.data!.sendTestWebhook.webhookDelivery).toMatchObject({
      eventType: "test",
      origin: "test",
      status: "pending",
    });
    await runJobs(ownerPool, workerEnv);
    const testEvent = new Webhook(endpoint.secret).verify(receiver.requests[0]!.body, headersOf(receiver.requests[0]!));
    expect(testEvent).toMatchObject({ type: "test", data: { organization: { id: acme.organizationId } } });

    receiver.requests.length = 0;
    await createIncident(acme.tokens.editor, { title: "Redeliver me" });
    await runJobs(ownerPool, workerEnv);
    const original = (await deliveries(endpoint.id)).find((row) => row.event_type === "incident.created")!;
    const redelivered = await graphql(server.url, REDELIVER, { id: original.id }, { token: acme.tokens.owner });
    expect(redelivered.errors).toBeUndefined();
    expect(redelivered.data!.redeliverWebhook.webhookDelivery).toMatchObject({
      origin: "redelivery",
      messageId: original.message_id,
      attempt: 1,
      status: "pending",
    });
    await runJobs(ownerPool, workerEnv);
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[1]!.headers["webhook-id"]).toBe(original.message_id);
    expect(receiver.requests[1]!.body).toBe(receiver.requests[0]!.body);

    // What people did is in the audit log; the automatic delivery is not.
    const audited = await server.db.rootPool.query<{ actor_user_id: string }>(
      `select actor_user_id from app_public.audit_log
       where target_table = 'webhook_deliveries' and target_id = any ($1) order by occurred_at`,
      [
        [
          test.data!.sendTestWebhook.webhookDelivery.rowId,
          redelivered.data!.redeliverWebhook.webhookDelivery.rowId,
          original.id,
        ],
      ],
    );
    expect(audited.rows.map((row) => row.actor_user_id)).toEqual([acme.users.admin.userId, acme.users.owner.userId]);

    expect((await graphql(server.url, REDELIVER, { id: original.id }, { token: acme.tokens.editor })).code).toBe(
      "FORBIDDEN",
    );
    const unknown = await graphql(
      server.url,
      REDELIVER,
      { id: "00000000-0000-4000-8000-000000000000" },
      { token: acme.tokens.admin },
    );
    expect(unknown.code).toBe("WEBHOOK_NOT_FOUND");
  });
});

describe("sends by hand", () => {
  it("are limited to 20 a minute per organization, answered 429 RATE_LIMITED after that", async () => {
    const members = await organizationWithMembers(server, "manual-limit-hooks");
    const endpoint = await createEndpoint(members.tokens.admin, { url: `${receiver.url}/manual` });
    const codes: (string | undefined)[] = [];
    for (let index = 0; index < 21; index++) {
      const sent = await graphql(server.url, SEND_TEST, { id: endpoint.id }, { token: members.tokens.admin });
      codes.push(sent.errors ? `${sent.status} ${sent.code}` : "ok");
    }
    expect(codes.slice(0, 20).every((code) => code === "ok")).toBe(true);
    expect(codes[20]).toBe("429 RATE_LIMITED");
    expect(await deliveries(endpoint.id)).toHaveLength(20);
  });
});

describe("organizations stay apart", () => {
  it("never sends one organization's events to another's endpoints, nor lets it see or touch them", async () => {
    const other = await startReceiver();
    try {
      const acmeEndpoint = await createEndpoint(acme.tokens.admin, {
        url: `${receiver.url}/acme`,
        includeInternal: true,
      });
      const globexEndpoint = await createEndpoint(globex.tokens.admin, {
        url: `${other.url}/globex`,
        includeInternal: true,
      });
      await createIncident(acme.tokens.editor, { title: "Acme only" });
      await createIncident(acme.tokens.editor, { title: "Acme internal", visibility: "internal" });
      await runJobs(ownerPool, workerEnv);

      expect(other.requests).toEqual([]);
      expect(await deliveries(globexEndpoint.id)).toEqual([]);
      expect(receiver.json().map((body) => body.data.organization.id)).toEqual([
        acme.organizationId,
        acme.organizationId,
      ]);
      const acmeDelivery = (await deliveries(acmeEndpoint.id))[0]!;

      const globexAdmin = globex.tokens.admin;
      const listed = await graphql(server.url, ENDPOINTS, {}, { token: globexAdmin });
      expect(listed.data!.webhookEndpoints.nodes.map((node: any) => node.rowId)).toEqual([globexEndpoint.id]);
      expect((await graphql(server.url, REDELIVER, { id: acmeDelivery.id }, { token: globexAdmin })).code).toBe(
        "WEBHOOK_NOT_FOUND",
      );
      expect((await graphql(server.url, SEND_TEST, { id: acmeEndpoint.id }, { token: globexAdmin })).code).toBe(
        "WEBHOOK_NOT_FOUND",
      );
      expect((await graphql(server.url, ROTATE_SECRET, { id: acmeEndpoint.id }, { token: globexAdmin })).code).toBe(
        "WEBHOOK_NOT_FOUND",
      );
      const hijack = await graphql(
        server.url,
        UPDATE_ENDPOINT,
        { id: acmeEndpoint.id, patch: { url: `${other.url}/stolen` } },
        { token: globexAdmin },
      );
      expect(hijack.code).toBe("NOT_FOUND");
      const log = await graphql(server.url, DELIVERY_LOG, { id: acmeEndpoint.id }, { token: globexAdmin });
      expect(log.data!.webhookEndpoint).toBeNull();
    } finally {
      await other.close();
    }
  });
});

describe("SSRF guard", () => {
  it("refuses loopback, private, link-local and names resolving to them, and logs why", async () => {
    const targets = [
      `http://127.0.0.1:${receiver.port}/loopback`,
      "http://10.1.2.3/private",
      "http://169.254.169.254/latest/meta-data/",
      `http://[::1]:${receiver.port}/ipv6-loopback`,
      `http://localhost:${receiver.port}/name`,
      `http://[::ffff:127.0.0.1]:${receiver.port}/mapped`,
    ];
    const ids: string[] = [];
    for (const url of targets) {
      const endpoint = await createEndpoint(acme.tokens.admin, { url });
      await graphql(server.url, SEND_TEST, { id: endpoint.id }, { token: acme.tokens.admin });
      ids.push(endpoint.id);
    }
    // No allow-list: the production default.
    await runJobs(ownerPool, { ...workerEnv, WEBHOOK_ALLOWED_HOSTS: "" });

    expect(receiver.requests).toEqual([]);
    for (const [index, id] of ids.entries()) {
      const [delivery] = await deliveries(id);
      expect(delivery, targets[index]).toMatchObject({ status: "failed", response_status: null });
      expect(delivery!.error, targets[index]).toMatch(/^Destination refused: .* address: refused\.$/);
    }
  });

  const publicResolver = (addresses: string[]) => async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

  it("checks every address a name resolves to, and IPv6 forms that embed IPv4", async () => {
    const none = parseAllowList([]);
    const refused = [
      ["http://0.0.0.0/", []],
      ["http://100.64.0.1/", []],
      ["http://172.16.5.4/", []],
      ["http://192.168.1.1/", []],
      ["http://224.0.0.1/", []],
      ["http://[fd00::1]/", []],
      ["http://[fe80::1]/", []],
      ["http://[::]/", []],
      ["http://[2002:7f00:1::]/", []],
      ["http://[64:ff9b::a00:1]/", []],
      ["http://rebind.example/", ["93.184.216.34", "10.0.0.5"]],
      ["http://mapped.example/", ["::ffff:192.168.0.1"]],
      ["file:///etc/passwd", []],
      ["gopher://example.com/", []],
    ] as const;
    for (const [url, addresses] of refused) {
      await expect(checkDestination(url, none, publicResolver([...addresses])), url).rejects.toThrow();
    }
    const allowed = await checkDestination("https://hooks.example/", none, publicResolver(["93.184.216.34"]));
    expect(allowed).toMatchObject({ address: "93.184.216.34", family: 4 });
    const v6 = await checkDestination("https://[2606:4700::1111]/", none, publicResolver([]));
    expect(v6).toMatchObject({ address: "2606:4700::1111", family: 6 });
  });

  it("lets the allow-list through by host name, address or CIDR range", async () => {
    const allowList = parseAllowList(["receiver.internal", "10.0.0.0/8", "::1"]);
    const resolver = publicResolver(["192.168.3.3"]);
    await expect(checkDestination("http://receiver.internal/", allowList, resolver)).resolves.toBeTruthy();
    await expect(checkDestination("http://10.20.30.40/", allowList, resolver)).resolves.toBeTruthy();
    await expect(checkDestination("http://[::1]/", allowList, resolver)).resolves.toBeTruthy();
    await expect(checkDestination("http://other.internal/", allowList, resolver)).rejects.toThrow(/192\.168\.3\.3/);
    await expect(checkDestination("http://127.0.0.1/", allowList, resolver)).rejects.toThrow(/loopback/);
  });
});

describe("retry schedule", () => {
  it("spans about a day over ten attempts, with jitter, and stops after the last", () => {
    const base = 30_000;
    let total = 0;
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const low = nextAttemptAt(attempt, base, 0, () => 0)!.getTime();
      const high = nextAttemptAt(attempt, base, 0, () => 1)!.getTime();
      const middle = nextAttemptAt(attempt, base, 0, () => 0.5)!.getTime();
      expect(low).toBeLessThan(middle);
      expect(middle).toBeLessThan(high);
      total += middle;
    }
    expect(MAX_ATTEMPTS).toBe(10);
    expect(total / 3_600_000).toBeGreaterThan(20);
    expect(total / 3_600_000).toBeLessThan(28);
    expect(nextAttemptAt(MAX_ATTEMPTS, base)).toBeNull();
  });
});
