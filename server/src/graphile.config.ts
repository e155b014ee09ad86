/**
 * The PostGraphile preset: Amber with simplified inflection over app_public, requests run as
 * the authenticator switched to visitor or anonymous by the verified identity.
 */
import "./preload.ts";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import type pg from "pg";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import type { DatabaseRoles } from "../../db/src/config.ts";
import { SessionControl, type RequestIdentity } from "./auth/session.ts";
import { BillingService } from "./billing/billingService.ts";
import { maskError } from "./errors.ts";
import { AlertSourcesPlugin } from "./plugins/AlertSourcesPlugin.ts";
import { ApiKeysPlugin } from "./plugins/ApiKeysPlugin.ts";
import { AuthPlugin } from "./plugins/AuthPlugin.ts";
import { BillingPlugin } from "./plugins/BillingPlugin.ts";
import { HttpStatusPlugin } from "./plugins/HttpStatusPlugin.ts";
import { makeMetricsPlugin } from "./plugins/MetricsPlugin.ts";
import { NoIntrospectionPlugin } from "./plugins/NoIntrospectionPlugin.ts";
import { NothingUpdatedPlugin } from "./plugins/NothingUpdatedPlugin.ts";
import { makeQueryLimitsPlugin } from "./plugins/QueryLimitsPlugin.ts";
import { TenantKeyPlugin } from "./plugins/TenantKeyPlugin.ts";
import { WebhooksPlugin } from "./plugins/WebhooksPlugin.ts";
import type { SecretBox } from "./integrations/secretBox.ts";
import type { Services } from "./services.ts";

declare global {
  namespace Grafast {
    interface Context {
      /** Seals integration secrets (alert sources, webhooks) that mutations create. */
      secrets: SecretBox;
    }
  }
}

/** Exactly the settings of DESIGN.md §4, transaction-local; nothing else from the token. */
export function pgSettingsFor(
  identity: RequestIdentity | null | undefined,
  roles: DatabaseRoles,
  statementTimeoutMs: number,
) {
  const settings: Record<string, string> = {
    role: identity ? roles.visitor : roles.anonymous,
    statement_timeout: String(statementTimeoutMs),
  };
  if (identity?.kind === "session") {
    const { claims } = identity;
    settings["jwt.claims.user_id"] = claims.userId;
    settings["jwt.claims.session_id"] = claims.sessionId;
    if (claims.organizationId) settings["jwt.claims.org_id"] = claims.organizationId;
    if (claims.membershipRole) settings["jwt.claims.membership_role"] = claims.membershipRole;
  } else if (identity?.kind === "apiKey") {
    settings["jwt.claims.api_key_id"] = identity.apiKeyId;
    settings["jwt.claims.org_id"] = identity.organizationId;
    settings["jwt.claims.membership_role"] = identity.role;
  }
  return settings;
}

export function makePreset(services: Services, pool: pg.Pool): GraphileConfig.Preset {
  const { config, database } = services;
  // One per server: it holds the Stripe client, created on first use.
  const billing = new BillingService(config, services.ownerPool, services.logger);
  return {
    extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
    plugins: [
      TenantKeyPlugin,
      AuthPlugin,
      ApiKeysPlugin,
      AlertSourcesPlugin,
      BillingPlugin,
      WebhooksPlugin,
      // Before HttpStatusPlugin, so it sees the answer after that plugin coded its errors.
      makeMetricsPlugin(services.metrics),
      HttpStatusPlugin,
      NothingUpdatedPlugin,
      makeQueryLimitsPlugin({
        maxDepth: config.GRAPHQL_MAX_DEPTH,
        maxAliases: config.GRAPHQL_MAX_ALIASES,
        maxPageSize: config.GRAPHQL_MAX_PAGE_SIZE,
      }),
      ...(config.production ? [NoIntrospectionPlugin] : []),
    ],
    pgServices: [makePgService({ pool, schemas: ["app_public"] })],
    grafast: {
      // Execution is checked before each asynchronous step; SQL itself is cut by statement_timeout.
      timeouts: { planning: config.GRAPHQL_PLANNING_TIMEOUT_MS, execution: config.STATEMENT_TIMEOUT_MS },
      context(requestContext) {
        const http = requestContext.expressv4;
        const identity = http?.req.identity ?? null;
        return {
          pgSettings: pgSettingsFor(identity, database.roles, config.STATEMENT_TIMEOUT_MS),
          session: new SessionControl(services, http?.req, http?.res),
          secrets: services.secrets,
          billing: {
            service: billing,
            baseUrl: billing.baseUrl(http ? `${http.req.protocol}://${http.req.get("host")}` : undefined),
          },
        };
      },
    },
    grafserv: {
      graphqlPath: "/graphql",
      graphiql: !config.production,
      // grafserv's default is "/", which would hide the web client in development.
      graphiqlPath: "/graphiql",
      graphiqlOnGraphQLGET: !config.production,
      maxRequestLength: 1_000_000,
      maskError,
    },
    schema: {
      // Comments in the database become the API's documentation.
      pgForbidSetofFunctionsToReturnNull: true,
    },
  };
}
