/**
 * Limits status-page sign-ups per client address and per email address, with counters in
 * PostgreSQL (app_private.rate_limits) so every web process shares them. The per-email limit
 * keeps the form from being used to flood someone's inbox with confirmation emails.
 */
import type pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";

export interface SignUpThrottleOptions {
  perAddressPerHour: number;
  perEmailPerHour: number;
}

export class SignUpThrottle {
  private readonly byAddress: RateLimiterPostgres;
  private readonly byEmail: RateLimiterPostgres;

  constructor(ownerPool: pg.Pool, options: SignUpThrottleOptions) {
    const common = {
      storeClient: ownerPool,
      storeType: "pool",
      schemaName: "app_private",
      tableName: "rate_limits",
      tableCreated: true,
      clearExpiredByTimeout: false,
      duration: 60 * 60,
    };
    this.byAddress = new RateLimiterPostgres({
      ...common,
      keyPrefix: "subscribe-address",
      points: options.perAddressPerHour,
    });
    this.byEmail = new RateLimiterPostgres({
      ...common,
      keyPrefix: "subscribe-email",
      points: options.perEmailPerHour,
    });
  }

  /** Counts a sign-up; resolves to the seconds to wait when either limit is reached, else null. */
  async consume(address: string, email: string): Promise<number | null> {
    const outcomes = await Promise.allSettled([
      this.byAddress.consume(address),
      this.byEmail.consume(email.trim().toLowerCase()),
    ]);
    const waits = outcomes
      .filter((outcome) => outcome.status === "rejected")
      .map((outcome) => {
        const reason = (outcome as PromiseRejectedResult).reason;
        if (reason instanceof RateLimiterRes) return Math.ceil(reason.msBeforeNext / 1000);
        throw reason;
      });
    return waits.length === 0 ? null : Math.max(1, ...waits);
  }
}
