/**
 * The Express app, built from ordered installers; each owns one concern.
 */
import express, { type Express } from "express";
import { installAttachments } from "./middleware/installAttachments.ts";
import { installAuthentication } from "./middleware/installAuthentication.ts";
import { installBilling } from "./middleware/installBilling.ts";
import { installClient } from "./middleware/installClient.ts";
import { installCookies } from "./middleware/installCookies.ts";
import { installErrorHandler } from "./middleware/installErrorHandler.ts";
import { installHealth } from "./middleware/installHealth.ts";
import { installPostGraphile } from "./middleware/installPostGraphile.ts";
import { installSecurityHeaders } from "./middleware/installSecurityHeaders.ts";
import { installStatusPages } from "./middleware/installStatusPages.ts";
import type { Services } from "./services.ts";

export async function makeApp(app: Express, services: Services): Promise<Express> {
  installSecurityHeaders(app, services);
  installCookies(app);
  installHealth(app, services);
  // Before anything that parses bodies: the webhook's signature covers the raw bytes.
  installBilling(app, services);
  installAuthentication(app, services);
  // Public, cacheable, served from memory; before the client's HTML catch-all.
  await installStatusPages(app, services);
  await installPostGraphile(app, services);
  installAttachments(app, services);
  await installClient(app);
  installErrorHandler(app);
  return app;
}

export const createExpressApp = () => express();
