/**
 * A request id on every request (the caller's `X-Request-Id` when it is a sane token, else a
 * new UUID), echoed in the response; one structured log line per request through pino-http
 * with that id, and every line logged while handling it (`req.log`) carries it too. HTTP
 * metrics count each answer by route pattern.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Express, Request } from "express";
import { pinoHttp } from "pino-http";
import { pathOf } from "../observability/logger.ts";
import type { Services } from "../services.ts";

const UNLOGGED_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The matched route pattern (bounded label values), never the raw URL. */
function routeOf(req: Request): string {
  const path = pathOf(req.originalUrl);
  // Routers mounted at /status/:slug have the slug itself in req.baseUrl: anyone could make
  // up new label values, so every status route counts as one.
  if (path.startsWith("/status/")) return "/status/:slug/*";
  if (req.route?.path) return `${req.baseUrl}${String(req.route.path)}`;
  if (path === "/graphql" || path === "/graphiql") return path;
  if (path.startsWith("/assets/")) return "/assets/*";
  return "unmatched";
}

export function installRequestLogging(app: Express, services: Services): void {
  const { logger, metrics } = services;
  app.use(
    pinoHttp({
      logger,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const id = requestIdOf(req);
        res.setHeader("X-Request-Id", id);
        return id;
      },
      // Status streams and dashboards stay open for hours; their line comes when they close.
      customLogLevel: (_req, res, error) => (error ? "error" : res.statusCode >= 500 ? "warn" : "info"),
      // A 5xx answer is not an exception: no invented error object with a stack on its line.
      customErrorObject: (_req, _res, error, value: Record<string, unknown>) =>
        (error as Error | undefined)?.message?.startsWith("failed with status code")
          ? { ...value, err: undefined }
          : value,
      serializers: {
        req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          path: pathOf(req.url),
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // Probes and scrapes come every few seconds and would drown everything else.
      autoLogging: { ignore: (req) => UNLOGGED_PATHS.has(pathOf(req.url)) },
    }),
  );
  app.use((req, res, next) => {
    const started = performance.now();
    res.on("finish", () => {
      const route = routeOf(req);
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ route }, (performance.now() - started) / 1000);
    });
    next();
  });
}
