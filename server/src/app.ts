/**
 * The Express app, built from ordered installers; each owns one concern.
 */
import type { RequestListener } from "node:http";
import express, { type Express } from "express";
import { installAttachments } from "./middleware/installAttachments.ts";
import { installAuthentication } from "./middleware/installAuthentication.ts";
import { installBilling } from "./middleware/installBilling.ts";
import { installClient } from "./middleware/installClient.ts";
import { installCookies } from "./middleware/installCookies.ts";
import { installErrorHandler } from "./middleware/installErrorHandler.ts";
import { installHealth } from "./middleware/installHealth.ts";
import { installLiveUpdates } from "./middleware/installLiveUpdates.ts";
import { installPostGraphile } from "./middleware/installPostGraphile.ts";
import { installSecurityHeaders } from "./middleware/installSecurityHeaders.ts";
import { installStatusPages } from "./middleware/installStatusPages.ts";
import type { Services } from "./services.ts";

/** The request listener: the status pages' in-memory fast path first, then the Express app. */
export async function makeApp(app: Express, services: Services): Promise<RequestListener> {
  installSecurityHeaders(app, services);
  installCookies(app);
  installHealth(app, services);
  // Before anything that parses bodies: the webhook's signature covers the raw bytes.
  installBilling(app, services);
  installAuthentication(app, services);
  // Public, cacheable, served from memory; before the client's HTML catch-all.
  const statusFastPath = await installStatusPages(app, services);
  await installPostGraphile(app, services);
  installAttachments(app, services);
  installLiveUpdates(app, services);
  await installClient(app);
  installErrorHandler(app);
  return (req, res) => {
    if (!statusFastPath(req, res)) app(req, res);
  };
}

export const createExpressApp = () => express();
