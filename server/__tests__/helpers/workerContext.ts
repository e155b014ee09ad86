/** A worker context for tests that run tasks directly (graphile-worker's runOnce). */
import { readServerConfig } from "../../src/config.ts";
import { createMailer } from "../../src/mail/mailer.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { Metrics } from "../../src/observability/metrics.ts";
import { SecretBox } from "../../src/integrations/secretBox.ts";
import type { WorkerContext } from "../../src/worker/index.ts";
import { TEST_JWT_SECRET, TEST_SECRETS_ENCRYPTION_KEY } from "./testServer.ts";

export function testWorkerContext(env: Record<string, string> = {}): WorkerContext {
  const config = readServerConfig({
    NODE_ENV: "test",
    JWT_SECRET: TEST_JWT_SECRET,
    SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
    PUBLIC_URL: "http://status.test",
    ...env,
  });
  return {
    config,
    secrets: new SecretBox(TEST_SECRETS_ENCRYPTION_KEY),
    mailer: createMailer({
      smtpUrl: config.SMTP_URL,
      from: config.MAIL_FROM,
      dataDir: config.dataDir,
      log: () => undefined,
    }),
    logger: createLogger({ level: "silent" }),
    metrics: new Metrics(),
    publicUrl: () => config.PUBLIC_URL!,
  };
}
