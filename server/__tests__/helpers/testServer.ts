/**
 * A real server on a free port over a database of its own, and a small GraphQL-over-HTTP
 * client that keeps status, headers and cookies visible to assertions.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../../../db/__tests__/helpers/database.ts";
import { readServerConfig } from "../../src/config.ts";
import { startServer, type RunningServer } from "../../src/start.ts";

export const TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789";
export const TEST_SECRETS_ENCRYPTION_KEY = "test-encryption-key-that-is-long-enough-0123456789";

export interface TestServer {
  url: string;
  db: TestDatabase;
  server: RunningServer;
  stop(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const config = readServerConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: await mkdtemp(join(tmpdir(), "incidentpulse-test-")),
    JWT_SECRET: TEST_JWT_SECRET,
    SECRETS_ENCRYPTION_KEY: TEST_SECRETS_ENCRYPTION_KEY,
    WORKER_ENABLED: "false",
    SEED_DEMO_DATA: "false",
    // Test files create many accounts from 127.0.0.1; production.test.ts tests the limit.
    ACCOUNTS_PER_ADDRESS_PER_HOUR: "100000",
    ...env,
  });
  const server = await startServer({ config, env: {}, database: db.config, log: () => undefined });
  return {
    url: server.url!,
    db,
    server,
    async stop() {
      await server.stop();
      await db.drop();
    },
  };
}

export interface GraphQLResponse<TData = Record<string, any>> {
  status: number;
  headers: Headers;
  data: TData | null | undefined;
  errors: { message: string; path?: string[]; extensions?: Record<string, any> }[] | undefined;
  /** The first error's code, the usual thing to assert. */
  code: string | undefined;
}

export interface RequestOptions {
  token?: string;
  cookie?: string;
  headers?: Record<string, string>;
}

export async function graphql<TData = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<GraphQLResponse<TData>> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    ...options.headers,
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers.cookie = options.cookie;
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: TData | null; errors?: GraphQLResponse["errors"] };
  return {
    status: response.status,
    headers: response.headers,
    data: body.data,
    errors: body.errors,
    code: body.errors?.[0]?.extensions?.code,
  };
}

const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { token csrfToken userId organizationId membershipRole }
}`;
const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) { token csrfToken userId organizationId membershipRole }
}`;

export interface Session {
  token: string;
  userId: string;
  organizationId: string | null;
  membershipRole: string | null;
  email: string;
}

let counter = 0;
export const uniqueEmail = (name: string) =>
  `${name.replace(/[^a-z0-9]+/gi, "-")}-${process.pid}-${++counter}-${Date.now() % 100000}@example.com`;
export const PASSWORD = "correct horse battery";

export async function register(url: string, name: string, extra: Record<string, unknown> = {}): Promise<Session> {
  const email = (extra.email as string | undefined) ?? uniqueEmail(name.toLowerCase());
  const result = await graphql(url, REGISTER, { input: { email, name, password: PASSWORD, ...extra } });
  if (!result.data?.register) throw new Error(`register failed: ${JSON.stringify(result.errors)}`);
  return { ...result.data.register, email };
}

export async function login(url: string, email: string, password = PASSWORD) {
  return graphql(url, LOGIN, { input: { email, password } });
}
