/**
 * Integrations and settings in a real browser against a real server (multi-tenant, with the
 * worker delivering webhooks to a receiver on 127.0.0.1, which WEBHOOK_ALLOWED_HOSTS lets
 * through): an owner adds a webhook endpoint (its secret shown once), sends a test event and
 * sees it in the delivery log, redelivers it; adds a chat integration and an alert source and
 * sees their logs; changes the status page settings, exports and schedules then cancels the
 * organization's deletion; a visitor subscribes on the public page and the owner sees them and
 * imports more; a viewer sees no write controls. The webhooks and settings pages pass axe.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startTestServer, type TestServer } from "../helpers/testServer.ts";
import { startReceiver, type Receiver } from "../helpers/webhookReceiver.ts";
import { browserAvailable, launchBrowser, screenshot, seriousAccessibilityViolations } from "./helpers/browser.ts";
import { inviteAndJoin, signUpWithOrganization } from "./helpers/flows.ts";

const DELIVERY_TIMEOUT = 15_000;
const stamp = `${process.pid}-${Date.now() % 100000}`;
const slug = `e2e-int-${stamp}`;

let server: TestServer;
let browser: Browser;
let receiver: Receiver;
const contexts: BrowserContext[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return page;
}

async function expectAccessible(page: Page, name: string) {
  await screenshot(page, name);
  expect(await seriousAccessibilityViolations(page), `axe on ${name}`).toEqual([]);
}

describe.skipIf(!browserAvailable())("integrations and settings in Chromium", () => {
  let owner: Page;

  beforeAll(async () => {
    [server, browser, receiver] = await Promise.all([
      startTestServer({ MULTI_TENANT_ENABLED: "true", WORKER_ENABLED: "true", WEBHOOK_ALLOWED_HOSTS: "127.0.0.1" }),
      launchBrowser(),
      startReceiver(),
    ]);
    owner = await newPage();
    await signUpWithOrganization(
      owner,
      { name: "Ines Integrator", email: `owner-${stamp}@example.com` },
      { name: "E2E Integrations", slug },
    );
    await owner.getByLabel("Service name").fill("Checkout API");
    await owner.getByRole("button", { name: "Add service" }).click();
    await owner.locator(".service-admin", { hasText: "Checkout API" }).waitFor();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await receiver?.close();
    await server?.stop();
  });

  it("an owner adds a webhook endpoint, sends a test event and sees its delivery", async () => {
    await owner.getByRole("link", { name: "Integrations" }).click();
    await owner.waitForURL("**/integrations/webhooks");
    await owner.getByLabel("Endpoint URL").fill(`${receiver.url}/incidentpulse`);
    await owner.getByLabel("Description (optional)").fill("Ops bot");
    await owner.getByRole("checkbox", { name: "incident.created" }).check();
    await owner.getByRole("button", { name: "Add endpoint" }).click();

    const secretField = owner.getByLabel("Signing secret (whsec_…). It is shown only now: store it safely.");
    expect(await secretField.inputValue()).toMatch(/^whsec_/);
    const card = owner.locator(".integration", { hasText: `${receiver.url}/incidentpulse` });
    await card.getByText("incident.created").waitFor();
    await owner.getByRole("button", { name: "I have stored it" }).click();
    await expect(secretField.count()).resolves.toBe(0);

    await card.getByRole("button", { name: "Send test event to Ops bot" }).click();
    const log = owner.getByRole("region", { name: "Deliveries of Ops bot" });
    const delivered = log.locator('tr[data-status="succeeded"]');
    // The worker sends it; the log re-reads by itself until the attempt is done.
    await delivered.first().waitFor({ timeout: DELIVERY_TIMEOUT });
    const cells = await delivered.first().locator("td").allInnerTexts();
    expect(cells.slice(1, 6)).toEqual(["test", "Succeeded", "200", expect.stringMatching(/ms|s$/), "1"]);
    const [request] = receiver.requests;
    expect(request?.path).toBe("/incidentpulse");
    expect(request?.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(JSON.parse(request!.body).type).toBe("test");
    await expectAccessible(owner, "int-01-webhooks");

    await log.getByRole("button", { name: "Redeliver the test message" }).click();
    await expect.poll(() => delivered.count(), { timeout: DELIVERY_TIMEOUT }).toBe(2);
    expect(receiver.requests[1]?.headers["webhook-id"]).toBe(request?.headers["webhook-id"]);
  });

  it("an owner adds a chat integration and an alert source, whose requests are logged", async () => {
    await owner.getByRole("navigation", { name: "Integrations" }).getByRole("link", { name: "Chat" }).click();
    await owner.getByLabel("Chat service").selectOption("slack");
    await owner.getByLabel("Name").fill("#ops");
    await owner.getByLabel("Incoming webhook URL").fill(`${receiver.url}/slack`);
    await owner.getByRole("button", { name: "Add integration" }).click();
    await owner.getByRole("button", { name: "Send test message to #ops" }).click();
    // The same delivery log as webhooks.
    await owner
      .getByRole("region", { name: "Deliveries of #ops" })
      .locator('tr[data-status="succeeded"]')
      .waitFor({ timeout: DELIVERY_TIMEOUT });
    expect(receiver.requests.at(-1)?.path).toBe("/slack");

    await owner.getByRole("link", { name: "Alert sources" }).click();
    await owner.getByLabel("Name").fill("Prometheus");
    await owner.getByLabel("Default service").selectOption({ label: "Checkout API" });
    await owner.getByRole("button", { name: "Add source" }).click();
    const secret = await owner.getByLabel("Secret (ipas_…). It is shown only now: store it safely.").inputValue();
    const hookUrl = await owner.getByLabel("Hook URL (POST alerts here)").inputValue();
    expect(secret).toMatch(/^ipas_/);
    expect(hookUrl).toMatch(new RegExp(`^${server.url}/hooks/alerts/[0-9a-f-]{36}$`));

    const posted = await fetch(hookUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body: JSON.stringify({ title: "Checkout error rate above 5%", severity: "critical", fingerprint: "errors" }),
    });
    expect(posted.status).toBe(202);
    await owner.getByRole("button", { name: "Requests of Prometheus" }).click();
    const requests = owner.getByRole("region", { name: "Requests of Prometheus" });
    await requests.getByText("ACCEPTED").waitFor();
    await expect(requests.locator("tbody tr td").nth(2).innerText()).resolves.toBe("1");
    await screenshot(owner, "int-06-alert-sources");
  });

  it("an owner changes the status page settings, exports, and schedules then cancels the deletion", async () => {
    await owner.getByRole("link", { name: "Settings" }).click();
    await owner.waitForURL("**/settings/status-page");
    await owner.getByLabel("Title (optional)").fill("Integrations status");
    await owner.getByLabel("Support URL (optional)").fill("https://help.example.com");
    await owner.getByLabel("Time zone").fill("Europe/Berlin");
    await owner.getByRole("button", { name: "Save settings" }).click();
    await owner.getByText("Saved.").waitFor();
    await expectAccessible(owner, "int-02-status-page-settings");

    await owner.getByRole("link", { name: "Organization" }).click();
    const [download] = await Promise.all([
      owner.waitForEvent("download"),
      owner.getByRole("button", { name: "Download export" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${slug}-export.json`);

    const remove = owner.getByRole("button", { name: "Delete organization" });
    await expect(remove.isDisabled()).resolves.toBe(true);
    await owner.getByLabel(`Type “${slug}” to confirm`).fill(slug);
    await remove.click();
    await owner.getByRole("heading", { name: "Deletion scheduled" }).waitFor();
    // Every page says so while it is scheduled.
    await owner.locator(".deletion-notice", { hasText: "E2E Integrations and all its data will be deleted" }).waitFor();
    await expectAccessible(owner, "int-03-organization-settings");
    await owner.getByRole("button", { name: "Cancel the deletion" }).click();
    await owner.getByRole("heading", { name: "Delete the organization" }).waitFor();
    await owner.locator(".deletion-notice").waitFor({ state: "detached" });
  });

  it("a viewer sees the integrations and settings without write controls", async () => {
    const viewer = await newPage();
    await inviteAndJoin(owner, viewer, { name: "Vera Viewer", email: `viewer-${stamp}@example.com`, role: "viewer" });

    await viewer.getByRole("link", { name: "Integrations" }).click();
    await viewer.waitForURL("**/integrations/alert-sources");
    const sections = viewer.getByRole("navigation", { name: "Integrations" });
    await expect(sections.getByRole("link").allInnerTexts()).resolves.toEqual(["Alert sources"]);
    await viewer.locator(".integration", { hasText: "Prometheus" }).waitFor();
    await expect(viewer.getByRole("button").allInnerTexts()).resolves.toEqual(["Sign out"]);
    await expect(viewer.getByLabel(/Hook URL/).count()).resolves.toBe(0);

    await viewer.goto("/integrations/webhooks");
    await viewer.getByText("Only owners and admins manage webhooks.").waitFor();
    await expect(viewer.getByRole("button", { name: /Add endpoint|Send test event/ }).count()).resolves.toBe(0);

    await viewer.getByRole("link", { name: "Settings" }).click();
    await viewer.getByText("Integrations status").waitFor();
    await expect(
      viewer.getByRole("navigation", { name: "Settings" }).getByRole("link").allInnerTexts(),
    ).resolves.toEqual(["Status page"]);
    await expect(viewer.getByRole("button", { name: "Save settings" }).count()).resolves.toBe(0);
    await screenshot(viewer, "int-04-viewer-settings");
  });

  it("a visitor subscribes on the public status page", async () => {
    const visitor = await newPage();
    await visitor.goto(`/status/${slug}`);
    await visitor.getByRole("heading", { name: "Integrations status" }).waitFor({ timeout: DELIVERY_TIMEOUT });
    await visitor.getByLabel("Email address").fill(`reader-${stamp}@example.com`);
    await visitor.getByRole("button", { name: "Subscribe" }).click();
    await visitor.getByText("Check your inbox.").waitFor();
    await screenshot(visitor, "int-05-subscribed");
  });

  it("an owner sees the subscriber and imports more who already consented", async () => {
    await owner.getByRole("link", { name: "Settings" }).click();
    await owner.getByRole("link", { name: "Subscribers" }).click();
    await owner
      .getByRole("row", { name: new RegExp(`reader-${stamp}@example.com`) })
      .getByText("Pending")
      .waitFor();

    await owner
      .getByLabel("Email addresses")
      .fill(`Ann <ann-${stamp}@example.com>\nben-${stamp}@example.com, ann-${stamp}@example.com`);
    await owner.getByRole("checkbox", { name: "Checkout API" }).check();
    await owner.getByRole("checkbox", { name: /already consented/ }).check();
    await owner.getByRole("button", { name: "Import" }).click();
    await owner.getByText("2 subscribers added or changed. They are confirmed.").waitFor();
    const ben = owner.getByRole("row", { name: new RegExp(`ben-${stamp}@example.com`) });
    await ben.getByText("Confirmed").waitFor();
    await expect(ben.innerText()).resolves.toContain("Checkout API");
    await screenshot(owner, "int-07-subscribers");
  });
});
