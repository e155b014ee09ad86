/**
 * Serves the built dashboard and status page (client/dist), with the HTML entry for every
 * client route. The bundle is built on the first start if it is missing.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import express, { type Express } from "express";
import { PROJECT_ROOT } from "../../../db/src/setup.ts";

export const CLIENT_DIST = resolve(PROJECT_ROOT, "client/dist");

export async function ensureClientBuilt(): Promise<void> {
  if (existsSync(resolve(CLIENT_DIST, "index.html"))) return;
  const { build } = await import("vite");
  await build({ configFile: resolve(PROJECT_ROOT, "client/vite.config.ts"), logLevel: "warn" });
}

export async function installClient(app: Express): Promise<void> {
  await ensureClientBuilt();
  app.use("/assets", express.static(resolve(CLIENT_DIST, "assets"), { immutable: true, maxAge: "1y", index: false }));
  app.use(express.static(CLIENT_DIST, { index: false, maxAge: 0 }));
  app.get(/^\/(?!graphql|api\/|assets\/).*/, (req, res, next) => {
    if (!req.accepts("html")) return next();
    res.sendFile(resolve(CLIENT_DIST, "index.html"));
  });
}
