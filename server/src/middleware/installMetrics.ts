/**
 * Prometheus metrics: on a port of their own (METRICS_PORT, for a scraper inside the
 * network), or at /metrics on the app's port behind `Authorization: Bearer METRICS_TOKEN`.
 * Without either they are not served, since they describe the installation.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { Express, Request, Response } from "express";
import { errorBody } from "../errors.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Services } from "../services.ts";

async function answer(metrics: Metrics, res: Response | import("node:http").ServerResponse) {
  const text = await metrics.registry.metrics();
  res.writeHead(200, { "Content-Type": metrics.registry.contentType, "Cache-Control": "no-store" });
  res.end(text);
}

function bearerMatches(req: Request, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(\S+)\s*$/i.exec(req.get("authorization") ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function installMetrics(app: Express, services: Services): void {
  const { config, metrics } = services;
  const token = config.METRICS_TOKEN;
  if (!token) return;
  app.get("/metrics", (req: Request, res: Response, next) => {
    if (!bearerMatches(req, token)) {
      res.setHeader("WWW-Authenticate", "Bearer");
      return res.status(401).json(errorBody("UNAUTHENTICATED", "Send Authorization: Bearer <METRICS_TOKEN>."));
    }
    answer(metrics, res).catch(next);
  });
}

/** The separate metrics listener (also in a worker-only process). */
export async function startMetricsServer(metrics: Metrics, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res
        .writeHead(404, { "Content-Type": "application/json" })
        .end(JSON.stringify(errorBody("NOT_FOUND", "Not found.")));
      return;
    }
    answer(metrics, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
