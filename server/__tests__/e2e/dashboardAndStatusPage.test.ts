/**
 * The web client in a real browser against a real server (multi-tenant, with the worker
 * building status snapshots): an owner signs up, creates an organization, a service and an
 * incident and works it while the public page, open in another browser, follows live; a
 * viewer joins by invitation, sees no write controls, follows changes live and is refused
 * when forcing a write; the free plan's limit brings up the upgrade prompt; the main pages
 * pass an axe accessibility scan. One browser for the file; one context per person.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startTestServer, type TestServer } from "../helpers/testServer.ts";
import {
  browserAvailable,
  graphqlFromPage,
  launchBrowser,
  screenshot,
  seriousAccessibilityViolations,
} from "./helpers/browser.ts";

const PASSWORD = "correct horse battery";
const LIVE_TIMEOUT = 15_000;
const stamp = `${process.pid}-${Date.now() % 100000}`;
const slug = `e2e-${stamp}`;

let server: TestServer;
let browser: Browser;
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

describe.skipIf(!browserAvailable())("the web client in Chromium", () => {
  let owner: Page;
  let publicPage: Page;
  let viewer: Page;
  let incidentUrl: string;

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startTestServer({ MULTI_TENANT_ENABLED: "true", WORKER_ENABLED: "true" }),
      launchBrowser(),
    ]);
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
  });

  it("landing page and sign-in are accessible", async () => {
    const visitor = await newPage();
    await visitor.goto("/");
    await visitor.getByRole("heading", { name: "Plans" }).waitFor();
    await expect(visitor.getByText("2 services").count()).resolves.toBeGreaterThan(0);
    await expectAccessible(visitor, "01-landing");
    await visitor.getByRole("link", { name: "Sign in" }).click();
    await visitor.getByRole("button", { name: "Sign in" }).waitFor();
    await expectAccessible(visitor, "02-sign-in");
  });

  it("an owner signs up, creates an organization and a service", async () => {
    owner = await newPage();
    await owner.goto("/");
    await owner.getByRole("link", { name: "Sign up" }).first().click();
    await owner.getByLabel("Name").fill("Olivia Owner");
    await owner.getByLabel("Email").fill(`owner-${stamp}@example.com`);
    await owner.getByLabel("Password").fill(PASSWORD);
    await owner.getByRole("button", { name: "Create account" }).click();

    await owner.waitForURL("**/organizations/new");
    await owner.getByLabel("Name").fill("E2E Cloud");
    await owner.getByLabel("Address of the status page").fill(slug);
    await owner.getByRole("button", { name: "Create organization" }).click();

    await owner.waitForURL("**/services");
    await owner.getByLabel("Service name").fill("Checkout API");
    await owner.getByRole("button", { name: "Add service" }).click();
    await owner.locator(".service-admin", { hasText: "Checkout API" }).waitFor();
    await expect(owner.locator("#organization-switcher").inputValue()).resolves.toMatch(/[0-9a-f-]{36}/);
    await screenshot(owner, "03-services");
  });

  it("declares an incident that the public page shows, then follows its updates live", async () => {
    await owner.getByRole("link", { name: "Incidents", exact: true }).click();
    await owner.getByRole("link", { name: "Declare incident" }).click();
    await owner.getByLabel("Title").fill("Checkout is failing");
    await owner.getByLabel("Severity").selectOption("high");
    await owner.getByRole("checkbox", { name: "Checkout API" }).check();
    await owner.getByRole("button", { name: "Declare incident" }).click();
    await owner.getByRole("heading", { name: "Checkout is failing" }).waitFor();
    incidentUrl = owner.url();

    publicPage = await newPage();
    await publicPage.goto(`/status/${slug}`);
    await publicPage.getByRole("heading", { name: "Checkout is failing" }).waitFor({ timeout: LIVE_TIMEOUT });
    await publicPage.locator('[data-connection="live"]').waitFor({ timeout: LIVE_TIMEOUT });
    await expect(publicPage.locator(".service-row", { hasText: "Checkout API" }).innerText()).resolves.toContain(
      "Partial outage",
    );

    await owner.getByLabel("Status", { exact: true }).selectOption("identified");
    await owner.getByLabel("Message").fill("A bad deploy broke payments; rolling back.");
    await owner.getByRole("form", { name: "Post an update" }).getByRole("button", { name: "Post update" }).click();
    await owner.locator(".timeline", { hasText: "rolling back" }).waitFor();

    // No reload: the page hears the new snapshot over server-sent events.
    await publicPage.getByText("A bad deploy broke payments; rolling back.").waitFor({ timeout: LIVE_TIMEOUT });
    await expectAccessible(publicPage, "04-status-page-active-incident");
  });

  it("the incident pages are accessible", async () => {
    await expectAccessible(owner, "05-incident-detail");
    await owner.getByRole("link", { name: "← Incidents" }).click();
    await owner.getByRole("link", { name: "Checkout is failing" }).waitFor();
    await expectAccessible(owner, "06-incident-list");
  });

  it("a viewer joins by invitation, sees no write controls and follows changes live", async () => {
    await owner.getByRole("link", { name: "Members" }).click();
    await owner.getByLabel("Email").fill(`viewer-${stamp}@example.com`);
    await owner.getByLabel("Role").selectOption("viewer");
    await owner.getByRole("button", { name: "Create invitation" }).click();
    const link = await owner.getByLabel("Invitation link (shown once: send it to the invitee)").inputValue();
    expect(link).toContain("/accept-invitation#");

    viewer = await newPage();
    await viewer.goto(link);
    await viewer.getByLabel("Name").fill("Victor Viewer");
    await viewer.getByLabel("Email").fill(`viewer-${stamp}@example.com`);
    await viewer.getByLabel("Password").fill(PASSWORD);
    await viewer.getByRole("button", { name: "Create account" }).click();
    await viewer.getByRole("link", { name: "Checkout is failing" }).waitFor();

    await expect(viewer.getByRole("link", { name: "Declare incident" }).count()).resolves.toBe(0);
    await expect(viewer.getByRole("link", { name: "Audit log" }).count()).resolves.toBe(0);
    await viewer.getByRole("link", { name: "Checkout is failing" }).click();
    await viewer.getByRole("heading", { name: "Timeline" }).waitFor();
    for (const control of ["Post update", "Resolve", "Acknowledge", "Save draft", "Upload"]) {
      await expect(viewer.getByRole("button", { name: control }).count(), control).resolves.toBe(0);
    }
    await screenshot(viewer, "07-viewer-incident-detail");

    // Someone else's change appears without reloading (the /api/live stream).
    await owner.goto(incidentUrl);
    await owner.getByLabel("Message").fill("Internal: payments team paged.");
    await owner.getByRole("radio", { name: "Internal note" }).check();
    await owner.getByRole("form", { name: "Post an update" }).getByRole("button", { name: "Post update" }).click();
    await viewer.getByText("Internal: payments team paged.").waitFor({ timeout: LIVE_TIMEOUT });
  });

  it("a viewer's forced write is refused by the server", async () => {
    const forced = await graphqlFromPage(
      viewer,
      `mutation { createIncident(input: { incident: { title: "Forced" } }) { incident { rowId } } }`,
    );
    expect(forced).toEqual({ status: 403, code: "FORBIDDEN" });
  });

  it("resolving takes the incident off the public page live", async () => {
    await owner.getByRole("button", { name: "Resolve", exact: true }).click();
    await owner.getByLabel("Root cause").fill("A deploy shipped a broken payment client.");
    await owner.getByLabel("Resolution summary").fill("Rolled back; added a contract test.");
    await owner.getByRole("button", { name: "Resolve incident" }).click();
    await owner.getByRole("heading", { name: "Reopen" }).waitFor();

    await publicPage.getByRole("heading", { name: "All Systems Operational" }).waitFor({ timeout: LIVE_TIMEOUT });
    await publicPage.locator(".history", { hasText: "Checkout is failing" }).waitFor({ timeout: LIVE_TIMEOUT });
    await screenshot(publicPage, "08-status-page-resolved");
  });

  it("acknowledges, attaches a file, publishes a postmortem, resolves and reopens", async () => {
    await owner.getByRole("link", { name: "Incidents", exact: true }).click();
    await owner.getByRole("link", { name: "Declare incident" }).click();
    await owner.getByLabel("Title").fill("Search is slow");
    await owner.getByRole("radio", { name: "Internal (members only)" }).check();
    await owner.getByRole("button", { name: "Declare incident" }).click();
    await owner.getByRole("heading", { name: "Search is slow" }).waitFor();

    await owner.getByRole("button", { name: "Acknowledge" }).click();
    await owner.getByRole("button", { name: "Acknowledge" }).waitFor({ state: "detached" });

    await owner.getByLabel("File (images, PDF, text; up to 10 MB)").setInputFiles({
      name: "slow-queries.log",
      mimeType: "text/plain",
      buffer: Buffer.from("GET /search 2300ms\n"),
    });
    await owner.getByRole("button", { name: "Upload" }).click();
    const download = owner.getByRole("link", { name: "slow-queries.log" });
    await download.waitFor();
    const href = (await download.getAttribute("href"))!;
    const fetched = await owner.evaluate(async (url) => (await fetch(url)).text(), href);
    expect(fetched).toBe("GET /search 2300ms\n");

    await owner.getByRole("textbox", { name: "Postmortem" }).fill("Timeline, impact, causes and follow-ups.");
    await owner.getByRole("button", { name: "Save and publish" }).click();
    await owner.getByText(/^Published /).waitFor();

    await owner.getByRole("button", { name: "Resolve", exact: true }).click();
    await owner.getByLabel("Root cause").fill("A missing index.");
    await owner.getByLabel("Resolution summary").fill("Added the index.");
    await owner.getByRole("button", { name: "Resolve incident" }).click();
    await owner.getByRole("heading", { name: "Reopen" }).waitFor();

    await owner.getByLabel("Message").fill("Slow again after the reindex.");
    await owner.getByRole("button", { name: "Reopen with this update" }).click();
    await owner.getByRole("heading", { name: "Respond" }).waitFor();
    await owner.locator(".timeline__entry", { hasText: "Slow again" }).getByText("Reopened").waitFor();
    await expect(owner.locator(".facts").first().innerText()).resolves.toContain("1 times");
    await screenshot(owner, "10-incident-reopened");
  });

  it("schedules, edits and cancels maintenance", async () => {
    await owner.getByRole("link", { name: "Maintenance" }).click();
    await owner.getByRole("button", { name: "Schedule maintenance" }).click();
    await owner.getByLabel("Title").fill("Database upgrade");
    await owner.getByRole("checkbox", { name: "Checkout API" }).check();
    await owner.getByRole("button", { name: "Schedule", exact: true }).click();
    const item = owner.locator(".card-list > li", { hasText: "Database upgrade" });
    await item.getByText("Checkout API").waitFor();

    await item.getByRole("button", { name: "Edit" }).click();
    await item.getByLabel("Title").fill("Database upgrade to v18");
    await item.getByRole("button", { name: "Save changes" }).click();
    const renamed = owner.locator(".card-list > li", { hasText: "Database upgrade to v18" });
    await renamed.waitFor();

    owner.once("dialog", (dialog) => void dialog.accept());
    await renamed.getByRole("button", { name: "Cancel maintenance" }).click();
    await renamed.getByText("Canceled").waitFor();
  });

  it("shows metrics and the audit log, and creates and revokes an API key", async () => {
    await owner.getByRole("link", { name: "Metrics" }).click();
    await owner.getByText("Mean time to acknowledge", { exact: true }).waitFor();
    await expect(owner.locator(".stat").first().innerText()).resolves.toMatch(/Incidents\s+2/);
    await screenshot(owner, "11-metrics");

    await owner.getByRole("link", { name: "Audit log" }).click();
    await owner.getByText("Created incidents").first().waitFor();
    await owner.getByLabel("Record").selectOption("maintenance_windows");
    // The unfiltered list also has maintenance entries: wait for the incident entries to go.
    await owner.getByText("Created incidents").first().waitFor({ state: "detached" });
    await owner.getByText("Changed maintenance windows").first().waitFor();

    await owner.getByRole("link", { name: "API keys" }).click();
    await owner.getByLabel("Name").fill("Monitoring");
    await owner.getByRole("button", { name: "Create key" }).click();
    const key = await owner.getByLabel("Your new key. It is shown only now: store it safely.").inputValue();
    expect(key).toMatch(/^ipk_/);
    owner.once("dialog", (dialog) => void dialog.accept());
    await owner.getByRole("button", { name: "Revoke Monitoring" }).click();
    await owner.getByText(/^Revoked /).waitFor();
  });

  it("changes the password, signs out and signs in with the new one", async () => {
    await owner.getByRole("link", { name: /Olivia Owner/ }).click();
    await owner.getByLabel("Current password").fill("not the password");
    await owner.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
    await owner.getByLabel("Repeat the new password").fill("a brand new passphrase");
    await owner.getByRole("button", { name: "Change password" }).click();
    await owner.locator('form[aria-label="Change password"] [data-code="INVALID_CREDENTIALS"]').waitFor();

    await owner.getByLabel("Current password").fill(PASSWORD);
    await owner.getByRole("button", { name: "Change password" }).click();
    await owner.getByText("Password changed.").waitFor();

    await owner.getByRole("button", { name: "Sign out" }).click();
    await owner.getByRole("heading", { name: "Plans" }).waitFor();
    await owner.getByRole("link", { name: "Sign in" }).click();
    await owner.getByLabel("Email").fill(`owner-${stamp}@example.com`);
    await owner.getByLabel("Password").fill("a brand new passphrase");
    await owner.getByRole("button", { name: "Sign in" }).click();
    await owner.getByRole("heading", { name: "Incidents" }).waitFor();
  });

  it("finds a status page by slug, by organization id and from the last visit", async () => {
    await publicPage.goto("/status");
    await publicPage.waitForURL(`**/status/${slug}`);
    await publicPage.goto(`/status?orgSlug=${slug}`);
    await publicPage.waitForURL(`**/status/${slug}`);
    const organizationId = (
      await server.db.rootPool.query<{ id: string }>("select id from app_public.organizations where slug = $1", [slug])
    ).rows[0]!.id;
    await publicPage.goto(`/status?orgId=${organizationId}`);
    await publicPage.waitForURL(`**/status/${slug}`);
    await publicPage.getByRole("heading", { name: "E2E Cloud" }).waitFor();
    await publicPage.setViewportSize({ width: 390, height: 844 });
    await screenshot(publicPage, "12-status-page-phone");
    expect(await publicPage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it("the free plan's limit shows the usage and an upgrade action", async () => {
    await owner.getByRole("link", { name: "Services" }).click();
    await owner.getByLabel("Service name").fill("Storefront");
    await owner.getByRole("button", { name: "Add service" }).click();
    await owner.locator(".service-admin", { hasText: "Storefront" }).waitFor();
    await owner.getByLabel("Service name").fill("Search");
    await owner.getByRole("button", { name: "Add service" }).click();

    const prompt = owner.locator('form[aria-label="Add a service"] [data-code="PLAN_LIMIT_EXCEEDED"]');
    await prompt.waitFor();
    const text = await prompt.innerText();
    expect(text).toContain("The Free plan allows 2 services.");
    expect(text).toContain("Using 2 of 2.");
    await prompt.getByRole("button", { name: "Upgrade to Pro" }).click();
    // No Stripe keys in tests: the answer is shown by the button that caused it.
    await prompt.getByText("BILLING_NOT_CONFIGURED").waitFor();
    await screenshot(owner, "09-plan-limit");
  });
});
