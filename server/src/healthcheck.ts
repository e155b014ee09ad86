/**
 * Container health checks (docker-compose.yml): `web` asks the process's /readyz; `worker`
 * checks that a worker on this host beat recently (the worker serves no HTTP). Exits 0 when
 * healthy, 1 otherwise, printing why.
 */
import { hostname } from "node:os";
import pg from "pg";

async function webIsReady(): Promise<string | null> {
  const response = await fetch(`http://127.0.0.1:${process.env.PORT ?? 3000}/readyz`);
  return response.ok ? null : `readyz answered ${response.status}: ${await response.text()}`;
}

async function workerIsBeating(): Promise<string | null> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      "select 1 from app_private.worker_heartbeats where hostname = $1 and beat_at > now() - interval '30 seconds'",
      [hostname()],
    );
    return rowCount ? null : "no recent heartbeat from a worker on this host";
  } finally {
    await client.end();
  }
}

const check = process.argv[2] === "worker" ? workerIsBeating : webIsReady;
check()
  .then((problem) => {
    if (problem) console.error(problem);
    process.exit(problem ? 1 : 0);
  })
  .catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
