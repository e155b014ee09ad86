import type { Express } from "express";
import cookieParser from "cookie-parser";

export function installCookies(app: Express): void {
  app.use(cookieParser());
}
