/**
 * The server's settings, read once from the environment and validated, so a typo fails at
 * start-up with a clear message instead of misbehaving later. README.md lists every variable.
 */
import { resolve } from "node:path";
import { z } from "zod";

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off", ""])
  .transform((value) => ["true", "1", "yes", "on"].includes(value));

const environmentSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default("127.0.0.1"),
  DATA_DIR: z.string().default(".data"),
  PUBLIC_URL: z.string().url().optional(),
  /**
   * A direct connection (not through PgBouncer in transaction mode) for LISTEN, which needs a
   * session of its own; defaults to AUTH_DATABASE_URL.
   */
  LISTEN_DATABASE_URL: z.string().optional(),
  /** pino level: fatal, error, warn, info, debug, trace or silent (default: info; warn under NODE_ENV=test). */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  /** Serve Prometheus metrics on this port (all interfaces of METRICS_HOST), apart from the app. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().default("0.0.0.0"),
  /** Or serve them at /metrics on the app's port to requests with `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters").optional(),
  /** Comma-separated secrets that signed tokens still in use, while rotating JWT_SECRET. */
  JWT_PREVIOUS_SECRETS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((secret) => secret.trim())
        .filter(Boolean),
    ),
  /** Encrypts integration secrets (alert sources, webhooks) at rest; required in production. */
  SECRETS_ENCRYPTION_KEY: z.string().min(32, "SECRETS_ENCRYPTION_KEY must be at least 32 characters").optional(),
  /** smtp(s)://user:pass@host:port; without it mail is written to DATA_DIR/mail as .eml files. */
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().default("IncidentPulse <no-reply@incidentpulse.localhost>"),
  MULTI_TENANT_ENABLED: booleanFlag.default(false),
  WORKER_ENABLED: booleanFlag.default(true),
  /** /readyz answers 503 when no worker process beat for this long. */
  WORKER_HEARTBEAT_STALE_SECONDS: z.coerce.number().int().min(5).default(30),
  SEED_DEMO_DATA: booleanFlag.default(true),
  TRUST_PROXY: z.string().default("loopback"),
  SESSION_DAYS: z.coerce.number().int().min(1).max(90).default(14),
  LOGIN_MAX_FAILURES_PER_EMAIL: z.coerce.number().int().min(1).default(10),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(50),
  LOGIN_THROTTLE_MINUTES: z.coerce.number().int().min(1).default(15),
  API_KEY_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Status-page sign-ups per hour from one client address, and to one email address (429 beyond). */
  SUBSCRIPTIONS_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(1).default(20),
  SUBSCRIPTIONS_PER_EMAIL_PER_HOUR: z.coerce.number().int().min(1).default(3),
  /** Requests per minute one alert source accepts (shared by every web process); more answer 429. */
  ALERT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(500).default(20),
  /** On shutdown, how long requests in flight may take before their connections are closed. */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(10_000),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** GraphQL operations: fields nested in fields, aliases (fragments counted per use), and `first`/`last`. */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).default(12),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(30),
  GRAPHQL_MAX_PAGE_SIZE: z.coerce.number().int().min(1).default(100),
  /** grafast's planning budget for one operation (execution is bounded by STATEMENT_TIMEOUT_MS). */
  GRAPHQL_PLANNING_TIMEOUT_MS: z.coerce.number().int().min(1).default(5_000),
  /**
   * Origins (comma-separated, e.g. https://app.example.com) whose browsers may call /graphql and
   * /api/* with credentials; none by default, so only same-origin pages can. Public status files
   * answer every origin, without credentials, regardless.
   */
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((origin) => origin.trim().replace(/\/+$/, ""))
        .filter(Boolean),
    ),
  /** Accounts one client address may create per hour (register); more answer 429. */
  ACCOUNTS_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(1).default(10),
  /** Comment lines on idle status streams (SSE), so proxies keep them open. */
  STATUS_STREAM_HEARTBEAT_MS: z.coerce.number().int().min(10).default(15_000),
  /** Concurrent status streams one client address may hold; more answer 429. */
  STATUS_STREAMS_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  /** How often an open dashboard live stream checks that its session and membership still hold. */
  LIVE_ACCESS_RECHECK_MS: z.coerce.number().int().min(100).default(60_000),
  /** Days between an owner asking to delete the organization and the deletion (cancelable until then). */
  ORGANIZATION_DELETION_GRACE_DAYS: z.coerce.number().int().min(0).max(90).default(7),
  BILLING_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(7),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  STRIPE_PRICE_PRO: z.string().optional(),
  STRIPE_PRICE_ENTERPRISE: z.string().optional(),
  /** Another Stripe API endpoint, e.g. stripe-mock for local development. */
  STRIPE_API_URL: z.string().url().optional(),
  /**
   * Hosts and addresses (names, IPs or CIDRs, comma-separated) that outbound webhooks and chat
   * messages may reach although they are private or loopback: local testing, self-hosted receivers.
   */
  WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  /** How long a webhook or chat receiver may take to answer. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** The first retry delay of a failed delivery; later ones grow from it to about a day in all. */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(0).default(30_000),
});

export type Environment = z.infer<typeof environmentSchema>;

/** Every variable the server reads besides the database URLs (db/src/config.ts); README lists them. */
export const SERVER_VARIABLES = Object.keys(environmentSchema.shape);

export interface ServerConfig extends Omit<Environment, "LOG_LEVEL"> {
  LOG_LEVEL: NonNullable<Environment["LOG_LEVEL"]>;
  dataDir: string;
  production: boolean;
}

export function readServerConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): ServerConfig {
  // An empty variable (`SMTP_URL=` in an env file) means "not set": the default applies.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = environmentSchema.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const config = parsed.data;
  const production = config.NODE_ENV === "production";
  if (production && !config.JWT_SECRET) {
    throw new Error("JWT_SECRET is required when NODE_ENV=production (at least 32 random characters).");
  }
  if (production && !config.SECRETS_ENCRYPTION_KEY) {
    throw new Error("SECRETS_ENCRYPTION_KEY is required when NODE_ENV=production (at least 32 random characters).");
  }
  return {
    ...config,
    WORKER_ENABLED: config.WORKER_ENABLED && !argv.includes("--no-worker"),
    LOG_LEVEL: config.LOG_LEVEL ?? (config.NODE_ENV === "test" ? "warn" : "info"),
    dataDir: resolve(config.DATA_DIR),
    production,
  };
}

/** The origin users reach this server at: PUBLIC_URL, or else the address it listens on. */
export function publicOrigin(config: Pick<ServerConfig, "PUBLIC_URL" | "HOST">, port: number): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, "");
  const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "localhost" : config.HOST;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
