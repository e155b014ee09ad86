/**
 * Liveness and readiness for orchestrators and load balancers.
 * - GET /healthz: the process answers (no I/O).
 * - GET /readyz: the database answers, its schema is at the newest migration this build
 *   carries, and a worker (in this process or another) beat recently. Otherwise 503 with
 *   each failing check named, so a rollout or an outage explains itself.
 */
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Express } from "express";
import { PROJECT_ROOT } from "../../../db/src/setup.ts";
import type { Services } from "../services.ts";

/** The hash graphile-migrate recorded for the newest committed migration of this build. */
export function newestMigrationHash(folder = resolve(PROJECT_ROOT, "migrations/committed")): string | null {
  const newest = readdirSync(folder)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .at(-1);
  if (!newest) return null;
  return /^--! Hash: (\S+)$/m.exec(readFileSync(resolve(folder, newest), "utf8"))?.[1] ?? null;
}

type Check = "ok" | string;

export function installHealth(app: Express, services: Services): void {
  const { authenticatorPool, ownerPool, config } = services;
  const expectedHash = newestMigrationHash();

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const checks: Record<"database" | "migrations" | "worker", Check> = {
      database: "ok",
      migrations: "ok",
      worker: "ok",
    };
    try {
      await authenticatorPool.query("select 1");
      const { rows } = await ownerPool.query<{ migrated: boolean; last_beat_seconds: number | null }>(
        `select exists (select 1 from graphile_migrate.migrations where hash = $1) as migrated,
                extract(epoch from now() - (select max(beat_at) from app_private.worker_heartbeats))::float8
                  as last_beat_seconds`,
        [expectedHash],
      );
      const { migrated, last_beat_seconds: lastBeat } = rows[0]!;
      if (!migrated) checks.migrations = "the database is not at this version's newest migration";
      if (lastBeat === null) checks.worker = "no worker has ever run";
      else if (lastBeat > config.WORKER_HEARTBEAT_STALE_SECONDS) {
        checks.worker = `no worker heartbeat for ${Math.round(lastBeat)} s`;
      }
    } catch (error) {
      // The reason goes to the log, not to an unauthenticated caller.
      services.logger.warn({ err: error }, "readiness check: the database is unreachable");
      checks.database = "unreachable";
      checks.migrations = checks.worker = "unknown";
    }
    const ready = Object.values(checks).every((check) => check === "ok");
    res
      .status(ready ? 200 : 503)
      .set("Cache-Control", "no-store")
      .json({ status: ready ? "ready" : "unavailable", checks });
  });
}
