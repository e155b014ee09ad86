/**
 * `POST /hooks/alerts/<sourceId>`: monitoring tools open, update and resolve incidents.
 *
 * In order: the source is looked up (unknown or disabled: 404), its rate limit applied (429),
 * the body read raw (the signature covers the exact bytes; over 1 MB: 413), the sender
 * authenticated (alerts/hookAuthentication.ts), the body parsed by the source's format (400
 * INVALID_PAYLOAD with details), and the alerts applied as the sender under RLS
 * (alerts/applyAlerts.ts; database refusals keep their code and status, e.g. 402 at a plan
 * limit). Every request to a known source is logged, except those over the rate limit (a
 * flood must not fill the log). Installed before any body parser.
 */
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { applyAlerts } from "../alerts/applyAlerts.ts";
import { parseAlerts } from "../alerts/formats.ts";
import { authenticateHookRequest, type HookAuthentication } from "../alerts/hookAuthentication.ts";
import { findHookSource, type HookSource } from "../alerts/hookSource.ts";
import { InvalidPayloadError } from "../alerts/normalizedAlert.ts";
import { recordAlertRequest, type AlertRequestEntry } from "../alerts/requestLog.ts";
import { HookRateLimit } from "../alerts/sourceRateLimit.ts";
import { errorBody, restAnswerForDatabaseError } from "../errors.ts";
import type { Services } from "../services.ts";

export const ALERT_HOOK_PATH = "/hooks/alerts/:sourceId";
export const MAX_ALERT_BODY_BYTES = 1_000_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Printable ASCII, as senders generate them (UUIDs, hashes, delivery ids). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

interface HookLocals {
  source: HookSource;
}

const sourceOf = (res: Response) => (res.locals as HookLocals).source;
/** Failed authentications (or unknown sources) one client address may cause per minute. */
const FAILED_REQUESTS_PER_MINUTE = 30;
const clientAddress = (req: Request) => req.ip ?? req.socket.remoteAddress ?? "unknown";

export function installAlertHooks(app: Express, services: Services): void {
  const sourceBudget = new HookRateLimit(services.ownerPool, "alert-source", services.config.ALERT_REQUESTS_PER_MINUTE);
  const failuresByAddress = new HookRateLimit(services.ownerPool, "alert-hook-failures", FAILED_REQUESTS_PER_MINUTE);

  type KnownSoFar = Partial<AlertRequestEntry> & Pick<AlertRequestEntry, "accepted" | "code">;

  /** Logs the request with what is known about it so far. */
  const record = (req: Request, res: Response, status: number, entry: KnownSoFar) => {
    const source = sourceOf(res);
    return recordAlertRequest(
      services.ownerPool,
      {
        organizationId: source.organizationId,
        alertSourceId: source.id,
        httpStatus: status,
        alertCount: 0,
        incidentIds: [],
        authenticatedBy: null,
        apiKeyId: null,
        idempotencyKey: req.get("idempotency-key")?.slice(0, 255) ?? null,
        remoteAddress: req.ip ?? null,
        body: Buffer.isBuffer(req.body) ? req.body : null,
        ...entry,
      },
      services.logger,
    );
  };

  const answer = async (req: Request, res: Response, status: number, body: object, entry: KnownSoFar) => {
    await record(req, res, status, entry);
    res.status(status).json(body);
  };

  const refuse = (
    req: Request,
    res: Response,
    status: number,
    code: string,
    message: string,
    extra: object = {},
    auth?: HookAuthentication,
  ) =>
    answer(req, res, status, errorBody(code, message, extra), {
      accepted: false,
      code,
      authenticatedBy: auth?.authenticatedBy ?? null,
      apiKeyId: auth?.apiKeyId ?? null,
    });

  const findSource = async (req: Request, res: Response, next: NextFunction) => {
    const sourceId = String(req.params.sourceId);
    const notFound = async () => {
      // Probing for source ids counts as failing, like a wrong signature.
      await failuresByAddress.consume(clientAddress(req)).catch(() => undefined);
      res.status(404).json(errorBody("ALERT_SOURCE_NOT_FOUND", "No enabled alert source has this id."));
    };
    if (!UUID.test(sourceId)) return notFound();
    try {
      const source = await findHookSource(services.ownerPool, services.secrets, sourceId, services.logger);
      if (!source) return notFound();
      (res.locals as HookLocals).source = source;
      if (!source.enabled) {
        return refuse(req, res, 404, "ALERT_SOURCE_NOT_FOUND", "No enabled alert source has this id.");
      }
      next();
    } catch (error) {
      next(error);
    }
  };

  const tooMany = (res: Response, retryAfterSeconds: number, message: string) => {
    res.setHeader("Retry-After", String(retryAfterSeconds));
    res.status(429).json(errorBody("RATE_LIMITED", message, { retryAfterSeconds }));
  };

  /** An address whose requests keep failing authentication is turned away before its body is read. */
  const limitFailingAddresses = async (req: Request, res: Response, next: NextFunction) => {
    try {
      const retryAfterSeconds = await failuresByAddress.exhausted(clientAddress(req));
      if (retryAfterSeconds === null) return next();
      tooMany(res, retryAfterSeconds, "Too many failed requests from this address.");
    } catch (error) {
      next(error);
    }
  };

  // Any content type: the bytes are authenticated and parsed, not trusted because of a header.
  const readBody = express.raw({ type: () => true, limit: MAX_ALERT_BODY_BYTES });

  const receive = async (req: Request, res: Response, next: NextFunction) => {
    const source = sourceOf(res);
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let auth: HookAuthentication;
    try {
      auth = await authenticateHookRequest(services, source, req, body);
    } catch (error) {
      return next(error);
    }
    if (!auth.ok) {
      try {
        await failuresByAddress.consume(clientAddress(req));
      } catch (error) {
        return next(error);
      }
      if (auth.retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(auth.retryAfterSeconds));
      if (auth.status === 401) res.setHeader("WWW-Authenticate", `Bearer realm="alerts"`);
      const extra = {
        reason: auth.reason,
        ...(auth.retryAfterSeconds ? { retryAfterSeconds: auth.retryAfterSeconds } : {}),
      };
      return refuse(req, res, auth.status, auth.code, auth.message, extra, auth);
    }
    const known = { authenticatedBy: auth.authenticatedBy, apiKeyId: auth.apiKeyId };
    // The source's budget is spent only by requests that proved they come from its sender.
    try {
      const retryAfterSeconds = await sourceBudget.consume(source.id);
      if (retryAfterSeconds !== null) {
        return tooMany(res, retryAfterSeconds, "Too many requests for this alert source.");
      }
    } catch (error) {
      return next(error);
    }

    const idempotencyKey = req.get("idempotency-key") ?? null;
    if (idempotencyKey !== null && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      return refuse(
        req,
        res,
        400,
        "BAD_REQUEST",
        "An Idempotency-Key is 1 to 255 printable ASCII characters.",
        {},
        auth,
      );
    }

    let alerts;
    try {
      alerts = parseAlerts(source.format, body);
    } catch (error) {
      if (!(error instanceof InvalidPayloadError)) return next(error);
      return refuse(
        req,
        res,
        400,
        "INVALID_PAYLOAD",
        error.message,
        { format: source.format, details: error.details },
        auth,
      );
    }

    try {
      const { summary, replayed } = await applyAlerts(services, auth.actor, source, alerts, idempotencyKey, body);
      if (replayed) res.setHeader("Idempotent-Replayed", "true");
      const incidentIds = [...new Set(summary.incidents.flatMap((incident) => (incident.id ? [incident.id] : [])))];
      return answer(req, res, 202, summary, {
        ...known,
        accepted: true,
        code: replayed ? "REPLAYED" : "ACCEPTED",
        alertCount: alerts.length,
        incidentIds,
      });
    } catch (error) {
      const refusal = restAnswerForDatabaseError(error);
      const code = refusal?.body.errors[0]?.extensions.code ?? "INTERNAL_SERVER_ERROR";
      if (!refusal) {
        // A fault of ours (the sender gets a 500 with an error id); still on record.
        await record(req, res, 500, { ...known, accepted: false, code, alertCount: alerts.length });
        return next(error);
      }
      return answer(req, res, refusal.status, refusal.body, {
        ...known,
        accepted: false,
        code,
        alertCount: alerts.length,
      });
    }
  };

  /** The body could not be read (over 1 MB, a broken stream): the sender's doing, logged. */
  const bodyUnreadable = (error: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = (error as { status?: number }).status;
    if (!sourceOf(res) || res.headersSent || !status || status >= 500) return next(error);
    if (status === 413) {
      return void refuse(req, res, 413, "PAYLOAD_TOO_LARGE", "An alert request is at most 1 MB.");
    }
    return void refuse(req, res, 400, "BAD_REQUEST", "The request body could not be read.");
  };

  app.post(ALERT_HOOK_PATH, limitFailingAddresses, findSource, readBody, receive, bodyUnreadable);
}
