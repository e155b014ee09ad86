/**
 * Status-page subscribers, end to end: a real server with its worker, mailing through a real
 * SMTP server started here (smtp-server), every message parsed (mailparser). Nothing waits for
 * a fixed time: mail and jobs are polled with a deadline, and "nothing more was sent" is
 * asserted once the worker has no subscriber job left, since each send is recorded before its
 * job ends.
 */
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, register, startTestServer, type TestServer } from "./helpers/testServer.ts";

interface ReceivedMail {
  /** The SMTP envelope's recipients: one per message, always. */
  recipients: string[];
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Header fields as sent (mailparser folds List-* headers into an object of its own). */
  headers: Map<string, string>;
}

const mails: ReceivedMail[] = [];
let smtp: SMTPServer;
let smtpUrl: string;

async function startSmtpServer(): Promise<void> {
  smtp = new SMTPServer({
    // Plain SMTP on loopback: no TLS upgrade, no authentication.
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      // The message is recorded before the server answers 250, so once the sender knows it was
      // accepted, the test can see it.
      simpleParser(stream)
        .then((parsed) => {
          const to = parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : "";
          mails.push({
            recipients: session.envelope.rcptTo.map((recipient) => recipient.address),
            to,
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
            html: typeof parsed.html === "string" ? parsed.html : "",
            headers: new Map(
              parsed.headerLines.map(({ key, line }) => [
                key,
                line
                  .slice(line.indexOf(":") + 1)
                  .replace(/\r?\n/g, "")
                  .trim(),
              ]),
            ),
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
}

async function eventually<T>(read: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const mailsTo = (address: string) => mails.filter((mail) => mail.recipients.includes(address.toLowerCase()));
const waitForMail = (address: string, matching: (mail: ReceivedMail) => boolean, what: string) =>
  eventually(() => mailsTo(address).find(matching), `${what} to ${address}`);

function linkIn(mail: ReceivedMail, pattern: RegExp): string {
  const link = pattern.exec(mail.text)?.[0];
  if (!link) throw new Error(`No link matching ${pattern} in:\n${mail.text}`);
  return link;
}
const CONFIRM_LINK = /https?:\/\/\S+\/subscriptions\/confirm\?token=[\w-]+/;
const UNSUBSCRIBE_LINK = /https?:\/\/\S+\/subscriptions\/unsubscribe\?token=[\w-]+/;

let server: TestServer;
let acme: OrganizationMembers;
let other: OrganizationMembers;
let api: string;
let web: string;
let otherService: string;
let clientNumber = 0;

/** Each sign-up comes from its own client address (the server trusts the loopback proxy). */
const nextClientAddress = () => `198.51.100.${++clientNumber}`;

async function signUp(
  slug: string,
  body: Record<string, unknown>,
  options: { address?: string; base?: string } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${options.base ?? `${server.url}/status/${slug}`}/api/subscriptions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      "x-forwarded-for": options.address ?? nextClientAddress(),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function postLink(url: string, form: Record<string, string> = {}, accept = "application/json") {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  return { status: response.status, text, json: accept === "application/json" ? JSON.parse(text) : null };
}

async function subscriberState(organizationId: string, email: string): Promise<string | undefined> {
  const { rows } = await server.db.rootPool.query<{ status: string }>(
    "select status::text from app_public.subscribers where organization_id = $1 and email = $2",
    [organizationId, email],
  );
  return rows[0]?.status;
}

/** Signs up through the page and confirms through the mailed link (POST, as the button does). */
async function subscribeAndConfirm(members: OrganizationMembers, email: string, serviceIds: string[] = []) {
  expect((await signUp(members.slug, { email, serviceIds })).status).toBe(202);
  const confirmation = await waitForMail(email, (mail) => mail.subject.startsWith("Confirm"), "a confirmation");
  const confirmed = await postLink(linkIn(confirmation, CONFIRM_LINK));
  expect(confirmed.status).toBe(200);
  expect(await subscriberState(members.organizationId, email)).toBe("confirmed");
}

/** Waits until the worker has no subscriber job left (failing jobs stay, so this times out on them). */
async function subscriberJobsDone(): Promise<void> {
  await eventually(async () => {
    const { rows } = await server.db.rootPool.query<{ n: number }>(
      "select count(*)::int as n from graphile_worker.jobs where task_identifier like 'subscribers\\_\\_%'",
    );
    return rows[0]!.n === 0 ? true : undefined;
  }, "the subscriber jobs");
}

type Query = <R extends Record<string, any>>(text: string, values?: unknown[]) => Promise<R[]>;

/** Writes as the organization in one transaction, as one request or alert would. */
async function inOrganization<T>(organizationId: string, work: (query: Query) => Promise<T>): Promise<T> {
  const client = await server.db.rootPool.connect();
  const query: Query = async (text, values = []) => (await client.query(text, values)).rows;
  try {
    await client.query("begin");
    await client.query("select set_config('jwt.claims.org_id', $1, true)", [organizationId]);
    const result = await work(query);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

/** An incident with its services and first update, all in one transaction. */
function openIncident(
  organizationId: string,
  incident: {
    title: string;
    visibility?: "public" | "internal";
    services: string[];
    update?: string;
    updateIsPublic?: boolean;
  },
): Promise<string> {
  return inOrganization(organizationId, async (query) => {
    const [row] = await query<{ id: string }>(
      "insert into app_public.incidents (title, visibility) values ($1, $2) returning id",
      [incident.title, incident.visibility ?? "public"],
    );
    for (const serviceId of incident.services) {
      await query(
        "insert into app_public.incident_services (incident_id, service_id, status) values ($1, $2, 'partial_outage')",
        [row!.id, serviceId],
      );
    }
    if (incident.update) {
      await query(
        "insert into app_public.incident_updates (incident_id, status, body, is_public) values ($1, 'investigating', $2, $3)",
        [row!.id, incident.update, incident.updateIsPublic ?? true],
      );
    }
    return row!.id;
  });
}

const mailsAbout = (address: string, id: string) => mailsTo(address).filter((mail) => mail.text.includes(id));

const CREATE_SERVICE = `mutation S($name: String!) { createService(input: { service: { name: $name } }) { service { rowId } } }`;
const LIST = `query { subscribers { nodes { rowId email status source subscriberServices { nodes { serviceId } } } } }`;
const IMPORT = `mutation I($emails: [String]!, $serviceIds: [UUID], $skip: Boolean) {
  importSubscribers(input: { emails: $emails, serviceIds: $serviceIds, skipConfirmation: $skip }) {
    subscribers { rowId email status source }
  }
}`;
const DELETE = `mutation D($id: UUID!) { deleteSubscriber(input: { rowId: $id }) { subscriber { rowId } } }`;

async function waitForStatusPage(base: string): Promise<void> {
  await eventually(async () => ((await fetch(`${base}/api/v2/status.json`)).ok ? true : undefined), `${base}`);
}

beforeAll(async () => {
  await startSmtpServer();
  server = await startTestServer({
    MULTI_TENANT_ENABLED: "true",
    WORKER_ENABLED: "true",
    SMTP_URL: smtpUrl,
    SUBSCRIPTIONS_PER_ADDRESS_PER_HOUR: "4",
    SUBSCRIPTIONS_PER_EMAIL_PER_HOUR: "3",
  });
  acme = await organizationWithMembers(server, "subs-acme");
  other = await organizationWithMembers(server, "subs-other");
  const service = async (token: string, name: string) =>
    (await graphql(server.url, CREATE_SERVICE, { name }, { token })).data!.createService.service.rowId as string;
  api = await service(acme.tokens.admin, "API");
  web = await service(acme.tokens.admin, "Web");
  otherService = await service(other.tokens.admin, "Other API");
  await waitForStatusPage(`${server.url}/status/${acme.slug}`);
  await waitForStatusPage(`${server.url}/status/${other.slug}`);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
});

describe("signing up (double opt-in)", () => {
  it("mails a confirmation; following the link only shows a button, and its POST confirms", async () => {
    const email = "alice@example.com";
    const signedUp = await signUp(acme.slug, { email, serviceIds: [] });
    expect(signedUp.status).toBe(202);
    expect(signedUp.body.status).toBe("pending_confirmation");
    expect(await subscriberState(acme.organizationId, email)).toBe("pending");

    const confirmation = await waitForMail(email, (mail) => mail.subject.startsWith("Confirm"), "a confirmation");
    expect(confirmation.recipients).toEqual([email]);
    expect(confirmation.to).toBe(email);
    expect(confirmation.subject).toBe("Confirm your subscription to subs-acme status updates");
    expect(confirmation.html).toContain("Confirm your subscription");
    const link = linkIn(confirmation, CONFIRM_LINK);
    expect(link.startsWith(`${server.url}/status/${acme.slug}/subscriptions/confirm?token=ipsc_`)).toBe(true);
    expect(confirmation.headers.get("list-unsubscribe")).toMatch(
      /^<http:\/\/\S+\/subscriptions\/unsubscribe\?token=ipsu_/,
    );

    // What a mail scanner does: fetch the link. Nothing changes.
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('<form method="post">');
    expect(await subscriberState(acme.organizationId, email)).toBe("pending");

    // The button: a form POST from the browser, answered with a page.
    const token = new URL(link).searchParams.get("token")!;
    const confirmed = await postLink(`${server.url}/status/${acme.slug}/subscriptions/confirm`, { token }, "text/html");
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain("Subscription confirmed");
    expect(await subscriberState(acme.organizationId, email)).toBe("confirmed");
    // Confirming twice is fine.
    expect((await postLink(link)).json.status).toBe("confirmed");
  });

  it("answers the same whatever the address's state, and re-sends only to pending or unsubscribed addresses", async () => {
    const confirmedAgain = await signUp(acme.slug, { email: "ALICE@example.com" });
    const fresh = await signUp(acme.slug, { email: "newcomer@example.com" });
    expect([confirmedAgain.status, confirmedAgain.body]).toEqual([fresh.status, fresh.body]);
    await subscriberJobsDone();
    // The confirmed address was not sent another confirmation.
    expect(mailsTo("alice@example.com").filter((mail) => mail.subject.startsWith("Confirm"))).toHaveLength(1);

    // Signing up again at once sends nothing more: one confirmation per address per ten minutes.
    const pendingAgain = await signUp(acme.slug, { email: "newcomer@example.com" });
    expect(pendingAgain.body).toEqual(fresh.body);
    await subscriberJobsDone();
    const confirmations = () => mailsTo("newcomer@example.com").filter((mail) => mail.subject.startsWith("Confirm"));
    expect(confirmations()).toHaveLength(1);

    // Later, a pending address is sent a new confirmation.
    await server.db.rootPool.query(
      "update app_private.subscriber_confirmation_tokens set issued_at = issued_at - interval '11 minutes'",
    );
    await signUp(acme.slug, { email: "newcomer@example.com" });
    await subscriberJobsDone();
    expect(confirmations()).toHaveLength(2);
  });

  it("accepts a plain HTML form and answers it with a page", async () => {
    const form = new URLSearchParams([
      ["email", "form@example.com"],
      ["serviceIds", api],
      ["serviceIds", web],
    ]);
    const response = await fetch(`${server.url}/status/${acme.slug}/api/subscriptions`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "text/html",
        "x-forwarded-for": nextClientAddress(),
      },
      body: form.toString(),
    });
    expect(response.status).toBe(202);
    expect(await response.text()).toContain("Check your inbox");
    const confirmation = await waitForMail("form@example.com", () => true, "a confirmation");
    expect(confirmation.text).toContain("Services: API, Web");
  });

  it("refuses bad input with codes, never a 500", async () => {
    const invalidEmail = await signUp(acme.slug, { email: "not an email" });
    expect([invalidEmail.status, invalidEmail.body.errors[0].extensions.code]).toEqual([422, "INVALID_EMAIL"]);
    const badIds = await signUp(acme.slug, { email: "ids@example.com", serviceIds: ["nope"] });
    expect([badIds.status, badIds.body.errors[0].extensions.code]).toEqual([422, "VALIDATION_FAILED"]);
    const foreignService = await signUp(acme.slug, { email: "foreign@example.com", serviceIds: [otherService] });
    expect([foreignService.status, foreignService.body.errors[0].extensions.code]).toEqual([422, "UNKNOWN_SERVICE"]);
    const unknownPage = await signUp("no-such-page", { email: "lost@example.com" });
    expect([unknownPage.status, unknownPage.body.errors[0].extensions.code]).toEqual([404, "NOT_FOUND"]);
    const malformed = await fetch(`${server.url}/status/${acme.slug}/api/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": nextClientAddress() },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect(await subscriberState(acme.organizationId, "foreign@example.com")).toBeUndefined();
  });

  it("rejects unknown and expired links with codes", async () => {
    const base = `${server.url}/status/${acme.slug}/subscriptions`;
    const unknown = await postLink(`${base}/confirm?token=ipsc_${"x".repeat(43)}`);
    expect([unknown.status, unknown.json.errors[0].extensions.code]).toEqual([404, "SUBSCRIPTION_LINK_INVALID"]);
    const malformed = await postLink(`${base}/unsubscribe?token=garbage`);
    expect([malformed.status, malformed.json.errors[0].extensions.code]).toEqual([404, "SUBSCRIPTION_LINK_INVALID"]);
    expect((await fetch(`${base}/confirm`)).status).toBe(404);

    await signUp(acme.slug, { email: "late@example.com" });
    const confirmation = await waitForMail("late@example.com", () => true, "a confirmation");
    await server.db.rootPool.query(
      "update app_private.subscriber_confirmation_tokens set expires_at = now() - interval '1 minute' where organization_id = $1",
      [acme.organizationId],
    );
    const expired = await postLink(linkIn(confirmation, CONFIRM_LINK));
    expect([expired.status, expired.json.errors[0].extensions.code]).toEqual([410, "SUBSCRIPTION_LINK_EXPIRED"]);
    expect(await subscriberState(acme.organizationId, "late@example.com")).toBe("pending");
  });

  it("limits sign-ups per email address and per client address (429 with Retry-After)", async () => {
    const email = "flooded@example.com";
    for (let attempt = 0; attempt < 3; attempt++) expect((await signUp(acme.slug, { email })).status).toBe(202);
    const limited = await signUp(acme.slug, { email });
    expect(limited.status).toBe(429);
    expect(limited.body.errors[0].extensions.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);

    const address = "203.0.113.77";
    for (let attempt = 0; attempt < 4; attempt++) {
      expect((await signUp(acme.slug, { email: `busy-${attempt}@example.com` }, { address })).status).toBe(202);
    }
    const blocked = await signUp(acme.slug, { email: "busy-last@example.com" }, { address });
    expect([blocked.status, blocked.body.errors[0].extensions.code]).toEqual([429, "RATE_LIMITED"]);
    expect(await subscriberState(acme.organizationId, "busy-last@example.com")).toBeUndefined();
    // The counters live in PostgreSQL, shared by every web process.
    const { rows } = await server.db.rootPool.query<{ n: number }>(
      "select count(*)::int as n from app_private.rate_limits where key = 'subscribe-address:203.0.113.77'",
    );
    expect(rows[0]!.n).toBe(1);
  });
});

describe("notifications", () => {
  const everyone = "everyone@example.com";
  const apiOnly = "api-only@example.com";
  const webOnly = "web-only@example.com";
  const stranger = "stranger@example.com";

  beforeAll(async () => {
    await subscribeAndConfirm(acme, everyone);
    await subscribeAndConfirm(acme, apiOnly, [api]);
    await subscribeAndConfirm(acme, webOnly, [web]);
    await subscribeAndConfirm(other, stranger);
    await subscriberJobsDone();
  }, 120_000);

  it("mails one message per recipient, for the services they follow, once for an incident opened with its first update", async () => {
    const incidentId = await openIncident(acme.organizationId, {
      title: "API is slow",
      services: [api],
      update: "We are looking into slow responses.",
    });
    await subscriberJobsDone();

    for (const address of [everyone, apiOnly]) {
      const received = mailsAbout(address, incidentId);
      expect(received).toHaveLength(1);
      const [mail] = received;
      expect(mail!.recipients).toEqual([address]);
      expect(mail!.to).toBe(address);
      expect(mail!.subject).toBe("[subs-acme] Investigating: API is slow");
      expect(mail!.text).toContain("We are looking into slow responses.");
      expect(mail!.text).toContain("Affected services: API");
      expect(mail!.text).toContain(`${server.url}/status/${acme.slug}/incidents/${incidentId}`);
      expect(mail!.html).toContain("We are looking into slow responses.");
      const unsubscribe = linkIn(mail!, UNSUBSCRIBE_LINK);
      expect(mail!.headers.get("list-unsubscribe")).toBe(`<${unsubscribe}>`);
      expect(mail!.headers.get("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
    }
    expect(mailsAbout(webOnly, incidentId)).toEqual([]);
    expect(mailsAbout(stranger, incidentId)).toEqual([]);
  });

  it("follows the incident through public updates and its resolution", async () => {
    const incidentId = await openIncident(acme.organizationId, { title: "Web errors", services: [web] });
    const posted = await graphql(
      server.url,
      `
        mutation P($input: PostIncidentUpdateInput!) {
          postIncidentUpdate(input: $input) {
            incidentUpdate {
              rowId
            }
          }
        }
      `,
      { input: { incidentId, status: "monitoring", body: "A fix is deployed; <b>watching</b>." } },
      { token: acme.tokens.editor },
    );
    expect(posted.errors).toBeUndefined();
    // Status moves only through updates: the resolving update tells the resolution, in one email.
    const explained = await graphql(
      server.url,
      `
        mutation E($id: UUID!) {
          updateIncident(input: { rowId: $id, patch: { rootCause: "Bad deploy", resolutionSummary: "Rolled back" } }) {
            incident {
              rowId
            }
          }
        }
      `,
      { id: incidentId },
      { token: acme.tokens.editor },
    );
    expect(explained.errors).toBeUndefined();
    const resolved = await graphql(
      server.url,
      `
        mutation P($input: PostIncidentUpdateInput!) {
          postIncidentUpdate(input: $input) {
            incidentUpdate {
              rowId
            }
          }
        }
      `,
      { input: { incidentId, status: "resolved", body: "All requests succeed again." } },
      { token: acme.tokens.editor },
    );
    expect(resolved.errors).toBeUndefined();
    await subscriberJobsDone();

    for (const address of [everyone, webOnly]) {
      const subjects = mailsAbout(address, incidentId).map((mail) => mail.subject);
      expect(subjects.sort()).toEqual(
        [
          "[subs-acme] Investigating: Web errors",
          "[subs-acme] Monitoring: Web errors",
          "[subs-acme] Resolved: Web errors",
        ].sort(),
      );
    }
    const monitoring = mailsAbout(webOnly, incidentId).find((mail) => mail.subject.includes("Monitoring"))!;
    expect(monitoring.text).toContain("A fix is deployed; <b>watching</b>.");
    expect(monitoring.html).toContain("A fix is deployed; &lt;b&gt;watching&lt;/b&gt;.");
    const resolution = mailsAbout(webOnly, incidentId).find((mail) => mail.subject.includes("Resolved"))!;
    expect(resolution.text).toContain("All requests succeed again.");
    // Root cause and summary are not on the public page, so not in the email either.
    expect(resolution.text).not.toContain("Bad deploy");
    expect(mailsAbout(apiOnly, incidentId)).toEqual([]);
  });

  it("never mails internal incidents or internal updates", async () => {
    const internal = await openIncident(acme.organizationId, {
      title: "Internal only",
      visibility: "internal",
      services: [],
      update: "Secret notes",
    });
    const publicWithNote = await openIncident(acme.organizationId, { title: "Public with a note", services: [api] });
    await subscriberJobsDone();
    const before = mails.length;
    await inOrganization(acme.organizationId, (query) =>
      query(
        "insert into app_public.incident_updates (incident_id, status, body, is_public) values ($1, 'identified', 'internal note', false)",
        [publicWithNote],
      ),
    );
    await subscriberJobsDone();
    expect(mails.slice(before)).toEqual([]);
    expect(mails.filter((mail) => mail.text.includes(internal) || mail.text.includes("Secret notes"))).toEqual([]);

    // Resolved by an internal note: the page shows it resolved, so subscribers hear that, without the note.
    await inOrganization(acme.organizationId, async (query) => {
      await query("update app_public.incidents set root_cause = 'x', resolution_summary = 'y' where id = $1", [
        publicWithNote,
      ]);
      await query(
        "insert into app_public.incident_updates (incident_id, status, body, is_public) values ($1, 'resolved', 'closing note', false)",
        [publicWithNote],
      );
    });
    await subscriberJobsDone();
    const [resolution, ...more] = mailsAbout(everyone, publicWithNote).filter((mail) =>
      mail.subject.includes("Resolved"),
    );
    expect(more).toEqual([]);
    expect(resolution!.text).toContain("This incident has been resolved.");
    expect(mails.filter((mail) => mail.text.includes("internal note") || mail.text.includes("closing note"))).toEqual(
      [],
    );
  });

  it("mails maintenance without services to every subscriber", async () => {
    const [window] = await inOrganization(acme.organizationId, (query) =>
      query<{ id: string }>(
        `insert into app_public.maintenance_windows (title, body, starts_at, ends_at)
         values ('Database upgrade', 'Expect a short read-only period.', now() + interval '2 days', now() + interval '2 days 1 hour')
         returning id`,
      ),
    );
    await subscriberJobsDone();
    for (const address of [everyone, apiOnly, webOnly]) {
      const [mail, ...more] = mailsAbout(address, window!.id);
      expect(more).toEqual([]);
      expect(mail!.subject).toBe("[subs-acme] Scheduled maintenance: Database upgrade");
      expect(mail!.text).toContain("Expect a short read-only period.");
      expect(mail!.text).toContain(`/status/${acme.slug}/maintenance/${window!.id}`);
    }
    expect(mailsAbout(stranger, window!.id)).toEqual([]);
  });

  it("a retried fan-out or send job mails nobody twice", async () => {
    const incidentId = await openIncident(acme.organizationId, {
      title: "Retried",
      services: [],
      update: "Once only.",
    });
    await subscriberJobsDone();
    const { rows } = await server.db.rootPool.query<{ event_id: string; subscriber_id: string }>(
      `select n.event_id, n.subscriber_id from app_private.subscriber_notifications n
       join app_public.events e on e.organization_id = n.organization_id and e.id = n.event_id
       where e.organization_id = $1 and e.payload -> 'incident' ->> 'id' = $2 and n.sent_at is not null`,
      [acme.organizationId, incidentId],
    );
    const confirmed = await server.db.rootPool.query<{ n: number }>(
      "select count(*)::int as n from app_public.subscribers where organization_id = $1 and status = 'confirmed'",
      [acme.organizationId],
    );
    expect(rows.length).toBe(confirmed.rows[0]!.n);
    const eventId = rows[0]!.event_id;
    await server.db.rootPool.query("select graphile_worker.add_job('subscribers__notify', $1::json)", [
      JSON.stringify({ organizationId: acme.organizationId, eventId }),
    ]);
    await server.db.rootPool.query("select graphile_worker.add_job('subscribers__send_notification', $1::json)", [
      JSON.stringify({ organizationId: acme.organizationId, eventId, subscriberId: rows[0]!.subscriber_id }),
    ]);
    await subscriberJobsDone();
    for (const address of [everyone, apiOnly, webOnly]) expect(mailsAbout(address, incidentId)).toHaveLength(1);
  });

  it("unsubscribes with the one-click POST of List-Unsubscribe; a followed link alone changes nothing", async () => {
    const [latest] = mailsTo(webOnly).slice(-1);
    const target = /^<(.+)>$/.exec(String(latest!.headers.get("list-unsubscribe")))![1]!;

    expect((await fetch(target)).status).toBe(200);
    expect(await subscriberState(acme.organizationId, webOnly)).toBe("confirmed");

    // RFC 8058: the mailbox provider POSTs this body to the header's URL.
    const oneClick = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(oneClick.status).toBe(200);
    expect(await subscriberState(acme.organizationId, webOnly)).toBe("unsubscribed");
    expect((await postLink(target)).json.status).toBe("unsubscribed");

    const incidentId = await openIncident(acme.organizationId, {
      title: "After leaving",
      services: [web],
      update: "Hi",
    });
    await subscriberJobsDone();
    expect(mailsAbout(webOnly, incidentId)).toEqual([]);
    expect(mailsAbout(everyone, incidentId)).toHaveLength(1);

    // Signing up again starts over with a confirmation; the old unsubscribe link stays valid.
    expect((await signUp(acme.slug, { email: webOnly, serviceIds: [web] })).status).toBe(202);
    await subscriberJobsDone();
    const reconfirmation = mailsTo(webOnly).filter((mail) => mail.subject.startsWith("Confirm"));
    expect(reconfirmation).toHaveLength(2);
    expect(linkIn(reconfirmation[1]!, UNSUBSCRIBE_LINK)).toBe(target);
    expect(await subscriberState(acme.organizationId, webOnly)).toBe("pending");
  });

  it("never sends one organization's events to another's subscribers", async () => {
    const incidentId = await openIncident(other.organizationId, {
      title: "Other outage",
      services: [otherService],
      update: "Other",
    });
    await subscriberJobsDone();
    expect(mailsAbout(stranger, incidentId)).toHaveLength(1);
    for (const address of [everyone, apiOnly, webOnly]) expect(mailsAbout(address, incidentId)).toEqual([]);
    const acmeToStranger = mails.filter(
      (mail) => mail.recipients.includes(stranger) && mail.text.includes("subs-acme"),
    );
    expect(acmeToStranger).toEqual([]);
  });
});

describe("administration", () => {
  it("admins list subscribers with their services; editors and viewers see no email address", async () => {
    const listed = await graphql(server.url, LIST, {}, { token: acme.tokens.admin });
    expect(listed.errors).toBeUndefined();
    const nodes = listed.data!.subscribers.nodes as {
      email: string;
      subscriberServices: { nodes: { serviceId: string }[] };
    }[];
    expect(nodes.map((node) => node.email)).toContain("api-only@example.com");
    expect(nodes.find((node) => node.email === "api-only@example.com")!.subscriberServices.nodes).toEqual([
      { serviceId: api },
    ]);
    expect(nodes.map((node) => node.email)).not.toContain("stranger@example.com");
    for (const role of ["editor", "viewer"] as const) {
      const hidden = await graphql(server.url, LIST, {}, { token: acme.tokens[role] });
      expect(hidden.data!.subscribers.nodes).toEqual([]);
    }
  });

  it("admins import addresses: confirmed at once when they already consented, else with a confirmation email", async () => {
    const consented = await graphql(
      server.url,
      IMPORT,
      {
        emails: ["imported-1@example.com", "Imported-1@example.com", "imported-2@example.com"],
        serviceIds: [api],
        skip: true,
      },
      { token: acme.tokens.admin },
    );
    expect(consented.errors).toBeUndefined();
    expect(
      consented.data!.importSubscribers.subscribers.map((s: { status: string; source: string }) => [
        s.status,
        s.source,
      ]),
    ).toEqual([
      ["confirmed", "import"],
      ["confirmed", "import"],
    ]);

    const asked = await graphql(
      server.url,
      IMPORT,
      { emails: ["imported-3@example.com"] },
      { token: acme.tokens.owner },
    );
    expect(asked.data!.importSubscribers.subscribers[0].status).toBe("pending");
    const confirmation = await waitForMail("imported-3@example.com", () => true, "a confirmation");
    expect(confirmation.subject).toMatch(/^Confirm/);

    // Someone who unsubscribed is not signed up again by an import, and confirmed ones stay as they are.
    const [latest] = mailsTo("everyone@example.com").slice(-1);
    expect((await postLink(linkIn(latest!, UNSUBSCRIBE_LINK))).status).toBe(200);
    const again = await graphql(
      server.url,
      IMPORT,
      { emails: ["everyone@example.com", "api-only@example.com"], skip: true },
      { token: acme.tokens.admin },
    );
    expect(again.data!.importSubscribers.subscribers).toEqual([]);
    expect(await subscriberState(acme.organizationId, "everyone@example.com")).toBe("unsubscribed");

    const invalid = await graphql(
      server.url,
      IMPORT,
      { emails: ["fine@example.com", "broken"] },
      { token: acme.tokens.admin },
    );
    expect([invalid.status, invalid.code, invalid.errors![0]!.extensions!.invalidEmails]).toEqual([
      422,
      "INVALID_EMAIL",
      ["broken"],
    ]);
    const tooMany = await graphql(
      server.url,
      IMPORT,
      { emails: Array.from({ length: 1001 }, (_, index) => `bulk-${index}@example.com`) },
      { token: acme.tokens.admin },
    );
    expect([tooMany.status, tooMany.code]).toEqual([422, "IMPORT_TOO_LARGE"]);
    const byEditor = await graphql(
      server.url,
      IMPORT,
      { emails: ["editor@example.com"] },
      { token: acme.tokens.editor },
    );
    expect([byEditor.status, byEditor.code]).toEqual([403, "FORBIDDEN"]);
  });

  it("admins remove subscribers; nobody removes another organization's", async () => {
    const { rows } = await server.db.rootPool.query<{ id: string; organization_id: string }>(
      "select id, organization_id from app_public.subscribers where email in ('imported-2@example.com', 'stranger@example.com')",
    );
    const mine = rows.find((row) => row.organization_id === acme.organizationId)!.id;
    const theirs = rows.find((row) => row.organization_id === other.organizationId)!.id;

    const byEditor = await graphql(server.url, DELETE, { id: mine }, { token: acme.tokens.editor });
    expect(byEditor.code).toBe("NOT_FOUND");
    const foreign = await graphql(server.url, DELETE, { id: theirs }, { token: acme.tokens.admin });
    expect(foreign.code).toBe("NOT_FOUND");
    const removed = await graphql(server.url, DELETE, { id: mine }, { token: acme.tokens.admin });
    expect(removed.errors).toBeUndefined();
    expect(await subscriberState(acme.organizationId, "imported-2@example.com")).toBeUndefined();
    expect(await subscriberState(other.organizationId, "stranger@example.com")).toBe("confirmed");
  });
});

describe("single-tenant mode", () => {
  it("takes sign-ups at the root too", async () => {
    const single = await startTestServer({ WORKER_ENABLED: "true", SMTP_URL: smtpUrl });
    try {
      await register(single.url, "Single owner");
      await waitForStatusPage(single.url);
      const response = await fetch(`${single.url}/api/subscriptions`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ email: "root@example.com" }),
      });
      expect(response.status).toBe(202);
      const confirmation = await waitForMail("root@example.com", () => true, "a confirmation");
      expect(linkIn(confirmation, CONFIRM_LINK).startsWith(`${single.url}/status/default/subscriptions/confirm`)).toBe(
        true,
      );
      const rootLink = linkIn(confirmation, CONFIRM_LINK).replace("/status/default", "");
      expect((await postLink(rootLink)).json.status).toBe("confirmed");
    } finally {
      await single.stop();
    }
  }, 120_000);
});
