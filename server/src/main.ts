/**
 * `npm start`: the whole product in one process (`--no-worker` for web only,
 * `--worker-only` for the worker alone). Handles SIGINT/SIGTERM itself, since npm's shell
 * does not forward them reliably, and shuts down in order.
 */
import "./preload.ts";
import { readServerConfig } from "./config.ts";
import { startServer } from "./start.ts";

const startedAt = performance.now();
const argv = process.argv.slice(2);
const config = readServerConfig(process.env, argv);
const workerOnly = argv.includes("--worker-only");

const server = await startServer({
  config: workerOnly ? { ...config, WORKER_ENABLED: true } : config,
  env: process.env,
  http: !workerOnly,
}).catch((error: unknown) => {
  console.error(error instanceof Error && !process.env.DEBUG ? `Could not start: ${error.message}` : error);
  process.exit(1);
});
console.log(`${workerOnly ? "Worker running" : "Started"} in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal} received, shutting down`);
    server
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error instanceof Error && !process.env.DEBUG ? `Could not start: ${error.message}` : error);
        process.exit(1);
      });
  });
}
