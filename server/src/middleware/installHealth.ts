import type { Express } from "express";
import type { Services } from "../services.ts";

/** Liveness (the process answers) and readiness (the database answers). */
export function installHealth(app: Express, services: Services): void {
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    try {
      await services.authenticatorPool.query("select 1");
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "unavailable" });
    }
  });
}
