/**
 * One entry point for "give me a database": an operator's PostgreSQL when DATABASE_URL is
 * set, otherwise an embedded cluster whose data lives in DATA_DIR.
 */
import { resolve } from "node:path";
import { startEmbeddedCluster, type EmbeddedCluster } from "./cluster.ts";
import { externalDatabaseConfig, rolesFor, withCredentials, type DatabaseConfig } from "./config.ts";
import { loadOrCreateLocalSecrets } from "./localSecrets.ts";

export const EMBEDDED_DATABASE_NAME = "incidentpulse";

export interface OpenDatabase {
  config: DatabaseConfig;
  /** Set when we started an embedded cluster; stop it last on shutdown. */
  cluster: EmbeddedCluster | null;
}

export interface OpenDatabaseOptions {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** Throw-away cluster (tests): removed when stopped. */
  ephemeral?: boolean;
  databaseName?: string;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenDatabase> {
  const external = externalDatabaseConfig(options.env);
  if (external) return { config: external, cluster: null };

  const secrets = await loadOrCreateLocalSecrets(options.dataDir);
  const cluster = await startEmbeddedCluster({
    dataDir: resolve(options.dataDir, "pg"),
    superuserPassword: secrets.superuserPassword,
    ephemeral: options.ephemeral,
  });
  const name = options.databaseName ?? EMBEDDED_DATABASE_NAME;
  const roles = rolesFor(name);
  const at = { port: cluster.port };
  return {
    cluster,
    config: {
      name,
      roles,
      ownerUrl: withCredentials(at, roles.owner, secrets.ownerPassword, name),
      authenticatorUrl: withCredentials(at, roles.authenticator, secrets.authenticatorPassword, name),
      rootUrl: withCredentials(at, cluster.superuser, cluster.superuserPassword, "postgres"),
      shadowUrl: withCredentials(at, roles.owner, secrets.ownerPassword, `${name}_shadow`),
    },
  };
}
