/**
 * The public read path of status pages (DESIGN.md §8), served from the StatusCache:
 *
 * - `/status/:slug/api/v2/*.json` (Statuspage v2), `history.rss`, `history.atom`, `badge.svg`;
 *   in single-tenant mode also at the root for the default organization (`/api/v2/summary.json`).
 * - `/status/:slug/events` and `/api/status/stream?orgSlug=…|orgId=…`: server-sent events, one
 *   per snapshot version, with heartbeats and a cap of concurrent streams per client address.
 *
 * Every answer is public and cacheable: `Access-Control-Allow-Origin: *` without credentials,
 * a strong ETag (304 on a match), a few seconds of max-age with stale-while-revalidate. An
 * unknown, unpublished or suspended page is a 404 that says nothing more.
 */
import express, { type Express, type Request, type Response, type Router } from "express";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { publicOrigin } from "../config.ts";
import { errorBody } from "../errors.ts";
import { renderBadge } from "../public/badge.ts";
import { renderAtom, renderRss } from "../public/feeds.ts";
import {
  STATUS_JSON_FILES,
  StatusCache,
  type CachedSnapshot,
  type StatusRepresentationName,
} from "../public/statusCache.ts";
import type { Services } from "../services.ts";

const DEFAULT_SLUG = "default";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A client that stops reading is cut off rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1 << 20;

const PUBLIC_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": "ETag",
  // Badges are embedded by other sites (<img>): helmet's same-origin default would block them.
  "Cross-Origin-Resource-Policy": "cross-origin",
};
const CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30";
const EXTRA_HEADERS: Partial<Record<StatusRepresentationName, Record<string, string>>> = {
  "badge.svg": { "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'" },
};

type Resolve = (req: Request) => Promise<CachedSnapshot | null>;

/** The same few bytes for every page that is not public: nothing to tell them apart. */
const NOT_FOUND_BODY = Buffer.from(JSON.stringify(errorBody("NOT_FOUND", "No such status page.")));

function notFound(res: Response): void {
  // Written directly: res.json would add an ETag, and a 404 has nothing to revalidate.
  res.writeHead(404, {
    ...PUBLIC_HEADERS,
    "Cache-Control": "public, max-age=5",
    "Content-Type": "application/json; charset=utf-8",
  });
  res.end(NOT_FOUND_BODY);
}

/** If-None-Match uses the weak comparison: a list, `W/` prefixes and `*` all count. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || (tag.startsWith("W/") ? tag.slice(2) : tag) === etag;
  });
}

function preflight(_req: Request, res: Response): void {
  res
    .status(204)
    .set(PUBLIC_HEADERS)
    .set({
      "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
      "Access-Control-Allow-Headers": "If-None-Match, Last-Event-ID, Cache-Control",
      "Access-Control-Max-Age": "86400",
    })
    .end();
}

/** Serves one pre-serialised representation: no query, no serialisation. */
function serve(name: StatusRepresentationName, resolve: Resolve) {
  return async (req: Request, res: Response) => {
    const snapshot = await resolve(req);
    const representation = snapshot?.representations.get(name);
    if (!representation) return notFound(res);
    res.set(PUBLIC_HEADERS);
    res.setHeader("Cache-Control", CACHE_CONTROL);
    res.setHeader("ETag", representation.etag);
    if (matches(req.get("if-none-match"), representation.etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader("Content-Type", representation.contentType);
    const extra = EXTRA_HEADERS[name];
    if (extra) res.set(extra);
    res.status(200).end(representation.body);
  };
}

/**
 * Open SSE streams: counted per client address, ended on shutdown. Each hears its
 * organization's versions from the cache and drops any it already has.
 */
export const SHUTDOWN_RETRY_HINT = "retry: 5000\n\n";

class StatusStreams {
  private readonly perAddress = new Map<string, number>();
  private readonly open = new Set<Response>();

  constructor(
    private readonly cache: StatusCache,
    private readonly heartbeatMs: number,
    private readonly maxPerAddress: number,
  ) {}

  handler(resolve: Resolve) {
    return async (req: Request, res: Response) => {
      const snapshot = await resolve(req);
      if (!snapshot) return notFound(res);
      const address = req.ip ?? req.socket.remoteAddress ?? "unknown";
      const count = this.perAddress.get(address) ?? 0;
      if (count >= this.maxPerAddress) {
        res
          .status(429)
          .set(PUBLIC_HEADERS)
          .set("Retry-After", "30")
          .json(errorBody("TOO_MANY_STREAMS", "Too many open status streams from this address."));
        return;
      }
      res.writeHead(200, {
        ...PUBLIC_HEADERS,
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      });
      if (req.method === "HEAD") return void res.end();
      this.perAddress.set(address, count + 1);
      this.open.add(res);
      req.socket.setNoDelay(true);
      req.socket.setKeepAlive(true);

      const write = (chunk: Buffer | string) => {
        if (res.writableEnded || res.destroyed) return;
        if (res.writableLength > MAX_BUFFERED_BYTES) return void res.destroy();
        res.write(chunk);
      };
      // EventSource sends the last id it saw: the current version goes out at once unless the
      // client has it (one it never saw from us, e.g. after a reset, is corrected too).
      const lastEventId = Number.parseInt(req.get("last-event-id") ?? "", 10);
      let sentVersion = Number.isSafeInteger(lastEventId) ? lastEventId : -1;
      const send = (current: CachedSnapshot) => {
        if (current.version <= sentVersion) return;
        sentVersion = current.version;
        write(current.event);
      };

      const unsubscribe = this.cache.subscribe(snapshot.organizationId, (event) => {
        if (event.type === "snapshot") send(event.snapshot);
        else res.end();
      });
      const heartbeat = setInterval(() => write(": heartbeat\n\n"), this.heartbeatMs);
      heartbeat.unref();
      let cleanedUp = false;
      const cleanUp = () => {
        if (cleanedUp) return;
        cleanedUp = true;
        clearInterval(heartbeat);
        unsubscribe();
        this.open.delete(res);
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left > 0) this.perAddress.set(address, left);
        else this.perAddress.delete(address);
      };
      res.on("close", cleanUp);
      req.on("close", cleanUp);

      write("retry: 3000\n\n");
      const current = this.cache.current(snapshot.organizationId) ?? snapshot;
      if (current.version !== sentVersion) {
        sentVersion = current.version;
        write(current.event);
      }
    };
  }

  /** On shutdown: clients are told to come back in a few seconds (to another replica, or this one restarted). */
  closeAll(): void {
    for (const res of this.open) res.end(SHUTDOWN_RETRY_HINT);
  }

  /** Open streams (tests). */
  get size(): number {
    return this.open.size;
  }
}

/** The public files of one page, relative to where the router is mounted. */
function pageRouter(resolve: Resolve, streams: StatusStreams | null): Router {
  const router = express.Router({ mergeParams: true });
  const route = (path: string, name: StatusRepresentationName) => {
    router.options(path, preflight);
    router.get(path, serve(name, resolve));
  };
  for (const file of STATUS_JSON_FILES) route(`/api/v2/${file}`, file);
  route("/history.rss", "history.rss");
  route("/history.atom", "history.atom");
  route("/badge.svg", "badge.svg");
  if (streams) {
    router.options("/events", preflight);
    router.get("/events", streams.handler(resolve));
  }
  return router;
}

/** Answers a request without Express, or says it did not (false). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

const FAST_FILE = /^\/status\/([a-z0-9-]{1,48})\/(api\/v2\/[a-z/-]+\.json|history\.rss|history\.atom|badge\.svg)$/i;
const FAST_NAMES = new Set<string>([
  ...STATUS_JSON_FILES.map((file) => `api/v2/${file}`),
  "history.rss",
  "history.atom",
  "badge.svg",
]);

/**
 * The hot path: a GET for a file of a page already in memory is answered straight from the
 * request listener with the pre-serialised bytes and precomputed headers, without Express's
 * routing and middleware (which would cost more than the answer itself). Anything else, a
 * page not loaded yet included, goes on to Express, which loads it and answers the same.
 */
function fastPath(cache: StatusCache): FastPath {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const url = req.url ?? "";
    const queryAt = url.indexOf("?");
    const match = FAST_FILE.exec(queryAt === -1 ? url : url.slice(0, queryAt));
    if (!match || !FAST_NAMES.has(match[2]!)) return false;
    const snapshot = cache.peek(match[1]!);
    const name = (match[2]!.startsWith("api/v2/") ? match[2]!.slice(7) : match[2]!) as StatusRepresentationName;
    const representation = snapshot?.representations.get(name);
    if (!representation) return false;
    const headers: Record<string, string> = {
      ...PUBLIC_HEADERS,
      "Cache-Control": CACHE_CONTROL,
      ETag: representation.etag,
      "X-Content-Type-Options": "nosniff",
    };
    if (matches(req.headers["if-none-match"], representation.etag)) {
      res.writeHead(304, headers).end();
      return true;
    }
    res.writeHead(200, {
      ...headers,
      ...EXTRA_HEADERS[name],
      "Content-Type": representation.contentType,
      "Content-Length": String(representation.body.length),
    });
    res.end(req.method === "HEAD" ? undefined : representation.body);
    return true;
  };
}

export async function installStatusPages(app: Express, services: Services): Promise<FastPath> {
  const { config, database, httpServer } = services;
  const cache = new StatusCache({
    notifications: services.notifications,
    pool: services.authenticatorPool,
    anonymousRole: database.roles.anonymous,
    statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
    // Pages are only served once the server listens, so its port is known by then.
    origin: () => publicOrigin(config, (httpServer.address() as AddressInfo | null)?.port ?? config.PORT),
    renderers: { rss: renderRss, atom: renderAtom, badge: renderBadge },
    log: (message) => services.logger.warn({ component: "status cache" }, message),
  });
  cache.start();
  services.onShutdown("status cache", () => cache.stop());
  const streams = new StatusStreams(cache, config.STATUS_STREAM_HEARTBEAT_MS, config.STATUS_STREAMS_PER_ADDRESS);
  services.onShutdown("status streams", () => streams.closeAll());
  services.metrics.countStreams("status", () => streams.size);

  const bySlugParam: Resolve = (req) => cache.findBySlug(String(req.params.slug));
  app.use("/status/:slug", pageRouter(bySlugParam, streams));

  const byQuery: Resolve = (req) => {
    const { orgId, orgSlug } = req.query;
    if (typeof orgId === "string" && UUID.test(orgId)) return cache.findByOrganization(orgId);
    if (typeof orgSlug === "string") return cache.findBySlug(orgSlug);
    if (!config.MULTI_TENANT_ENABLED && orgId === undefined) return cache.findBySlug(DEFAULT_SLUG);
    return Promise.resolve(null);
  };
  app.options("/api/status/stream", preflight);
  app.get("/api/status/stream", streams.handler(byQuery));

  if (!config.MULTI_TENANT_ENABLED) {
    app.use(pageRouter(() => cache.findBySlug(DEFAULT_SLUG), null));
  }
  return fastPath(cache);
}
