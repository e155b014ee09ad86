import type { Express } from "express";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/express/v4";
import { makePreset } from "../graphile.config.ts";
import type { Services } from "../services.ts";

export async function installPostGraphile(app: Express, services: Services): Promise<void> {
  const preset = makePreset(services, services.authenticatorPool);
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  await serv.addTo(app, services.httpServer);
  services.onShutdown("postgraphile", async () => {
    await pgl.release();
    // pgl.release() leaves the services it was given; release them so pools can end.
    await Promise.all((preset.pgServices ?? []).map((service) => service.release?.()));
  });
}
