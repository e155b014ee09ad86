/**
 * Throttles failed sign-ins per email address and per client address, with counters in
 * PostgreSQL (app_private.rate_limits) so every web process shares them. Counting by the
 * email as typed, whether or not an account has it, keeps the answer the same either way.
 */
import type pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { codedError } from "../errors.ts";

export interface LoginThrottleOptions {
  maxFailuresPerEmail: number;
  maxFailuresPerAddress: number;
  windowMinutes: number;
}

export class LoginThrottle {
  private readonly byEmail: RateLimiterPostgres;
  private readonly byAddress: RateLimiterPostgres;

  constructor(ownerPool: pg.Pool, options: LoginThrottleOptions) {
    const common = {
      storeClient: ownerPool,
      storeType: "pool",
      schemaName: "app_private",
      tableName: "rate_limits",
      tableCreated: true,
      clearExpiredByTimeout: false,
      duration: options.windowMinutes * 60,
    };
    this.byEmail = new RateLimiterPostgres({
      ...common,
      keyPrefix: "login-email",
      points: options.maxFailuresPerEmail,
    });
    this.byAddress = new RateLimiterPostgres({
      ...common,
      keyPrefix: "login-address",
      points: options.maxFailuresPerAddress,
    });
  }

  private static emailKey(email: string): string {
    return email.trim().toLowerCase().slice(0, 200);
  }

  /** Throws TOO_MANY_ATTEMPTS while either counter is exhausted. */
  async assertAllowed(email: string, address: string): Promise<void> {
    const [emailState, addressState] = await Promise.all([
      this.byEmail.get(LoginThrottle.emailKey(email)),
      this.byAddress.get(address),
    ]);
    const blocked = [
      [emailState, this.byEmail.points],
      [addressState, this.byAddress.points],
    ].filter(([state, points]) => state && (state as RateLimiterRes).consumedPoints >= (points as number));
    if (blocked.length > 0) {
      const retryAfterSeconds = Math.max(
        ...blocked.map(([state]) => Math.ceil((state as RateLimiterRes).msBeforeNext / 1000)),
      );
      throw codedError("TOO_MANY_ATTEMPTS", "Too many failed sign-in attempts. Try again later.", {
        retryAfterSeconds,
      });
    }
  }

  async recordFailure(email: string, address: string): Promise<void> {
    // consume() rejects once the limit is passed; the next assertAllowed reports that.
    await Promise.allSettled([this.byEmail.consume(LoginThrottle.emailKey(email)), this.byAddress.consume(address)]);
  }

  async recordSuccess(email: string): Promise<void> {
    await this.byEmail.delete(LoginThrottle.emailKey(email));
  }
}
