/**
 * Request budgets of the alert hook, counted in PostgreSQL (app_private.rate_limits, like the
 * sign-in throttle) so every web process shares them:
 * - per alert source, spent only by authenticated requests, so a misconfigured or looping
 *   sender is held back before its requests reach the incident tables or the request log,
 *   and a stranger who knows a source's id cannot spend its budget;
 * - per client address, spent by failed authentications, so guessing is slow and a flood of
 *   forged requests is turned away before its bodies are read.
 */
import type pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";

export class HookRateLimit {
  private readonly limiter: RateLimiterPostgres;

  constructor(
    ownerPool: pg.Pool,
    keyPrefix: string,
    private readonly perMinute: number,
  ) {
    this.limiter = new RateLimiterPostgres({
      storeClient: ownerPool,
      storeType: "pool",
      schemaName: "app_private",
      tableName: "rate_limits",
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix,
      points: perMinute,
      duration: 60,
    });
  }

  /** Spends one request: NULL when it may go on, else the seconds until one may. */
  async consume(key: string): Promise<number | null> {
    try {
      await this.limiter.consume(key);
      return null;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return secondsUntil(rejection);
      throw rejection;
    }
  }

  /** Without spending: NULL while budget is left, else the seconds until there is some. */
  async exhausted(key: string): Promise<number | null> {
    const state = await this.limiter.get(key);
    return state && state.consumedPoints >= this.perMinute ? secondsUntil(state) : null;
  }
}

const secondsUntil = (state: RateLimiterRes) => Math.max(1, Math.ceil(state.msBeforeNext / 1000));
