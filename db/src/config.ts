/**
 * Where the database is and which roles use it. Role names derive from the database name:
 * `<db>_owner`, `<db>_authenticator`, `<db>_visitor`, `<db>_anonymous` (DESIGN.md §3).
 */
export interface DatabaseRoles {
  owner: string;
  authenticator: string;
  visitor: string;
  anonymous: string;
}

export interface DatabaseConfig {
  name: string;
  roles: DatabaseRoles;
  /** The owner: migrations, the worker and trusted server code. */
  ownerUrl: string;
  /** The API's pool: owns nothing, switches to visitor or anonymous per transaction. */
  authenticatorUrl: string;
  /** A superuser, to create roles and databases. Absent when an operator did that already. */
  rootUrl?: string;
  /** graphile-migrate's shadow database, for `commit` during development. */
  shadowUrl?: string;
}

export function rolesFor(databaseName: string): DatabaseRoles {
  return {
    owner: `${databaseName}_owner`,
    authenticator: `${databaseName}_authenticator`,
    visitor: `${databaseName}_visitor`,
    anonymous: `${databaseName}_anonymous`,
  };
}

export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) {
    throw new Error(`Database name "${name}" must be lower-case letters, digits and underscores.`);
  }
  return name;
}

export function withCredentials(
  base: { port: number; host?: string },
  user: string,
  password: string,
  database: string,
): string {
  const url = new URL("postgres://placeholder");
  url.hostname = base.host ?? "127.0.0.1";
  url.port = String(base.port);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  url.pathname = `/${database}`;
  return url.toString();
}

/** DATABASE_URL (+ AUTH_DATABASE_URL, ROOT_DATABASE_URL, SHADOW_DATABASE_URL) from the environment. */
export function externalDatabaseConfig(env: NodeJS.ProcessEnv): DatabaseConfig | null {
  const ownerUrl = env.DATABASE_URL;
  if (!ownerUrl) return null;
  const authenticatorUrl = env.AUTH_DATABASE_URL;
  if (!authenticatorUrl) {
    throw new Error("AUTH_DATABASE_URL is required with DATABASE_URL (the API's authenticator role).");
  }
  const name = databaseNameOf(ownerUrl);
  return {
    name,
    roles: rolesFor(name),
    ownerUrl,
    authenticatorUrl,
    rootUrl: env.ROOT_DATABASE_URL || undefined,
    shadowUrl: env.SHADOW_DATABASE_URL || undefined,
  };
}
