/**
 * The product as the benchmark runs it: startServer with the bench database (BENCH_DATABASE,
 * a DatabaseConfig as JSON) and the rest of the configuration from the environment, in a
 * process of its own. Stops in order on SIGTERM.
 */
import "../src/preload.ts";
import type { DatabaseConfig } from "../../db/src/config.ts";
import { readServerConfig } from "../src/config.ts";
import { startServer } from "../src/start.ts";

const database = JSON.parse(process.env.BENCH_DATABASE ?? "null") as DatabaseConfig | null;
if (!database) throw new Error("BENCH_DATABASE is not set: run this through `npm run bench`.");

const server = await startServer({
  config: readServerConfig(process.env),
  env: process.env,
  database,
  log: (message) => console.log(message),
});

// The bench measures memory after a full collection (node --expose-gc), not garbage of the
// load that came before.
const { gc } = globalThis as { gc?: () => void };
process.on("SIGUSR2", () => gc?.());

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.removeAllListeners(signal);
  process.once(signal, () => {
    void server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
