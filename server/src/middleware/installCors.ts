/**
 * CORS for the dashboard API (/graphql, /api/*): only the origins listed in CORS_ORIGINS get
 * CORS headers, with credentials; any other origin gets none (so browsers keep the answer
 * from its pages) and its preflights are refused. With no list, only same-origin pages can
 * call the API. The public status files and streams (/status/*, /api/v2/*, /api/status/*)
 * keep their own `Access-Control-Allow-Origin: *` without credentials.
 */
import type { Express, NextFunction, Request, Response } from "express";
import { errorBody } from "../errors.ts";
import type { Services } from "../services.ts";

const PUBLIC_API = /^\/api\/(v2|status)\//;
const ALLOWED_METHODS = "GET, POST, OPTIONS";
const ALLOWED_HEADERS = "Content-Type, Authorization, X-CSRF-Token, Idempotency-Key";

export function installCors(app: Express, services: Services): void {
  const allowed = new Set(services.config.CORS_ORIGINS);
  const cors = (req: Request, res: Response, next: NextFunction) => {
    if (PUBLIC_API.test(req.originalUrl)) return next();
    const origin = req.get("origin");
    res.vary("Origin");
    if (!origin) return next();
    const preflight = req.method === "OPTIONS" && req.get("access-control-request-method") !== undefined;
    if (!allowed.has(origin)) {
      if (preflight) {
        res.status(403).json(errorBody("ORIGIN_NOT_ALLOWED", "This origin may not call the API."));
        return;
      }
      return next();
    }
    res.set({ "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true" });
    if (preflight) {
      res
        .set({
          "Access-Control-Allow-Methods": ALLOWED_METHODS,
          "Access-Control-Allow-Headers": ALLOWED_HEADERS,
          "Access-Control-Max-Age": "600",
        })
        .status(204)
        .end();
      return;
    }
    next();
  };
  app.use("/graphql", cors);
  app.use("/api", cors);
}
