/**
 * A worker process says it is alive every few seconds (app_private.worker_heartbeats), so web
 * processes, which may run on other machines, can tell whether anything works the queue.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type pg from "pg";

export const HEARTBEAT_INTERVAL_MS = 5_000;

export function startHeartbeat(ownerPool: pg.Pool, intervalMs = HEARTBEAT_INTERVAL_MS): { stop(): Promise<void> } {
  const workerId = randomUUID();
  const beat = () =>
    ownerPool
      .query(
        `insert into app_private.worker_heartbeats (worker_id, hostname, pid) values ($1, $2, $3)
         on conflict (worker_id) do update set beat_at = now()`,
        [workerId, hostname(), process.pid],
      )
      // A missed beat while the database is away is made up by the next one.
      .catch(() => undefined);
  void beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      // Old rows of stopped workers are removed too, so the table stays small.
      await ownerPool
        .query("delete from app_private.worker_heartbeats where worker_id = $1 or beat_at < now() - interval '1 day'", [
          workerId,
        ])
        .catch(() => undefined);
    },
  };
}
