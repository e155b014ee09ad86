/**
 * Every error the API can give, normalised to one shape: GraphQL errors (urql's CombinedError),
 * REST answers (`{errors: [{message, extensions: {code}}]}`, the same body the server uses
 * everywhere) and failures to reach the server at all. Components show these; nothing else
 * needs to know where an error came from.
 */
import type { CombinedError } from "urql";

export interface CodedError {
  code: string;
  message: string;
  /** The error's extensions, e.g. a plan limit's {resource, limit, current, plan}. */
  extensions: Record<string, unknown>;
}

export interface PlanLimitDetails {
  resource: string;
  limit: number;
  current: number;
  plan: string;
}

export const PLAN_LIMIT_EXCEEDED = "PLAN_LIMIT_EXCEEDED";
export const NETWORK_ERROR = "NETWORK_ERROR";

/** What the user can do about a code, added under the server's own message. */
const ADVICE: Record<string, string> = {
  UNAUTHENTICATED: "Sign in again to continue.",
  INVALID_TOKEN: "Your session has ended. Sign in again.",
  FORBIDDEN: "Your role in this organization does not allow this.",
  OWNER_ROLE_REQUIRED: "Only an owner can do this.",
  API_KEY_NOT_ALLOWED: "This needs a signed-in person, not an API key.",
  CSRF_TOKEN_INVALID: "Reload the page and try again.",
  TOO_MANY_ATTEMPTS: "Wait a few minutes before trying again.",
  RATE_LIMITED: "Wait a moment before trying again.",
  INVALID_EMAIL: "Check the address and try again.",
  BILLING_PAST_DUE: "Update the payment method in Billing to continue.",
  BILLING_NOT_CONFIGURED: "Billing is not set up on this server.",
  NETWORK_ERROR: "Check your connection and try again.",
  INTERNAL_SERVER_ERROR: "Something went wrong on our side. Try again later.",
};

export function adviceFor(code: string): string | undefined {
  return ADVICE[code];
}

export function fromCombinedError(error: CombinedError): CodedError[] {
  if (error.graphQLErrors.length > 0) {
    return error.graphQLErrors.map((graphQLError) => {
      const extensions = (graphQLError.extensions ?? {}) as Record<string, unknown>;
      return {
        code: typeof extensions.code === "string" ? extensions.code : "ERROR",
        message: graphQLError.message,
        extensions,
      };
    });
  }
  return [{ code: NETWORK_ERROR, message: "The server could not be reached.", extensions: {} }];
}

/** The coded errors of a REST answer's body (or a generic one for a body without them). */
export function fromRestBody(status: number, body: unknown): CodedError[] {
  const errors = (body as { errors?: { message?: string; extensions?: Record<string, unknown> }[] } | null)?.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    return errors.map((error) => ({
      code: typeof error.extensions?.code === "string" ? error.extensions.code : `HTTP_${status}`,
      message: error.message ?? "The request failed.",
      extensions: error.extensions ?? {},
    }));
  }
  return [{ code: `HTTP_${status}`, message: `The request failed (HTTP ${status}).`, extensions: {} }];
}

export function planLimitDetails(error: CodedError): PlanLimitDetails | null {
  if (error.code !== PLAN_LIMIT_EXCEEDED) return null;
  const { resource, limit, current, plan } = error.extensions;
  if (typeof resource !== "string" || typeof limit !== "number" || typeof plan !== "string") return null;
  return { resource, limit, current: typeof current === "number" ? current : limit, plan };
}

/** Anything a component may be handed as an error. */
export type ErrorSource = CombinedError | CodedError | CodedError[] | null | undefined;

export function toCodedErrors(source: ErrorSource): CodedError[] {
  if (!source) return [];
  if (Array.isArray(source)) return source;
  if ("graphQLErrors" in source) return fromCombinedError(source);
  return [source];
}
