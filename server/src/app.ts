/**
 * The Express app, built from ordered installers; each owns one concern.
 */
import type { RequestListener } from "node:http";
import express, { type Express } from "express";
import { installAlertHooks } from "./middleware/installAlertHooks.ts";
import { installAttachments } from "./middleware/installAttachments.ts";
import { installAuthentication } from "./middleware/installAuthentication.ts";
import { installBilling } from "./middleware/installBilling.ts";
import { installClient } from "./middleware/installClient.ts";
import { installCors } from "./middleware/installCors.ts";
import { installCookies } from "./middleware/installCookies.ts";
import { installErrorHandler } from "./middleware/installErrorHandler.ts";
import { installHealth } from "./middleware/installHealth.ts";
import { installLiveUpdates } from "./middleware/installLiveUpdates.ts";
import { installMetrics } from "./middleware/installMetrics.ts";
import { installOrganizationExport } from "./middleware/installOrganizationExport.ts";
import { installPostGraphile } from "./middleware/installPostGraphile.ts";
import { installRequestLogging } from "./middleware/installRequestLogging.ts";
import { installSecurityHeaders } from "./middleware/installSecurityHeaders.ts";
import { installStatusPages } from "./middleware/installStatusPages.ts";
import { installSubscriptions } from "./middleware/installSubscriptions.ts";
import type { Services } from "./services.ts";

/** The request listener: the status pages' in-memory fast path first, then the Express app. */
export async function makeApp(app: Express, services: Services): Promise<RequestListener> {
  installRequestLogging(app, services);
  installSecurityHeaders(app, services);
  installCookies(app);
  installCors(app, services);
  installHealth(app, services);
  installMetrics(app, services);
  // Before anything that parses bodies: the webhook's signature covers the raw bytes.
  installBilling(app, services);
  installAlertHooks(app, services);
  installAuthentication(app, services);
  // Public, cacheable, served from memory; before the client's HTML catch-all.
  const statusFastPath = await installStatusPages(app, services);
  installSubscriptions(app, services);
  await installPostGraphile(app, services);
  installAttachments(app, services);
  installLiveUpdates(app, services);
  installOrganizationExport(app, services);
  await installClient(app);
  installErrorHandler(app);
  const { httpRequests } = services.metrics;
  return (req, res) => {
    // Cached status files are answered here, before Express: counted, not logged line by line.
    if (statusFastPath(req, res)) {
      httpRequests.inc({
        method: req.method ?? "GET",
        route: "/status/:slug/* (cached)",
        status: String(res.statusCode),
      });
    } else {
      app(req, res);
    }
  };
}

export const createExpressApp = () => express();
