/**
 * Throttles failed sign-ins per email address and per client address, and account creation
 * (register) per client address, with counters in
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
  /** Accounts one client address may create per hour (register). */
  maxRegistrationsPerAddressPerHour?: number;
}

export class LoginThrottle {
  private readonly byEmail: RateLimiterPostgres;
  private readonly byAddress: RateLimiterPostgres;
  private readonly registrationsByAddress: RateLimiterPostgres;

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
    this.registrationsByAddress = new RateLimiterPostgres({
      ...common,
      keyPrefix: "register-address",
      points: options.maxRegistrationsPerAddressPerHour ?? 10,
      duration: 3600,
    });
  }

  /**
   * Counts an account creation from the client address (successful or not: a refused one
   * still probed the database); throws TOO_MANY_ATTEMPTS past the hourly limit.
   */
  async beginRegistration(address: string): Promise<void> {
    try {
      await this.registrationsByAddress.consume(address);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw codedError("TOO_MANY_ATTEMPTS", "Too many accounts created from this address. Try again later.", {
        retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
      });
    }
  }

  private static emailKey(email: string): string {
    return email.trim().toLowerCase().slice(0, 200);
  }

  /**
   * Counts an attempt before the password is checked, so parallel guesses cannot all slip in
   * before the first failure is recorded; a success gives the attempt back. Throws
   * TOO_MANY_ATTEMPTS once either counter is past its limit.
   */
  async beginAttempt(email: string, address: string): Promise<void> {
    const outcomes = await Promise.allSettled([
      this.byEmail.consume(LoginThrottle.emailKey(email)),
      this.byAddress.consume(address),
    ]);
    const blocked = outcomes.filter((outcome) => outcome.status === "rejected");
    if (blocked.length === 0) return;
    const retryAfterSeconds = Math.max(
      1,
      ...blocked.map((outcome) => {
        const reason = (outcome as PromiseRejectedResult).reason;
        if (reason instanceof RateLimiterRes) return Math.ceil(reason.msBeforeNext / 1000);
        throw reason;
      }),
    );
    throw codedError("TOO_MANY_ATTEMPTS", "Too many failed sign-in attempts. Try again later.", {
      retryAfterSeconds,
    });
  }

  /** A correct password clears the email's failures and gives the address its attempt back. */
  async succeeded(email: string, address: string): Promise<void> {
    await Promise.all([this.byEmail.delete(LoginThrottle.emailKey(email)), this.byAddress.reward(address, 1)]);
  }
}
