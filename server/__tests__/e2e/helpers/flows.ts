/**
 * Steps several browser scenarios share: signing up with a new organization, and inviting
 * someone who then joins with a role. Each drives the pages as a person would.
 */
import type { Page } from "playwright-core";

export const PASSWORD = "correct horse battery";

/** Signs up on the landing page and creates an organization; ends on its services page. */
export async function signUpWithOrganization(
  page: Page,
  person: { name: string; email: string },
  organization: { name: string; slug: string },
): Promise<void> {
  await page.goto("/sign-up");
  await page.getByLabel("Name").fill(person.name);
  await page.getByLabel("Email").fill(person.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/organizations/new");
  await page.getByLabel("Name").fill(organization.name);
  await page.getByLabel("Address of the status page").fill(organization.slug);
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.waitForURL("**/services");
}

/** An admin invites `email` with `role` from the members page; the invitee joins in `invitee`. */
export async function inviteAndJoin(
  admin: Page,
  invitee: Page,
  person: { name: string; email: string; role: string },
): Promise<void> {
  await admin.getByRole("link", { name: "Members" }).click();
  await admin.getByLabel("Email").fill(person.email);
  await admin.getByLabel("Role").selectOption(person.role);
  await admin.getByRole("button", { name: "Create invitation" }).click();
  const link = await admin.getByLabel("Invitation link (shown once: send it to the invitee)").inputValue();
  await invitee.goto(link);
  await invitee.getByLabel("Name").fill(person.name);
  await invitee.getByLabel("Email").fill(person.email);
  await invitee.getByLabel("Password").fill(PASSWORD);
  await invitee.getByRole("button", { name: "Create account" }).click();
  await invitee.getByRole("heading", { name: "Incidents" }).waitFor();
}
