/**
 * `npm test`: a throw-away embedded cluster on a free port, one migrated template database,
 * then vitest (each test file clones the template into a database of its own). The cluster is
 * removed when vitest ends, fails, or the run is interrupted; clusters of runs that were
 * killed outright are cleaned up by the next run.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { isAlive, startEmbeddedCluster, stopLeftoverPostmaster } from "./cluster.ts";
import { rolesFor, withCredentials, type DatabaseConfig } from "./config.ts";
import { PROJECT_ROOT, prepareDatabase } from "./setup.ts";
import { CLIENT_DIST } from "../../server/src/middleware/installClient.ts";

export const TEST_TEMPLATE_DATABASE = "incidentpulse_test";

const runsDir = resolve(process.env.DATA_DIR ?? resolve(PROJECT_ROOT, ".data"), "test-runs");

async function removeAbandonedRuns(): Promise<void> {
  if (!existsSync(runsDir)) return;
  for (const entry of await readdir(runsDir)) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && isAlive(pid)) continue;
    await stopLeftoverPostmaster(resolve(runsDir, entry, "pg"));
    await rm(resolve(runsDir, entry), { recursive: true, force: true });
  }
}

/** The newest modification time of a file or of anything in a folder, in ms. */
async function newestChange(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path);
  const times = await Promise.all(entries.map((entry) => newestChange(resolve(path, entry))));
  return Math.max(info.mtimeMs, ...times);
}

/**
 * The browser tests must exercise the current client: it is rebuilt when any of its sources
 * is newer than the last build (a second or two), and otherwise left alone.
 */
async function buildClientIfStale(): Promise<void> {
  const built = await newestChange(resolve(CLIENT_DIST, "index.html"));
  const client = resolve(PROJECT_ROOT, "client");
  const sources = await Promise.all(
    ["src", "index.html", "vite.config.ts"].map((entry) => newestChange(resolve(client, entry))),
  );
  if (built > 0 && built >= Math.max(...sources)) return;
  const { build } = await import("vite");
  const nodeEnv = process.env.NODE_ENV;
  await build({ configFile: resolve(client, "vite.config.ts"), logLevel: "warn" });
  // Vite sets NODE_ENV=production in this process; vitest must not inherit it (React's test
  // helpers, for one, exist only outside production).
  if (nodeEnv === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = nodeEnv;
}

const startedAt = performance.now();
await buildClientIfStale();
await removeAbandonedRuns();
const runDir = resolve(runsDir, String(process.pid));
await mkdir(runDir, { recursive: true });
const superuserPassword = randomBytes(12).toString("hex");
const cluster = await startEmbeddedCluster({ dataDir: resolve(runDir, "pg"), superuserPassword, ephemeral: true });

let exitCode = 1;
const stopEverything = async () => {
  await cluster.stop().catch(() => undefined);
  await rm(runDir, { recursive: true, force: true });
};

try {
  const roles = rolesFor(TEST_TEMPLATE_DATABASE);
  const ownerPassword = randomBytes(12).toString("hex");
  const authenticatorPassword = randomBytes(12).toString("hex");
  const at = { port: cluster.port };
  const template: DatabaseConfig = {
    name: TEST_TEMPLATE_DATABASE,
    roles,
    ownerUrl: withCredentials(at, roles.owner, ownerPassword, TEST_TEMPLATE_DATABASE),
    authenticatorUrl: withCredentials(at, roles.authenticator, authenticatorPassword, TEST_TEMPLATE_DATABASE),
    rootUrl: withCredentials(at, cluster.superuser, superuserPassword, "postgres"),
  };
  await prepareDatabase(template, { reset: true, includeCurrent: true });
  console.log(`Test cluster ready on port ${cluster.port} in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);

  const child = spawn(
    process.execPath,
    [resolve(PROJECT_ROOT, "node_modules/vitest/vitest.mjs"), "run", ...process.argv.slice(2)],
    {
      stdio: "inherit",
      cwd: PROJECT_ROOT,
      env: { ...process.env, INCIDENTPULSE_TEST_DATABASE: JSON.stringify(template) },
    },
  );
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  exitCode = await new Promise<number>((resolveExit) => child.on("exit", (code) => resolveExit(code ?? 1)));
} catch (error) {
  console.error(error);
} finally {
  await stopEverything();
}
process.exit(exitCode);
