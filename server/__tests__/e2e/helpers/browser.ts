/**
 * Headless Chromium for the end-to-end tests: Debian's `chromium` (installed by .ci/run with
 * apt-get; never downloaded) driven by playwright-core. One browser per test file; each
 * person in a scenario gets a browser context of their own (own cookies).
 *
 * Screenshots go to test-artifacts/e2e (ignored by git). Accessibility is checked with
 * axe-core injected into the page.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { PROJECT_ROOT } from "../../../../db/src/setup.ts";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS_DIR = resolve(PROJECT_ROOT, "test-artifacts/e2e");

/**
 * Whether the browser tests can run here. CI sets E2E_REQUIRE_BROWSER so a missing browser
 * fails there instead of skipping; elsewhere the tests are skipped with a hint.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.E2E_REQUIRE_BROWSER) throw new Error(`No browser at ${CHROMIUM_PATH}`);
  console.warn(`Browser tests skipped: no ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH).`);
  return false;
}

export async function launchBrowser(): Promise<Browser> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}

const axeSource = (() => {
  const require = createRequire(import.meta.url);
  return require("axe-core").source as string;
})();

export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** The serious and critical accessibility violations axe finds on the page as it is now. */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeFinding[]> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: any[] }> } }
    ).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((violation) => ({
      id: violation.id as string,
      impact: violation.impact as string | null,
      help: violation.help as string,
      targets: (violation.nodes as { target: string[] }[]).map((node) => node.target.join(" ")),
    }));
  });
  return violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
}

/** A GraphQL request made from inside the page, with its cookies and CSRF header, as a forced request would be. */
export async function graphqlFromPage(
  page: Page,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ status: number; code: string | undefined }> {
  return page.evaluate(
    async ({ query, variables }) => {
      const csrf = /(?:^|;\s*)ip_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? "";
      const response = await fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": decodeURIComponent(csrf) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      return { status: response.status, code: body.errors?.[0]?.extensions?.code };
    },
    { query, variables },
  );
}
