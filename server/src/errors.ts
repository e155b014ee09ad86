/**
 * The one place where errors become what clients see (DESIGN.md §10): our SQLSTATEs
 * (db/ERROR_CODES.md) and the common PostgreSQL ones map to a stable `extensions.code` and an
 * HTTP status; anything else is logged with an id and masked.
 */
import { randomUUID } from "node:crypto";
import { GraphQLError } from "postgraphile/graphql";
import { SafeError } from "postgraphile/grafast";

export interface ErrorKind {
  code: string;
  status: number;
  /** Replaces PostgreSQL's own wording, which may quote values or name internals. */
  message?: string;
}

/** SQLSTATE → client-facing kind. Our own codes keep the message the database raised. */
const BY_SQLSTATE: Record<string, ErrorKind> = {
  IPA01: { code: "UNAUTHENTICATED", status: 401 },
  IPA02: { code: "INVALID_CREDENTIALS", status: 401 },
  IPA04: { code: "WEAK_PASSWORD", status: 422 },
  IPF01: { code: "FORBIDDEN", status: 403 },
  IPF02: { code: "NOT_A_MEMBER", status: 403 },
  IPF03: { code: "CANNOT_CHANGE_OWN_ROLE", status: 403 },
  IPF04: { code: "OWNER_ROLE_REQUIRED", status: 403 },
  IPF05: { code: "API_KEY_NOT_ALLOWED", status: 403 },
  IPC01: { code: "LAST_OWNER", status: 409 },
  IPC02: { code: "ALREADY_MEMBER", status: 409 },
  IPC03: { code: "EMAIL_TAKEN", status: 409 },
  IPN01: { code: "NOT_FOUND", status: 404 },
  IPI01: { code: "INVITATION_NOT_FOUND", status: 404 },
  IPI02: { code: "INVITATION_EXPIRED", status: 410 },
  IPI03: { code: "INVITATION_REVOKED", status: 410 },
  IPI04: { code: "INVITATION_ALREADY_USED", status: 409 },
  IPI05: { code: "INVITATION_EMAIL_MISMATCH", status: 403 },
  IPM01: { code: "MULTI_TENANT_DISABLED", status: 403 },
  IPV01: { code: "VALIDATION_FAILED", status: 422 },
  IPV02: { code: "RESOLUTION_REQUIRED", status: 422 },
  IPV03: { code: "UNKNOWN_SERVICE", status: 422 },
  IPC04: { code: "MAINTENANCE_ENDED", status: 409 },
  IPL01: { code: "PLAN_LIMIT_EXCEEDED", status: 402 },
  IPL02: { code: "BILLING_PAST_DUE", status: 402 },
  IPR01: { code: "RATE_LIMITED", status: 429 },
  IPV10: { code: "INVALID_EMAIL", status: 422 },
  IPV11: { code: "IMPORT_TOO_LARGE", status: 422 },
  IPV13: { code: "CONFIRMATION_MISMATCH", status: 422 },
  IPN04: { code: "SUBSCRIPTION_LINK_INVALID", status: 404 },
  IPC08: { code: "SUBSCRIPTION_LINK_EXPIRED", status: 410 },
  IPN02: { code: "ALERT_SOURCE_NOT_FOUND", status: 404 },
  IPC05: { code: "IDEMPOTENCY_KEY_REUSED", status: 409 },
  IPV04: { code: "INVALID_PAYLOAD", status: 400 },
  IPV07: { code: "INVALID_WEBHOOK_URL", status: 422 },
  IPV08: { code: "UNKNOWN_EVENT_TYPE", status: 422 },
  IPC07: { code: "WEBHOOK_TARGET_DISABLED", status: 409 },
  IPN03: { code: "WEBHOOK_NOT_FOUND", status: 404 },
  "42501": { code: "FORBIDDEN", status: 403, message: "You do not have permission to do this." },
  "23505": { code: "ALREADY_EXISTS", status: 409, message: "A record with these values already exists." },
  "23503": { code: "REFERENCE_NOT_FOUND", status: 422, message: "A referenced record does not exist." },
  "23514": { code: "VALIDATION_FAILED", status: 422, message: "A value is not valid." },
  "23502": { code: "VALIDATION_FAILED", status: 422, message: "A required value is missing." },
  "23P01": { code: "CONFLICT", status: 409, message: "This conflicts with an existing record." },
  "22001": { code: "VALUE_TOO_LONG", status: 422, message: "A value is too long." },
  "22003": { code: "VALIDATION_FAILED", status: 422, message: "A number is out of range." },
  "22007": { code: "INVALID_INPUT", status: 422, message: "A date or time is not valid." },
  "22008": { code: "INVALID_INPUT", status: 422, message: "A date or time is out of range." },
  "22P02": { code: "INVALID_INPUT", status: 422, message: "A value has the wrong format." },
  "22P05": { code: "INVALID_INPUT", status: 422, message: "Text contains a character that cannot be stored." },
  // A NUL character (\u0000) in a text parameter: PostgreSQL text cannot hold it.
  "22021": { code: "INVALID_INPUT", status: 422, message: "Text contains a character that cannot be stored." },
  "22009": { code: "INVALID_INPUT", status: 422, message: "A date or time is out of range." },
  "22023": { code: "INVALID_INPUT", status: 422, message: "A value is not valid." },
  "22004": { code: "VALIDATION_FAILED", status: 422, message: "A required value is missing." },
  "40001": { code: "CONFLICT", status: 409, message: "Concurrent change; please retry." },
  "40P01": { code: "CONFLICT", status: 409, message: "Concurrent change; please retry." },
  "57014": { code: "TIMEOUT", status: 503, message: "The request took too long." },
};

/** Codes raised by the server itself (not the database), with their HTTP status. */
const SERVER_CODES: Record<string, number> = {
  INVALID_TOKEN: 401,
  INVALID_API_KEY: 401,
  RATE_LIMITED: 429,
  INVALID_CREDENTIALS: 401,
  UNAUTHENTICATED: 401,
  CSRF_TOKEN_INVALID: 403,
  TOO_MANY_ATTEMPTS: 429,
  /** Too many concurrent status streams (SSE) from one client address. */
  TOO_MANY_STREAMS: 429,
  GRAPHQL_VALIDATION_FAILED: 400,
  /** An operation nested too deep or with too many aliases (GRAPHQL_MAX_DEPTH, GRAPHQL_MAX_ALIASES). */
  QUERY_TOO_COMPLEX: 400,
  /** `first` or `last` above GRAPHQL_MAX_PAGE_SIZE. */
  PAGE_SIZE_TOO_LARGE: 400,
  /** A cross-origin request from an origin outside CORS_ORIGINS. */
  ORIGIN_NOT_ALLOWED: 403,
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  INTERNAL_SERVER_ERROR: 500,
  /** The database cannot be reached right now; retrying later works. */
  SERVICE_UNAVAILABLE: 503,
  /** Stripe webhook whose signature is missing, wrong or too old. */
  INVALID_SIGNATURE: 400,
  /** Stripe settings missing: the deployment runs without billing. */
  BILLING_NOT_CONFIGURED: 503,
  /** Stripe failed or refused our request; not the user's doing. */
  BILLING_UNAVAILABLE: 502,
};

const STATUS_BY_CODE: Record<string, number> = {
  ...Object.fromEntries(Object.values(BY_SQLSTATE).map((kind) => [kind.code, kind.status])),
  ...SERVER_CODES,
};

export function httpStatusForCode(code: string | undefined): number | undefined {
  return code === undefined ? undefined : STATUS_BY_CODE[code];
}

/** An error a user caused, thrown by server code; its message is shown as is. */
export function codedError(code: keyof typeof SERVER_CODES | string, message: string, extra: object = {}): SafeError {
  return new SafeError(message, { code, ...extra });
}

interface PgErrorLike extends Error {
  code?: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  column?: string;
}

/** The database is away (stopped, restarting, refusing or dropping connections): a retry later works. */
const DATABASE_UNAVAILABLE: ErrorKind & { message: string } = {
  code: "SERVICE_UNAVAILABLE",
  status: 503,
  message: "The service is temporarily unavailable. Please retry shortly.",
};
/** Socket errors of a connection to the database (Node's errno codes). */
const CONNECTION_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "EAI_AGAIN"]);
/**
 * SQLSTATEs of a database that cannot serve: 57P01 admin shutdown, 57P02 crash shutdown, 57P03
 * cannot connect now (starting up, shutting down), 53300 too many connections, 08xxx connection
 * exceptions.
 */
const UNAVAILABLE_SQLSTATE = /^(57P0[123]|53300|08...)$/;
/** node-postgres's own errors for a lost or unobtainable connection, which carry no code. */
const CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed)/;

/** Whether an error means the database cannot be reached right now (503, not the caller's fault). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const candidate = error as PgErrorLike | null | undefined;
  if (!candidate || typeof candidate !== "object") return false;
  const code = candidate.code;
  if (typeof code === "string" && (CONNECTION_ERRNOS.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  return typeof candidate.message === "string" && CONNECTION_LOST.test(candidate.message);
}

export function kindOfDatabaseError(error: unknown): (ErrorKind & { message: string; details?: unknown }) | null {
  if (isDatabaseUnavailable(error)) return DATABASE_UNAVAILABLE;
  const pgError = error as PgErrorLike;
  if (!pgError || typeof pgError.code !== "string") return null;
  const kind = BY_SQLSTATE[pgError.code];
  if (!kind) return null;
  let details: unknown;
  if (pgError.code.startsWith("IP") && pgError.detail) {
    try {
      details = JSON.parse(pgError.detail);
    } catch {
      details = undefined;
    }
  }
  return { ...kind, message: kind.message ?? pgError.message, details };
}

export type ErrorLogger = (errorId: string, error: unknown) => void;

let logUnexpected: ErrorLogger = (errorId, error) => {
  console.error(`[error ${errorId}]`, error);
};

export function setUnexpectedErrorLogger(logger: ErrorLogger): void {
  logUnexpected = logger;
}

/** @dataplan/pg's message when a generated delete (or update) matched no visible row. */
const NOTHING_MATCHED = /^No values were (deleted|updated) in collection/;
/** @dataplan/pg's message when a generated update's patch sets no column. */
const EMPTY_PATCH = /^Attempted to update a record, but no new values were specified/;

/** grafast marks its planning and execution timeouts with a `timeout` symbol in the extensions. */
function isGrafastTimeout(error: SafeError): boolean {
  const extensions = error.extensions as object | undefined;
  if (!extensions) return false;
  return Object.getOwnPropertySymbols(extensions).some((symbol) => symbol.description === "timeout");
}

/** grafserv's maskError: the GraphQL face of the table above. */
export function maskError(error: GraphQLError): GraphQLError {
  const original = error.originalError;
  // Errors grafast raises itself while executing (a null where the schema promises a value)
  // carry no original error: the server broke its own schema, a bug like any other.
  if (!original && error.path && !error.extensions?.code) return unexpected(error, error);
  if (!original || original instanceof GraphQLError) return error;
  const keep = whereItHappened(error);
  if (EMPTY_PATCH.test(original.message)) {
    return new GraphQLError("The patch sets no field.", { ...keep, extensions: { code: "VALIDATION_FAILED" } });
  }
  if (original instanceof SafeError && isGrafastTimeout(original)) {
    return new GraphQLError("The request took too long.", { ...keep, extensions: { code: "TIMEOUT" } });
  }
  if (original instanceof SafeError) {
    // Every answer carries a code: a safe error thrown without one is the caller's input.
    return new GraphQLError(original.message, {
      ...keep,
      extensions: { code: "BAD_REQUEST", ...original.extensions },
    });
  }
  if (NOTHING_MATCHED.test(original.message)) {
    return new GraphQLError("No record you can change matches this id.", {
      ...keep,
      extensions: { code: "NOT_FOUND" },
    });
  }
  const kind = kindOfDatabaseError(original);
  if (kind) {
    const extensions: Record<string, unknown> = { code: kind.code };
    if (kind.details && typeof kind.details === "object") Object.assign(extensions, kind.details);
    const constraint = (original as PgErrorLike).constraint;
    if (constraint) extensions.constraint = constraint;
    return new GraphQLError(kind.message, { ...keep, extensions });
  }
  return unexpected(error, original);
}

/** An error nobody planned for: logged with an id the client can quote, its details masked. */
function unexpected(error: GraphQLError, cause: unknown): GraphQLError {
  const errorId = randomUUID();
  logUnexpected(errorId, cause);
  return new GraphQLError(`An unexpected error occurred (id ${errorId}).`, {
    ...whereItHappened(error),
    extensions: { code: "INTERNAL_SERVER_ERROR", errorId },
  });
}

/** What a masked error keeps of the original: where in the document and the result it arose. */
function whereItHappened(error: GraphQLError) {
  return {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
  };
}

/** The JSON body of an error answered outside GraphQL execution (auth middleware, REST). */
export function errorBody(code: string, message: string, extra: object = {}) {
  return { errors: [{ message, extensions: { code, ...extra } }] };
}

/**
 * A database error a user caused, as a REST answer: the same code, status and details (such
 * as a plan limit's) that GraphQL gives. Null for anything else, which stays unexpected.
 */
export function restAnswerForDatabaseError(
  error: unknown,
): { status: number; body: ReturnType<typeof errorBody> } | null {
  const kind = kindOfDatabaseError(error);
  if (!kind) return null;
  const details = kind.details && typeof kind.details === "object" ? kind.details : {};
  return { status: kind.status, body: errorBody(kind.code, kind.message, details) };
}
