/**
 * The long-lived objects the installers share, created once at start-up, and the ordered
 * list of things to close on shutdown.
 */
import type { Server } from "node:http";
import type pg from "pg";
import type { DatabaseConfig } from "../../db/src/config.ts";
import type { ApiKeyVerifier } from "./auth/apiKeys.ts";
import type { LoginThrottle } from "./auth/loginThrottle.ts";
import type { TokenService } from "./auth/tokens.ts";
import type { ServerConfig } from "./config.ts";
import type { NotificationListener } from "./database/notificationListener.ts";
import type { SecretBox } from "./integrations/secretBox.ts";
import type { Mailer } from "./mail/mailer.ts";
import type { Logger } from "./observability/logger.ts";
import type { Metrics } from "./observability/metrics.ts";

export interface Services {
  config: ServerConfig;
  database: DatabaseConfig;
  /** Owner role: trusted server code (session checks, throttling), the worker. */
  ownerPool: pg.Pool;
  /** Authenticator role: every GraphQL request, switched to visitor or anonymous. */
  authenticatorPool: pg.Pool;
  tokens: TokenService;
  logger: Logger;
  metrics: Metrics;
  /** The process's LISTEN connection (status cache, live updates). */
  notifications: NotificationListener;
  loginThrottle: LoginThrottle;
  apiKeys: ApiKeyVerifier;
  /** Encrypts and decrypts integration secrets (alert sources, webhook endpoints). */
  secrets: SecretBox;
  /** Outgoing email: SMTP_URL, or .eml files under DATA_DIR/mail. */
  mailer: Mailer;
  httpServer: Server;
  /** Registers an action for shutdown; actions run in reverse order of registration. */
  onShutdown(name: string, action: () => Promise<void> | void): void;
}
