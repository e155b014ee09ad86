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
  log?: (message: string) => void;
}

function makePool(url: string, max: number, name: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: `incidentpulse-${name}` });
  // An idle client losing its connection must not crash the process.
  pool.on("error", (error) => console.warn(`[${name} pool] ${error.message}`));
  pool.on("connect", (client) => client.on("error", (error) => console.warn(`[${name} client] ${error.message}`)));
  return pool;
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config } = options;
  const log = options.log ?? ((message: string) => console.log(message));
  const shutdownActions: { name: string; action: () => Promise<void> | void }[] = [];
  const stop = async () => {
    while (shutdownActions.length > 0) {
      const { name, action } = shutdownActions.pop()!;
      try {
        await action();
      } catch (error) {
        console.warn(`[shutdown] ${name}: ${(error as Error).message}`);
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
    });
    if (config.SEED_DEMO_DATA) {
      const demo = await seedDemoDataOnce(database.ownerUrl, config.MULTI_TENANT_ENABLED);
      if (demo) log(`Created the demo organization "${demo.slug}" (SEED_DEMO_DATA=false turns this off).`);
    }

    const localSecrets =
      config.JWT_SECRET && config.SECRETS_ENCRYPTION_KEY ? null : await loadOrCreateLocalSecrets(config.dataDir);
    const jwtSecret = config.JWT_SECRET ?? localSecrets!.jwtSecret;
    const secrets = new SecretBox(config.SECRETS_ENCRYPTION_KEY ?? localSecrets!.secretsEncryptionKey);
    const ownerPool = makePool(database.ownerUrl, 10, "owner");
    shutdownActions.push({ name: "owner pool", action: () => ownerPool.end() });
    const authenticatorPool = makePool(database.authenticatorUrl, config.DATABASE_POOL_SIZE, "api");
    shutdownActions.push({ name: "api pool", action: () => authenticatorPool.end() });

    const mailer = createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, dataDir: config.dataDir, log });
    shutdownActions.push({ name: "mailer", action: () => mailer.close() });
    const notifications = new NotificationListener({ url: database.authenticatorUrl });
    const httpServer = createServer();
    const services: Services = {
      config,
      database,
      ownerPool,
      authenticatorPool,
      tokens: new TokenService(jwtSecret, config.SESSION_DAYS * 24 * 3600, config.JWT_PREVIOUS_SECRETS),
      loginThrottle: new LoginThrottle(ownerPool, {
        maxFailuresPerEmail: config.LOGIN_MAX_FAILURES_PER_EMAIL,
        maxFailuresPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
        windowMinutes: config.LOGIN_THROTTLE_MINUTES,
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

    let url: string | null = null;
    if (options.http !== false) {
      await notifications.start();
      shutdownActions.push({ name: "notification listener", action: () => notifications.stop() });
      const app = await makeApp(createExpressApp(), services);
      httpServer.on("request", app);
      await new Promise<void>((resolveListen, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.PORT, config.HOST, () => resolveListen());
      });
      shutdownActions.push({
        name: "http server",
        action: () =>
          new Promise<void>((resolveClose) => {
            httpServer.close(() => resolveClose());
            httpServer.closeAllConnections();
          }),
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
