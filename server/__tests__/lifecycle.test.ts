/**
 * `npm start` as a user runs it: a fresh data directory, a second start reusing it, Ctrl-C /
 * SIGTERM leaving no postgres behind, and recovery from a run that was killed outright.
 * Start-up times are printed for the record, never asserted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findFreePort, isAlive } from "../../db/src/cluster.ts";
import { PROJECT_ROOT } from "../../db/src/setup.ts";
import { graphql, PASSWORD } from "./helpers/testServer.ts";

const dataDir = await mkdtemp(join(tmpdir(), "incidentpulse-start-"));
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await rm(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  seconds: number;
  output: () => string;
}

async function start(): Promise<Started> {
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), NODE_ENV: "development" };
  for (const key of [
    "DATABASE_URL",
    "AUTH_DATABASE_URL",
    "ROOT_DATABASE_URL",
    "JWT_SECRET",
    "INCIDENTPULSE_TEST_DATABASE",
  ]) {
    delete env[key];
  }
  const startedAt = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", resolve(PROJECT_ROOT, "server/src/main.ts")], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready at (http:\/\/[^\s"]+)/.exec(output);
      if (match) resolveUrl(match[1]!);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    setTimeout(() => reject(new Error(`not ready after 60 s:\n${output}`)), 60_000);
  });
  return { child, url, seconds: (performance.now() - startedAt) / 1000, output: () => output };
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolveExit) => {
    if (child.exitCode !== null) resolveExit(child.exitCode);
    else child.once("exit", (code) => resolveExit(code));
  });

const postmasterPid = (): number | null => {
  const file = join(dataDir, "pg", "postmaster.pid");
  return existsSync(file) ? Number(readFileSync(file, "utf8").split("\n")[0]) : null;
};

describe("npm start", () => {
  it("starts on a fresh directory, restarts on the same data, and stops cleanly", async () => {
    const first = await start();
    const registered = await graphql(
      first.url,
      `mutation { register(input: { email: "first@example.com", name: "First", password: "${PASSWORD}" }) { membershipRole } }`,
    );
    expect(registered.data?.register.membershipRole).toBe("owner");
    const page = await fetch(first.url, { headers: { accept: "text/html" } });
    expect(await page.text()).toContain('<div id="root">');
    first.child.kill("SIGTERM");
    expect(await exitOf(first.child)).toBe(0);
    expect(postmasterPid()).toBeNull();

    const second = await start();
    const signedIn = await graphql(
      second.url,
      `mutation { login(input: { email: "first@example.com", password: "${PASSWORD}" }) { membershipRole } }`,
    );
    expect(signedIn.data?.login.membershipRole).toBe("owner");
    second.child.kill("SIGINT");
    expect(await exitOf(second.child)).toBe(0);
    expect(postmasterPid()).toBeNull();

    console.log(`npm start to ready: first ${first.seconds.toFixed(1)} s, second ${second.seconds.toFixed(1)} s`);
  });

  it("recovers a postgres left running by a killed run", async () => {
    const killed = await start();
    killed.child.kill("SIGKILL");
    await exitOf(killed.child);
    const orphan = postmasterPid();
    expect(orphan).not.toBeNull();
    expect(isAlive(orphan!)).toBe(true);

    const recovered = await start();
    const answer = await graphql(
      recovered.url,
      `
        {
          multiTenantEnabled
        }
      `,
    );
    expect(answer.data).toEqual({ multiTenantEnabled: false });
    expect(isAlive(orphan!)).toBe(false);
    recovered.child.kill("SIGTERM");
    expect(await exitOf(recovered.child)).toBe(0);
    expect(postmasterPid()).toBeNull();
  });
});
