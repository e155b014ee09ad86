/**
 * GET /api/live: the dashboard follows its organization without reloading. A server-sent
 * event per committed change (`event: change`, data `{id, type, subjectId}` for integration
 * events, `{type: "changed", table}` for other changes, `{type: "resync"}` when changes may
 * have been missed) tells the client what to read again through the API; the stream itself carries no content, so what
 * a member may see is still decided by row-level security when the client reads.
 *
 * Access is checked by the database when the stream opens and again every
 * LIVE_ACCESS_RECHECK_MS: a revoked session, key or membership ends the stream.
 */
import type { Express, Request, Response } from "express";
import type { RequestIdentity } from "../auth/session.ts";
import { withRequestTransaction } from "../database/requestTransaction.ts";
import { errorBody } from "../errors.ts";
import { EventStreamSet, startEventStream, writeToEventStream } from "../public/eventStreams.ts";
import type { Services } from "../services.ts";
import { authenticationMiddleware } from "./installAuthentication.ts";

export const ORGANIZATION_EVENTS_CHANNEL = "organization_events";
/** Dashboard tabs one person or key may keep open at once, per process. */
const STREAMS_PER_IDENTITY = 20;

interface Announcement {
  organizationId: string;
  /** The event's id; empty for `changed` and `resync`, which are not events. */
  id: string;
  /** An event type, `changed` (a row of `table` changed) or `resync` (read everything again). */
  type: string;
  subjectId: string;
  table?: string;
}

const organizationOf = (identity: RequestIdentity) =>
  identity.kind === "apiKey" ? identity.organizationId : identity.claims.organizationId;

const identityKey = (identity: RequestIdentity) =>
  identity.kind === "apiKey" ? `key:${identity.apiKeyId}` : `user:${identity.claims.userId}`;

/** Whether the caller is, right now, a member (or a valid key) of the organization it acts in. */
async function mayFollow(services: Services, identity: RequestIdentity): Promise<boolean> {
  return withRequestTransaction(services, identity, async (client) => {
    const { rows } = await client.query<{ role: string | null }>("select app_hidden.current_org_role() as role");
    return rows[0]?.role != null;
  });
}

export function installLiveUpdates(app: Express, services: Services): void {
  const { config, notifications } = services;
  const followers = new Map<string, Set<(announcement: Announcement) => void>>();
  const openPerIdentity = new Map<string, number>();
  const open = new EventStreamSet(config.STATUS_STREAM_HEARTBEAT_MS);

  notifications.subscribe(ORGANIZATION_EVENTS_CHANNEL, (payload) => {
    let announcement: Announcement;
    try {
      announcement = JSON.parse(payload) as Announcement;
    } catch {
      return;
    }
    for (const follower of [...(followers.get(announcement.organizationId) ?? [])]) follower(announcement);
  });
  // Announcements sent while the LISTEN connection was down are lost: every dashboard reads again.
  notifications.onReconnect(() => {
    for (const [organizationId, set] of followers) {
      for (const follower of [...set]) follower({ organizationId, id: "", type: "resync", subjectId: "" });
    }
  });
  services.onShutdown("live update streams", () => {
    open.closeAll();
  });
  services.metrics.countStreams("live", () => open.size);

  app.get("/api/live", authenticationMiddleware(services), async (req: Request, res: Response) => {
    const identity = req.identity;
    if (!identity) return res.status(401).json(errorBody("UNAUTHENTICATED", "You must be signed in."));
    const organizationId = organizationOf(identity);
    if (!organizationId) {
      return res.status(403).json(errorBody("NOT_A_MEMBER", "Choose an organization first."));
    }
    let allowed: boolean;
    try {
      allowed = await mayFollow(services, identity);
    } catch (error) {
      services.logger.warn({ err: error }, "live updates: cannot check access");
      return res
        .status(503)
        .set("Retry-After", "5")
        .json(errorBody("SERVICE_UNAVAILABLE", "Live updates are unavailable; try again shortly."));
    }
    if (!allowed) {
      return res.status(403).json(errorBody("NOT_A_MEMBER", "You are not a member of this organization."));
    }
    const key = identityKey(identity);
    const count = openPerIdentity.get(key) ?? 0;
    if (count >= STREAMS_PER_IDENTITY) {
      return res
        .status(429)
        .set("Retry-After", "30")
        .json(errorBody("TOO_MANY_STREAMS", "Too many open live-update streams."));
    }
    openPerIdentity.set(key, count + 1);
    // After a reconnect the client reads everything again; no replay is needed.
    startEventStream(res, { "Cache-Control": "no-store, no-transform" });
    open.add(res);

    const follower = (announcement: Announcement) => {
      const { id, type, subjectId, table } = announcement;
      const data = JSON.stringify(table ? { id, type, subjectId, table } : { id, type, subjectId });
      writeToEventStream(res, `${id ? `id: ${id}\n` : ""}event: change\ndata: ${data}\n\n`);
    };
    let set = followers.get(organizationId);
    if (!set) followers.set(organizationId, (set = new Set()));
    set.add(follower);

    const recheck = setInterval(() => {
      mayFollow(services, identity)
        .then((allowed) => {
          if (!allowed) res.end();
        })
        .catch(() => undefined);
    }, config.LIVE_ACCESS_RECHECK_MS);
    recheck.unref();

    let cleanedUp = false;
    const cleanUp = () => {
      if (cleanedUp) return;
      cleanedUp = true;
      clearInterval(recheck);
      set.delete(follower);
      if (set.size === 0) followers.delete(organizationId);
      open.delete(res);
      const left = (openPerIdentity.get(key) ?? 1) - 1;
      if (left > 0) openPerIdentity.set(key, left);
      else openPerIdentity.delete(key);
    };
    res.on("close", cleanUp);
  });
}
