/**
 * The self-hosting files, checked statically (no container engine here): the compose file's
 * structure, the Dockerfile's stages and user, and the example environment against the
 * variables the server really reads.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../../db/src/setup.ts";
import { SERVER_VARIABLES } from "../src/config.ts";

const read = (path: string) => readFileSync(resolve(PROJECT_ROOT, path), "utf8");
/** Read by db/src/config.ts: where the database is. */
const DATABASE_VARIABLES = ["DATABASE_URL", "AUTH_DATABASE_URL", "ROOT_DATABASE_URL", "SHADOW_DATABASE_URL"];
/** Used by docker-compose.yml itself to build the database URLs. */
const COMPOSE_VARIABLES = ["POSTGRES_PASSWORD", "OWNER_PASSWORD", "AUTHENTICATOR_PASSWORD"];

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
}

const compose = parse(read("docker-compose.yml"), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

describe("docker-compose.yml", () => {
  it("runs PostgreSQL (a current major) with a named volume and a health check", () => {
    const postgres = compose.services.postgres!;
    expect(Number(/^postgres:(\d+)/.exec(postgres.image ?? "")?.[1])).toBeGreaterThanOrEqual(16);
    const [volume] = postgres.volumes ?? [];
    expect(Object.keys(compose.volumes)).toContain(volume!.split(":")[0]);
    expect(postgres.healthcheck?.test.join(" ")).toContain("pg_isready");
  });

  it("runs the web process and a separate worker from one image, after the database is healthy", () => {
    const { web, worker } = compose.services;
    expect(web!.image).toBe(worker!.image);
    expect(web!.command).toContain("--no-worker");
    expect(worker!.command).toContain("--worker-only");
    for (const service of [web!, worker!]) {
      expect(service.depends_on?.postgres?.condition).toBe("service_healthy");
      expect(service.command).toContain("server/src/main.ts");
      expect(service.environment?.NODE_ENV).toBe("production");
      for (const variable of ["DATABASE_URL", "AUTH_DATABASE_URL", "ROOT_DATABASE_URL"]) {
        expect(service.environment?.[variable]).toMatch(/^postgres:\/\/\w+:\$\{\w+:\?[^}]+\}@postgres:5432\/\w+$/);
      }
    }
    expect(web!.healthcheck?.test).toEqual(["CMD", "node", "--import", "tsx", "server/src/healthcheck.ts", "web"]);
    expect(worker!.healthcheck?.test).toEqual([
      "CMD",
      "node",
      "--import",
      "tsx",
      "server/src/healthcheck.ts",
      "worker",
    ]);
    expect(web!.ports).toEqual(["${PORT:-3000}:3000"]);
    expect(existsSync(resolve(PROJECT_ROOT, "server/src/healthcheck.ts"))).toBe(true);
  });

  it("names only variables the example environment defines", () => {
    const example = read(".env.example");
    const defined = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((match) => match[1]));
    const required = [...read("docker-compose.yml").matchAll(/\$\{([A-Z_]+)[:?}-]/g)].map((match) => match[1]);
    for (const variable of required) expect(defined, variable).toContain(variable);
  });
});

describe(".env.example", () => {
  it("sets only variables something reads, and every secret production requires", () => {
    const example = read(".env.example");
    const defined = [...example.matchAll(/^([A-Z_]+)=/gm)].map((match) => match[1]!);
    const known = new Set([...SERVER_VARIABLES, ...DATABASE_VARIABLES, ...COMPOSE_VARIABLES]);
    for (const variable of defined) expect(known, variable).toContain(variable);
    for (const secret of ["JWT_SECRET", "SECRETS_ENCRYPTION_KEY", ...COMPOSE_VARIABLES]) {
      expect(defined).toContain(secret);
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it("builds in stages and runs the last one as an unprivileged user", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = /^USER (\S+)$/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(["root", "0"]).not.toContain(user);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
    expect(runtime).toMatch(/^EXPOSE 3000$/m);
    expect(runtime).toContain("NODE_ENV=production");
  });

  it("copies only paths that exist, and starts the server", () => {
    for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const path of source!.split(/\s+/)) expect(existsSync(resolve(PROJECT_ROOT, path)), path).toBe(true);
    }
    const command = JSON.parse(/^CMD (.+)$/m.exec(runtime)![1]!) as string[];
    expect(command).toContain("server/src/main.ts");
    expect(existsSync(resolve(PROJECT_ROOT, "server/src/main.ts"))).toBe(true);
  });

  it("keeps the build context small and free of local data and secrets", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const path of ["node_modules", ".data", ".env", ".git"]) expect(ignored).toContain(path);
  });
});
