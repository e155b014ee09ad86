/**
 * GraphQL answers HTTP 200 even when execution failed; clients and proxies deserve the real
 * status. The first error whose code has a status (errors.ts) decides it. Requests that
 * failed validation get 400 and a code.
 */
import { httpStatusForCode } from "../errors.ts";

interface JsonError {
  message: string;
  extensions?: Record<string, unknown>;
}

/** Errors before execution: grafserv's own (unreadable or oversized bodies) carry a status. */
function codeForRequestError(error: JsonError): string {
  const status = error.extensions?.statusCode;
  if (status === 413) return "PAYLOAD_TOO_LARGE";
  if (typeof status === "number") return "BAD_REQUEST";
  return "GRAPHQL_VALIDATION_FAILED";
}

export const HttpStatusPlugin: GraphileConfig.Plugin = {
  name: "HttpStatusPlugin",
  version: "1.0.0",
  description: "Sets the HTTP status of GraphQL responses from their errors' codes.",
  grafserv: {
    middleware: {
      async processRequest(next, event) {
        event.requestDigest.preferJSON = true;
        const result = await next();
        if (result?.type !== "json") return result;
        const body = result.json as { data?: unknown; errors?: JsonError[] } | null;
        const errors = body?.errors;
        if (!errors?.length) return result;
        for (const error of errors) {
          if (!error.extensions?.code && body?.data === undefined) {
            error.extensions = { ...error.extensions, code: codeForRequestError(error) };
          }
        }
        const status = errors
          .map((error) => httpStatusForCode(error.extensions?.code as string | undefined))
          .find((candidate) => candidate !== undefined);
        if (status !== undefined) result.statusCode = status;
        // Throttled and unavailable answers say when to come back, as REST ones do.
        const retryAfter = errors
          .map((error) => error.extensions?.retryAfterSeconds)
          .find((s) => typeof s === "number");
        if (retryAfter !== undefined) result.headers = { ...result.headers, "retry-after": String(retryAfter) };
        else if (status === 503) result.headers = { ...result.headers, "retry-after": "5" };
        return result;
      },
    },
  },
};
