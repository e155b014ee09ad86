/**
 * Chat notifications: Slack, Discord and Microsoft Teams incoming webhooks receive a readable
 * message per event (title, status, impact, link) in their own format, posted by the worker
 * through the same guarded, retried delivery as webhooks. The URL is a secret: stored sealed,
 * shown masked. Owners and admins manage integrations and send test messages.
 */
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { summarizeEvent } from "../src/integrations/chat/eventSummary.ts";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";
import { runJobs } from "./helpers/webhookJobs.ts";
import { answer, startReceiver, type Receiver } from "./helpers/webhookReceiver.ts";

/** testWorkerContext's PUBLIC_URL: links in messages start with it. */
const PUBLIC_URL = "http://status.test";
const workerEnv = { WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", WEBHOOK_RETRY_BASE_MS: "0" };

let server: TestServer;
let acme: OrganizationMembers;
let ownerPool: pg.Pool;
let receiver: Receiver;

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
  acme = await organizationWithMembers(server, "acme-chat");
  ownerPool = new pg.Pool({ connectionString: server.db.config.ownerUrl });
  ownerPool.on("error", () => undefined);
  ownerPool.on("connect", (client) => client.on("error", () => undefined));
  receiver = await startReceiver();
});
afterEach(async () => {
  await server.db.rootPool.query("delete from app_public.chat_integrations");
  await server.db.rootPool.query("delete from graphile_worker._private_jobs");
  receiver.requests.length = 0;
  receiver.respondWith(answer(200, "ok"));
});
afterAll(async () => {
  await receiver.close();
  await ownerPool.end();
  await server.stop();
});

const CREATE_CHAT = `mutation C($input: CreateChatIntegrationInput!) {
  createChatIntegration(input: $input) {
    chatIntegration { rowId kind name urlHint eventTypes enabled includeInternal }
  }
}`;
const SEND_TEST = `mutation T($id: UUID!) {
  sendTestChatMessage(input: { chatIntegrationId: $id }) { webhookDelivery { rowId eventType origin status } }
}`;
const INTEGRATIONS = `query { chatIntegrations { nodes { rowId kind name urlHint } } }`;
const CREATE_INCIDENT = `mutation I($incident: IncidentInput!) {
  createIncident(input: { incident: $incident }) { incident { rowId } }
}`;

async function createChat(kind: string, input: Record<string, unknown> = {}): Promise<string> {
  const result = await graphql(
    server.url,
    CREATE_CHAT,
    { input: { kind, name: `#${kind}`, url: `${receiver.url}/${kind}`, ...input } },
    { token: acme.tokens.admin },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.createChatIntegration.chatIntegration.rowId;
}

async function createIncident(incident: Record<string, unknown>): Promise<void> {
  const result = await graphql(server.url, CREATE_INCIDENT, { incident }, { token: acme.tokens.editor });
  expect(result.errors).toBeUndefined();
}

const bodyAt = (path: string) => {
  const request = receiver.requests.find((candidate) => candidate.path === path);
  expect(request, path).toBeDefined();
  return JSON.parse(request!.body);
};

describe("messages per chat service", () => {
  it("posts an incident to Slack, Discord and Teams, each in its own format, with title, status, impact and link", async () => {
    await createChat("slack");
    await createChat("discord");
    await createChat("teams");
    await createIncident({ title: "Payments failing", severity: "critical", impactOverride: "major" });
    await runJobs(ownerPool, workerEnv);

    expect(receiver.requests.map((request) => request.path).sort()).toEqual(["/discord", "/slack", "/teams"]);
    const statusPage = `${PUBLIC_URL}/status/${acme.slug}`;

    const slack = bodyAt("/slack");
    expect(slack.text).toBe("Payments failing: New incident");
    expect(slack.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "Payments failing", emoji: false },
    });
    const slackFields = slack.blocks.flatMap((block: any) => block.fields ?? []).map((field: any) => field.text);
    expect(slackFields).toEqual(expect.arrayContaining(["*Status*\nInvestigating", "*Impact*\nMajor"]));
    expect(JSON.stringify(slack.blocks.at(-1))).toContain(`<${statusPage}|View the status page>`);

    const discord = bodyAt("/discord");
    expect(discord.content).toBe("**Payments failing**: New incident");
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    expect(discord.embeds[0]).toMatchObject({
      title: "Payments failing",
      url: statusPage,
      description: "New incident",
      footer: { text: "acme-chat" },
    });
    expect(discord.embeds[0].fields).toEqual(
      expect.arrayContaining([
        { name: "Status", value: "Investigating", inline: true },
        { name: "Impact", value: "Major", inline: true },
      ]),
    );

    const teams = bodyAt("/teams");
    expect(teams.type).toBe("message");
    const [attachment] = teams.attachments;
    expect(attachment.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(attachment.content).toMatchObject({ type: "AdaptiveCard", version: "1.4" });
    expect(attachment.content.body[0]).toMatchObject({ type: "TextBlock", text: "Payments failing" });
    const facts = attachment.content.body.find((element: any) => element.type === "FactSet").facts;
    expect(facts).toEqual(
      expect.arrayContaining([
        { title: "Status", value: "Investigating" },
        { title: "Impact", value: "Major" },
      ]),
    );
    expect(attachment.content.actions).toEqual([
      { type: "Action.OpenUrl", title: "View the status page", url: statusPage },
    ]);

    // Chat messages carry no Standard Webhooks signature; they share the delivery log.
    expect(receiver.requests[0]!.headers["webhook-signature"]).toBeUndefined();
    expect(receiver.requests[0]!.headers["user-agent"]).toBe("IncidentPulse-Webhooks/1");
    const { rows } = await server.db.rootPool.query(
      "select event_type, status, response_status from app_public.webhook_deliveries where chat_integration_id is not null",
    );
    expect(rows).toEqual(Array(3).fill({ event_type: "incident.created", status: "succeeded", response_status: 200 }));
  });

  it("keeps tenant text as text: Slack markup escaped, Discord mentions off", async () => {
    await createChat("slack");
    await createChat("discord");
    await createIncident({ title: "<!channel> @everyone *down*" });
    await runJobs(ownerPool, workerEnv);

    const slack = bodyAt("/slack");
    expect(slack.text).toBe("&lt;!channel&gt; @everyone *down*: New incident");
    const discord = bodyAt("/discord");
    expect(discord.content).toBe("**<!channel\\> @everyone \\*down\\***: New incident");
    expect(discord.allowed_mentions).toEqual({ parse: [] });
  });

  it("posts internal incidents only where internal events are included, linking to the dashboard", async () => {
    await createChat("slack");
    await createChat("discord", { includeInternal: true, eventTypes: ["incident.created"] });
    await createIncident({ title: "Replica lag", visibility: "internal" });
    await runJobs(ownerPool, workerEnv);

    expect(receiver.requests.map((request) => request.path)).toEqual(["/discord"]);
    const discord = bodyAt("/discord");
    expect(discord.embeds[0]).toMatchObject({ url: `${PUBLIC_URL}/`, description: "New incident (internal)" });
  });

  it("retries a failing chat service with the shared schedule", async () => {
    const id = await createChat("teams");
    let calls = 0;
    receiver.respondWith((_request, response) => {
      calls += 1;
      response.writeHead(calls === 1 ? 429 : 200).end();
    });
    await createIncident({ title: "Rate limited" });
    await runJobs(ownerPool, workerEnv);
    const { rows } = await server.db.rootPool.query(
      "select attempt, status, response_status from app_public.webhook_deliveries where chat_integration_id = $1 order by attempt",
      [id],
    );
    expect(rows).toEqual([
      { attempt: 1, status: "failed", response_status: 429 },
      { attempt: 2, status: "succeeded", response_status: 200 },
    ]);
  });
});

describe("managing chat integrations", () => {
  it("keeps the URL secret: sealed in storage, masked in the API", async () => {
    const result = await graphql(
      server.url,
      CREATE_CHAT,
      { input: { kind: "slack", name: "#ops", url: `${receiver.url}/services/T000/B000/XXXXsecret` } },
      { token: acme.tokens.owner },
    );
    expect(result.errors).toBeUndefined();
    const integration = result.data!.createChatIntegration.chatIntegration;
    expect(integration).toMatchObject({
      kind: "slack",
      name: "#ops",
      urlHint: `${receiver.url}/…cret`,
      eventTypes: [],
      enabled: true,
      includeInternal: false,
    });
    const listed = await graphql(server.url, INTEGRATIONS, {}, { token: acme.tokens.admin });
    expect(JSON.stringify(listed.data)).not.toContain("XXXXsecret");
    const urlField = await graphql(
      server.url,
      `
        query {
          chatIntegrations {
            nodes {
              url
            }
          }
        }
      `,
      {},
      {
        token: acme.tokens.admin,
      },
    );
    expect(urlField.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const stored = await server.db.rootPool.query<{ sealed_url: Buffer }>(
      "select sealed_url from app_private.chat_integration_urls where chat_integration_id = $1",
      [integration.rowId],
    );
    expect(stored.rows[0]!.sealed_url.includes(Buffer.from("XXXXsecret"))).toBe(false);
    const audit = await server.db.rootPool.query<{ changes: string }>(
      "select changes::text from app_public.audit_log where target_id = $1",
      [integration.rowId],
    );
    expect(audit.rows.map((row) => row.changes).join()).not.toContain("XXXXsecret");
  });

  it("sends a test message on request", async () => {
    const id = await createChat("discord");
    const sent = await graphql(server.url, SEND_TEST, { id }, { token: acme.tokens.admin });
    expect(sent.errors).toBeUndefined();
    expect(sent.data!.sendTestChatMessage.webhookDelivery).toMatchObject({
      eventType: "test",
      origin: "test",
      status: "pending",
    });
    await runJobs(ownerPool, workerEnv);
    const discord = bodyAt("/discord");
    expect(discord.embeds[0]).toMatchObject({
      title: "Test message from IncidentPulse",
      description: "Notifications for acme-chat will appear here.",
      url: `${PUBLIC_URL}/status/${acme.slug}`,
    });
  });

  it("is for owners and admins, with a valid URL and known event types", async () => {
    const id = await createChat("slack");
    for (const role of ["editor", "viewer"] as const) {
      const token = acme.tokens[role];
      const created = await graphql(
        server.url,
        CREATE_CHAT,
        { input: { kind: "slack", name: "x", url: receiver.url } },
        { token },
      );
      expect(created.code).toBe("FORBIDDEN");
      expect((await graphql(server.url, SEND_TEST, { id }, { token })).code).toBe("FORBIDDEN");
      expect((await graphql(server.url, INTEGRATIONS, {}, { token })).data!.chatIntegrations.nodes).toEqual([]);
    }
    const badUrl = await graphql(
      server.url,
      CREATE_CHAT,
      { input: { kind: "teams", name: "x", url: "mailto:ops@example.com" } },
      { token: acme.tokens.admin },
    );
    expect(badUrl.code).toBe("INVALID_WEBHOOK_URL");
    const badType = await graphql(
      server.url,
      CREATE_CHAT,
      { input: { kind: "teams", name: "x", url: receiver.url, eventTypes: ["everything"] } },
      { token: acme.tokens.admin },
    );
    expect(badType.code).toBe("UNKNOWN_EVENT_TYPE");
    const missing = await graphql(
      server.url,
      SEND_TEST,
      { id: "00000000-0000-4000-8000-000000000000" },
      { token: acme.tokens.admin },
    );
    expect(missing.code).toBe("WEBHOOK_NOT_FOUND");
  });

  it("refuses private destinations without the allow-list, like webhooks", async () => {
    const id = await createChat("slack");
    await graphql(server.url, SEND_TEST, { id }, { token: acme.tokens.admin });
    await runJobs(ownerPool, { ...workerEnv, WEBHOOK_ALLOWED_HOSTS: "" });
    expect(receiver.requests).toEqual([]);
    const { rows } = await server.db.rootPool.query(
      "select status, error from app_public.webhook_deliveries where chat_integration_id = $1",
      [id],
    );
    expect(rows).toEqual([{ status: "failed", error: expect.stringMatching(/^Destination refused: .*loopback/) }]);
  });
});

describe("summaries of every event type", () => {
  const organization = { id: "o", slug: "acme", name: "Acme", status_page_path: "/status/acme" };
  const summarize = (type: string, payload: Record<string, unknown>, isPublic = true) =>
    summarizeEvent({
      type,
      isPublic,
      payload: { organization, ...payload },
      publicUrl: PUBLIC_URL,
      includeInternal: false,
    });
  const incident = {
    title: "API errors",
    status: "identified",
    impact: "minor",
    severity: "high",
    visibility: "public",
    services: [
      { name: "API", hidden: false },
      { name: "Internal queue", hidden: true },
    ],
  };

  it("says what happened, with the facts that matter and a link", () => {
    expect(summarize("incident.resolved", { incident: { ...incident, status: "resolved" } })).toMatchObject({
      title: "API errors",
      headline: "Incident resolved",
      tone: "good",
      link: { url: `${PUBLIC_URL}/status/acme`, label: "View the status page" },
      facts: [
        { name: "Status", value: "Resolved" },
        { name: "Impact", value: "Minor" },
        { name: "Severity", value: "High" },
        // Hidden services stay out of messages that are not for internal use.
        { name: "Services", value: "API" },
      ],
    });
    const update = summarize(
      "incident_update.posted",
      { incident, incident_update: { status: "monitoring", body: "A fix is deployed.", is_public: false } },
      false,
    );
    expect(update).toMatchObject({
      headline: "Update: Monitoring (internal)",
      body: "A fix is deployed.",
      link: { url: `${PUBLIC_URL}/`, label: "Open the dashboard" },
    });
    expect(
      summarize("maintenance.started", {
        maintenance: { title: "Database upgrade", status: "in_progress", starts_at: "a", ends_at: "b", services: [] },
      }),
    ).toMatchObject({
      title: "Database upgrade",
      headline: "Maintenance started",
      facts: [
        { name: "Status", value: "In progress" },
        { name: "Window", value: "a – b" },
      ],
    });
    expect(
      summarize("service.status_changed", {
        service: { name: "API", status: "partial_outage" },
        previous_status: "operational",
      }),
    ).toMatchObject({ title: "API", headline: "Status changed from Operational to Partial outage", tone: "warning" });
    expect(
      summarize("page.status_changed", {
        page: { id: "o", name: "Acme" },
        status: { indicator: "major", description: "Partial System Outage" },
        previous_status: { indicator: "none", description: "All Systems Operational" },
      }),
    ).toMatchObject({ title: "Acme status", headline: "Partial System Outage", tone: "critical" });
  });
});
