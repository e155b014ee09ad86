/**
 * Requests per minute per alert source, counted in PostgreSQL (app_private.rate_limits, like the
 * sign-in throttle) so every web process shares the budget. A misconfigured or looping sender
 * is held back before its requests reach the incident tables or the request log.
 */
import type pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";

export class AlertSourceRateLimit {
  private readonly limiter: RateLimiterPostgres;

  constructor(ownerPool: pg.Pool, requestsPerMinute: number) {
    this.limiter = new RateLimiterPostgres({
      storeClient: ownerPool,
      storeType: "pool",
      schemaName: "app_private",
      tableName: "rate_limits",
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: "alert-source",
      points: requestsPerMinute,
      duration: 60,
    });
  }

  /** NULL when the request may go on, else the seconds until it may. */
  async consume(sourceId: string): Promise<number | null> {
    try {
      await this.limiter.consume(sourceId);
      return null;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw rejection;
    }
  }
}
