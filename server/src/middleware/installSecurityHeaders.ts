import type { Express } from "express";
import helmet from "helmet";
import type { Services } from "../services.ts";

export function installSecurityHeaders(app: Express, services: Services): void {
  app.disable("x-powered-by");
  app.set("trust proxy", services.config.TRUST_PROXY);
  app.use(
    helmet({
      // The dashboard's scripts are same-origin bundles; GraphiQL (development only) needs inline code.
      contentSecurityPolicy: services.config.production
        ? {
            directives: {
              "default-src": ["'self'"],
              "img-src": ["'self'", "data:"],
              "style-src": ["'self'", "'unsafe-inline'"],
            },
          }
        : false,
      crossOriginEmbedderPolicy: false,
    }),
  );
}
