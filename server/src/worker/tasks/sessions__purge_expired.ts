import type { Task } from "graphile-worker";

/** Forgets sessions that ended a month ago and sign-in throttle counters that expired. */
export const sessions__purge_expired: Task = async (_payload, helpers) => {
  await helpers.withPgClient(async (client) => {
    const sessions = await client.query(
      `delete from app_private.sessions
       where coalesce(revoked_at, expires_at) < now() - interval '30 days'`,
    );
    const limits = await client.query(
      `delete from app_private.rate_limits where expire is not null and expire < (extract(epoch from now()) * 1000)`,
    );
    helpers.logger.info(`purged ${sessions.rowCount} sessions and ${limits.rowCount} throttle counters`);
  });
};
