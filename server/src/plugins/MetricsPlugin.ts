/**
 * Counts GraphQL operations by type and outcome (from the executed document) and the errors
 * clients receive by code (from the answer, after errors were masked and coded).
 */
import { getOperationAST } from "postgraphile/graphql";
import type { Metrics } from "../observability/metrics.ts";

export function makeMetricsPlugin(metrics: Metrics): GraphileConfig.Plugin {
  return {
    name: "MetricsPlugin",
    version: "1.0.0",
    description: "Prometheus counters for GraphQL operations and errors.",
    grafast: {
      middleware: {
        async execute(next, event) {
          const type = getOperationAST(event.args.document, event.args.operationName)?.operation ?? "unknown";
          const result = await next();
          const failed = "errors" in result && Array.isArray(result.errors) && result.errors.length > 0;
          metrics.graphqlOperations.inc({ type, outcome: failed ? "error" : "ok" });
          return result;
        },
      },
    },
    grafserv: {
      middleware: {
        async processRequest(next) {
          const result = await next();
          if (result?.type === "json") {
            const errors = (result.json as { errors?: { extensions?: { code?: unknown } }[] } | null)?.errors;
            for (const error of errors ?? []) {
              const code = error.extensions?.code;
              metrics.graphqlErrors.inc({ code: typeof code === "string" ? code : "UNKNOWN" });
            }
          }
          return result;
        },
      },
    },
  };
}
