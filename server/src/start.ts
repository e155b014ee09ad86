/**
 * Starting and stopping the whole product: database (embedded or external), migrations,
 * the worker, and the HTTP server. Tests start it in-process the same way.
 */
import "./preload.ts";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { openDatabase } from "../../db/src/database.ts";
import { seedDemoDataOnce } from "../../db/src/demo.ts";
import { loadOrCreateLocalSecrets } from "../../db/src/localSecrets.ts";
import { prepareDatabase, recordInstanceSettings } from "../../db/src/setup.ts";
import type { DatabaseConfig } from "../../db/src/config.ts";
import { createExpressApp, makeApp } from "./app.ts";
import { ApiKeyVerifier } from "./auth/apiKeys.ts";
import { LoginThrottle } from "./auth/loginThrottle.ts";
import { TokenService } from "./auth/tokens.ts";
import { publicOrigin, type ServerConfig } from "./config.ts";
import type { Services } from "./services.ts";
import { NotificationListener } from "./database/notificationListener.ts";
import { SecretBox } from "./integrations/secretBox.ts";
import { createMailer } from "./mail/mailer.ts";
import { setUnexpectedErrorLogger } from "./errors.ts";
import { createLogger, type Logger } from "./observability/logger.ts";
import { Metrics } from "./observability/metrics.ts";
import { startMetricsServer } from "./middleware/installMetrics.ts";
import { startWorker, workerContext } from "./worker/index.ts";

export interface RunningServer {
  url: string | null;
  services: Services;
  stop(): Promise<void>;
}

export interface StartOptions {
  config: ServerConfig;
  env: NodeJS.ProcessEnv;
  /** Use this database instead of resolving one from the environment (tests). */
  database?: DatabaseConfig;
  /** Serve HTTP (false: worker only). */
  http?: boolean;
  /** Structured logs; by default JSON lines on standard output at LOG_LEVEL. */
  logger?: Logger;
  /** Start-up messages for people; by default info lines of the logger. */
  log?: (message: string) => void;
}

function makePool(url: string, max: number, name: string, logger: Logger): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: `incidentpulse-${name}` });
  // An idle client losing its connection must not crash the process.
  pool.on("error", (error) => logger.warn({ pool: name, err: error }, "idle database connection failed"));
  pool.on("connect", (client) =>
    client.on("error", (error) => logger.warn({ pool: name, err: error }, "database connection failed")),
  );
  return pool;
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const log = options.log ?? ((message: string) => logger.info(message));
  // GraphQL's masked errors (errors.ts) are logged as JSON lines too, with the id the client sees.
  setUnexpectedErrorLogger((errorId, error) => logger.error({ err: error, errorId }, "unexpected GraphQL error"));
  const metrics = new Metrics();
  const shutdownActions: { name: string; action: () => Promise<void> | void }[] = [];
  const stop = async () => {
    while (shutdownActions.length > 0) {
      const { name, action } = shutdownActions.pop()!;
      try {
        await action();
      } catch (error) {
        logger.warn({ err: error }, `shutdown of ${name} failed`);
      }
    }
  };

  try {
    let database = options.database;
    if (!database) {
      const opened = await openDatabase({ env: options.env, dataDir: config.dataDir });
      if (opened.cluster) shutdownActions.push({ name: "embedded postgres", action: () => opened.cluster!.stop() });
      database = opened.config;
      await prepareDatabase(database);
    }
    await recordInstanceSettings(database.ownerUrl, {
      multiTenant: config.MULTI_TENANT_ENABLED,
      billingGraceDays: config.BILLING_GRACE_DAYS,
      organizationDeletionGraceDays: config.ORGANIZATION_DELETION_GRACE_DAYS,
    });
    if (config.SEED_DEMO_DATA) {
      const demo = await seedDemoDataOnce(database.ownerUrl, config.MULTI_TENANT_ENABLED);
      if (demo) log(`Created the demo organization "${demo.slug}" (SEED_DEMO_DATA=false turns this off).`);
    }

    const localSecrets =
      config.JWT_SECRET && config.SECRETS_ENCRYPTION_KEY ? null : await loadOrCreateLocalSecrets(config.dataDir);
    const jwtSecret = config.JWT_SECRET ?? localSecrets!.jwtSecret;
    const secrets = new SecretBox(config.SECRETS_ENCRYPTION_KEY ?? localSecrets!.secretsEncryptionKey);
    const ownerPool = makePool(database.ownerUrl, 10, "owner", logger);
    shutdownActions.push({ name: "owner pool", action: () => ownerPool.end() });
    const authenticatorPool = makePool(database.authenticatorUrl, config.DATABASE_POOL_SIZE, "api", logger);
    shutdownActions.push({ name: "api pool", action: () => authenticatorPool.end() });
    metrics.watchPool("owner", ownerPool);
    metrics.watchPool("api", authenticatorPool);

    const mailer = createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, dataDir: config.dataDir, log });
    shutdownActions.push({ name: "mailer", action: () => mailer.close() });
    const notifications = new NotificationListener({
      url: config.LISTEN_DATABASE_URL ?? database.authenticatorUrl,
      log: (message) => logger.warn({ component: "notifications" }, message),
    });
    const httpServer = createServer();
    const services: Services = {
      config,
      database,
      ownerPool,
      authenticatorPool,
      logger,
      metrics,
      tokens: new TokenService(jwtSecret, config.SESSION_DAYS * 24 * 3600, config.JWT_PREVIOUS_SECRETS),
      loginThrottle: new LoginThrottle(ownerPool, {
        maxFailuresPerEmail: config.LOGIN_MAX_FAILURES_PER_EMAIL,
        maxFailuresPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
        windowMinutes: config.LOGIN_THROTTLE_MINUTES,
        maxRegistrationsPerAddressPerHour: config.ACCOUNTS_PER_ADDRESS_PER_HOUR,
      }),
      apiKeys: new ApiKeyVerifier(ownerPool, config.API_KEY_REQUESTS_PER_MINUTE),
      secrets,
      mailer,
      notifications,
      httpServer,
      onShutdown: (name, action) => shutdownActions.push({ name, action }),
    };

    if (config.WORKER_ENABLED) {
      const worker = await startWorker(ownerPool, workerContext(services));
      shutdownActions.push({ name: "worker", action: () => worker.stop() });
    }

    if (config.METRICS_PORT !== undefined) {
      const metricsServer = await startMetricsServer(metrics, config.METRICS_PORT, config.METRICS_HOST);
      shutdownActions.push({
        name: "metrics server",
        action: () => new Promise<void>((resolveClose) => metricsServer.close(() => resolveClose())),
      });
      const { port } = metricsServer.address() as AddressInfo;
      log(`Metrics at http://${config.METRICS_HOST}:${port}/metrics`);
    }

    let url: string | null = null;
    if (options.http !== false) {
      await notifications.start();
      shutdownActions.push({ name: "notification listener", action: () => notifications.stop() });
      // Shutdown, in order: stop accepting (last registered, so first), end the event streams
      // (registered by the app), then wait for requests in flight, up to SHUTDOWN_DRAIN_MS.
      let listened = false;
      const drained = new Promise<void>((resolveClose) => httpServer.once("close", () => resolveClose()));
      shutdownActions.push({
        name: "requests in flight",
        action: async () => {
          if (!listened) return;
          const deadline = setTimeout(() => httpServer.closeAllConnections(), config.SHUTDOWN_DRAIN_MS);
          await drained;
          clearTimeout(deadline);
        },
      });
      const app = await makeApp(createExpressApp(), services);
      httpServer.on("request", app);
      await new Promise<void>((resolveListen, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.PORT, config.HOST, () => resolveListen());
      });
      listened = true;
      shutdownActions.push({
        name: "new connections",
        action: () => {
          httpServer.close();
          httpServer.closeIdleConnections();
        },
      });
      const { port } = httpServer.address() as AddressInfo;
      url = publicOrigin(config, port);
      log(`IncidentPulse is ready at ${url}`);
    }
    return { url, services, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
