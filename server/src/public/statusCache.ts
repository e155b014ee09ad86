/**
 * The web process's copy of the public status snapshots (DESIGN.md §8).
 *
 * Snapshots are read as the anonymous role, so row-level security alone decides what is
 * public (published pages of active organizations). Each version is serialised once, into
 * Buffers with a strong ETag per representation (the Statuspage v2 files, feeds, badge) and
 * the SSE frame; requests for a cached page then cost a Map lookup and a socket write.
 *
 * The process's LISTEN connection follows `status_snapshots`: the worker notifies after every
 * rebuild, and a newer version replaces the entry and reaches the SSE subscribers of that
 * organization. Notifications missed while the connection was down are made up for by
 * reloading everything cached once it is back. Unknown slugs are remembered for a few seconds
 * so a flood of misses does not become a flood of queries.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import type { NotificationListener } from "../database/notificationListener.ts";
import type { IncidentJson, MaintenanceJson, SnapshotBody } from "./snapshot.ts";

export const STATUS_SNAPSHOTS_CHANNEL = "status_snapshots";

/** The Statuspage v2 files, each `{page, …}` built from the snapshot body. */
const JSON_FILES = {
  "summary.json": (b: SnapshotBody) => ({
    page: b.page,
    status: b.status,
    components: b.components,
    incidents: b.incidents,
    scheduled_maintenances: b.scheduled_maintenances,
  }),
  "status.json": (b: SnapshotBody) => ({ page: b.page, status: b.status }),
  "components.json": (b: SnapshotBody) => ({ page: b.page, components: b.components }),
  "incidents.json": (b: SnapshotBody) => ({ page: b.page, incidents: b.incident_history }),
  "incidents/unresolved.json": (b: SnapshotBody) => ({ page: b.page, incidents: b.incidents }),
  "scheduled-maintenances.json": (b: SnapshotBody) => ({
    page: b.page,
    scheduled_maintenances: b.maintenance_history,
  }),
  "scheduled-maintenances/upcoming.json": (b: SnapshotBody) => ({
    page: b.page,
    scheduled_maintenances: b.scheduled_maintenances.filter((m) => m.status === "scheduled"),
  }),
  "scheduled-maintenances/active.json": (b: SnapshotBody) => ({
    page: b.page,
    scheduled_maintenances: b.scheduled_maintenances.filter((m) => m.status === "in_progress"),
  }),
  // Ours, beside the Statuspage files: 90 days per visible service, for the page's uptime bars.
  "uptime.json": (b: SnapshotBody) => ({ page: b.page, uptime: b.uptime }),
} satisfies Record<string, (body: SnapshotBody) => object>;

export type StatusJsonFile = keyof typeof JSON_FILES;
export const STATUS_JSON_FILES = Object.keys(JSON_FILES) as StatusJsonFile[];
export type StatusRepresentationName = StatusJsonFile | "history.rss" | "history.atom" | "badge.svg";

export interface Representation {
  body: Buffer;
  /** Strong: a hash of exactly these bytes. */
  etag: string;
  contentType: string;
}

export interface CachedSnapshot {
  organizationId: string;
  slug: string;
  version: number;
  representations: ReadonlyMap<StatusRepresentationName, Representation>;
  /** This version as one SSE event: `id:` the version, `data:` the summary on one line. */
  event: Buffer;
}

/** A snapshot while its representations are filled in (then only read). */
type SnapshotInProgress = CachedSnapshot & { representations: Map<StatusRepresentationName, Representation> };

/** What SSE subscribers of one organization hear: a newer version, or that it is no longer public. */
export type SnapshotEvent = { type: "snapshot"; snapshot: CachedSnapshot } | { type: "gone" };

/** Renderers of the non-JSON representations (feeds.ts, badge.ts). */
export interface StatusRenderers {
  rss?: (body: SnapshotBody, origin: string) => string;
  atom?: (body: SnapshotBody, origin: string) => string;
  badge?: (body: SnapshotBody) => string;
}

export interface StatusCacheOptions {
  /** The process's LISTEN connection. */
  notifications: NotificationListener;
  /** The authenticator's pool; reads switch to `anonymousRole` per transaction. */
  pool: pg.Pool;
  anonymousRole: string;
  /** Where page.url and shortlinks point: PUBLIC_URL or the server's own address. */
  origin: () => string;
  renderers?: StatusRenderers;
  statementTimeoutMs?: number;
  /** How long an unknown slug is answered from memory. */
  negativeTtlMs?: number;
  /** Pages kept in memory; the least recently used without subscribers go first. */
  maxEntries?: number;
  maxNegativeEntries?: number;
  log?: (message: string) => void;
}

interface SnapshotRow {
  organization_id: string;
  slug: string;
  version: string | number;
  body: SnapshotBody;
}

type Listener = (event: SnapshotEvent) => void;

const SLUG = /^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
const etagOf = (body: Buffer) => `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;

function representation(text: string, contentType: string): Representation {
  const body = Buffer.from(text, "utf8");
  return { body, etag: etagOf(body), contentType };
}

/** Snapshot URLs are page-relative ("/status/acme/…"); the public JSON carries absolute ones. */
export function absoluteBody(body: SnapshotBody, origin: string): SnapshotBody {
  const absolute = (url: string) => (url.startsWith("/") ? `${origin}${url}` : url);
  const incident = <T extends IncidentJson | MaintenanceJson>(item: T): T => ({
    ...item,
    shortlink: absolute(item.shortlink),
  });
  return {
    ...body,
    page: { ...body.page, url: absolute(body.page.url) },
    incidents: (body.incidents ?? []).map(incident),
    scheduled_maintenances: (body.scheduled_maintenances ?? []).map(incident),
    incident_history: (body.incident_history ?? []).map(incident),
    maintenance_history: (body.maintenance_history ?? []).map(incident),
  };
}

export class StatusCache {
  private readonly options: Required<Omit<StatusCacheOptions, "renderers">> & { renderers: StatusRenderers };
  /** Insertion order is recency of use (a hit re-inserts), for eviction. */
  private readonly byOrganization = new Map<string, CachedSnapshot>();
  private readonly bySlug = new Map<string, CachedSnapshot>();
  /** "slug:<slug>" or "org:<id>" → until when it is known not to be public. */
  private readonly misses = new Map<string, number>();
  private readonly loading = new Map<string, Promise<CachedSnapshot | null>>();
  private readonly reloads = new Map<string, { tail: Promise<CachedSnapshot | null>; queued: boolean }>();
  /** The newest version each organization was notified of: older rows read later are stale. */
  private readonly notified = new Map<string, number>();
  private readonly listeners = new Map<string, Set<Listener>>();

  private unsubscribeAll: (() => void)[] = [];

  constructor(options: StatusCacheOptions) {
    this.options = {
      statementTimeoutMs: 10_000,
      negativeTtlMs: 5_000,
      maxEntries: 1_000,
      maxNegativeEntries: 10_000,
      log: (message) => console.warn(`[status cache] ${message}`),
      renderers: {},
      ...options,
    };
  }

  /** Follows the worker's notifications (the listener itself is started by the server). */
  start(): void {
    const { notifications } = this.options;
    this.unsubscribeAll = [
      notifications.subscribe(STATUS_SNAPSHOTS_CHANNEL, (payload) => this.notification(payload)),
      notifications.onReconnect(() => this.reloadEverything()),
    ];
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribeAll) unsubscribe();
    this.unsubscribeAll = [];
    this.listeners.clear();
  }

  /** The cached page of a slug, if any: the hot path, synchronous and free of I/O. */
  peek(slug: string): CachedSnapshot | undefined {
    const snapshot = this.bySlug.get(slug.toLowerCase());
    if (snapshot) this.touch(snapshot);
    return snapshot;
  }

  /** The current snapshot of an organization's public page, or null when it has none. */
  async findBySlug(slug: string): Promise<CachedSnapshot | null> {
    const key = slug.toLowerCase();
    const hit = this.peek(key);
    if (hit) return hit;
    if (!SLUG.test(key) || this.isMiss(`slug:${key}`)) return null;
    return this.dedupe(`slug:${key}`, () => this.fetch("slug", key));
  }

  async findByOrganization(organizationId: string): Promise<CachedSnapshot | null> {
    const id = organizationId.toLowerCase();
    const hit = this.byOrganization.get(id);
    if (hit) {
      this.touch(hit);
      return hit;
    }
    if (!UUID.test(id) || this.isMiss(`org:${id}`)) return null;
    return this.dedupe(`org:${id}`, () => this.fetch("org", id));
  }

  /** The newest cached version of an organization (no I/O). */
  current(organizationId: string): CachedSnapshot | undefined {
    return this.byOrganization.get(organizationId);
  }

  /** Hears every newer version of one organization's page, and its end; returns the unsubscribe. */
  subscribe(organizationId: string, listener: Listener): () => void {
    let set = this.listeners.get(organizationId);
    if (!set) this.listeners.set(organizationId, (set = new Set()));
    set.add(listener);
    return () => {
      const current = this.listeners.get(organizationId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(organizationId);
    };
  }

  // ---------------------------------------------------------------------------------------
  // Reading snapshots

  private async query(by: "slug" | "org", value: string): Promise<SnapshotRow | null> {
    const client = await this.options.pool.connect();
    try {
      await client.query("begin");
      await client.query("select set_config('role', $1, true), set_config('statement_timeout', $2, true)", [
        this.options.anonymousRole,
        String(this.options.statementTimeoutMs),
      ]);
      const { rows } = await client.query<SnapshotRow>(
        `select organization_id, slug::text as slug, version, body
         from app_public.status_snapshots
         where ${by === "slug" ? "slug = $1::citext" : "organization_id = $1::uuid"}`,
        [value],
      );
      await client.query("commit");
      return rows[0] ?? null;
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private dedupe(key: string, load: () => Promise<CachedSnapshot | null>): Promise<CachedSnapshot | null> {
    const running = this.loading.get(key);
    if (running) return running;
    const promise = load().finally(() => this.loading.delete(key));
    this.loading.set(key, promise);
    return promise;
  }

  private async fetch(by: "slug" | "org", value: string): Promise<CachedSnapshot | null> {
    const row = await this.query(by, value);
    if (!row) {
      this.remember(`${by}:${value}`);
      return null;
    }
    // Read before a notification that came in meanwhile: read again, after it.
    if (Number(row.version) < (this.notified.get(row.organization_id) ?? 0)) {
      return this.reloadOrganization(row.organization_id);
    }
    return this.install(row);
  }

  /** Reads one organization again; runs one at a time per organization, and coalesces. */
  private reloadOrganization(organizationId: string): Promise<CachedSnapshot | null> {
    const state = this.reloads.get(organizationId);
    // A reload that has not started yet will see every change notified so far.
    if (state?.queued) return state.tail;
    const next = { tail: null as unknown as Promise<CachedSnapshot | null>, queued: true };
    const previous = state ? state.tail.catch(() => null) : Promise.resolve(null);
    next.tail = previous.then(() => {
      next.queued = false;
      return this.reload(organizationId);
    });
    this.reloads.set(organizationId, next);
    void next.tail
      .finally(() => {
        if (this.reloads.get(organizationId) === next) this.reloads.delete(organizationId);
      })
      .catch(() => undefined);
    return next.tail;
  }

  private async reload(organizationId: string): Promise<CachedSnapshot | null> {
    let row: SnapshotRow | null;
    try {
      row = await this.query("org", organizationId);
    } catch (error) {
      // Keep serving what we have; the next notification or reconnect tries again.
      this.options.log(`reloading ${organizationId} failed: ${(error as Error).message}`);
      return this.byOrganization.get(organizationId) ?? null;
    }
    if (row) return this.install(row);
    this.remove(organizationId);
    return null;
  }

  // ---------------------------------------------------------------------------------------
  // The cache itself

  private install(row: SnapshotRow): CachedSnapshot {
    const organizationId = row.organization_id;
    const version = Number(row.version);
    const existing = this.byOrganization.get(organizationId);
    if (existing && existing.version >= version) return existing;

    const origin = this.options.origin();
    const publicBody = absoluteBody(row.body, origin);
    const snapshot = this.serialiseSummary(organizationId, row.slug, version, publicBody);
    if (existing) this.forgetSlug(existing);
    this.byOrganization.delete(organizationId);
    this.byOrganization.set(organizationId, snapshot);
    const slugKey = snapshot.slug.toLowerCase();
    const previousOwner = this.bySlug.get(slugKey);
    if (previousOwner && previousOwner.organizationId !== organizationId) {
      // The slug moved to this organization; the old owner's entry is out of date.
      this.drop(previousOwner.organizationId);
    }
    this.bySlug.set(slugKey, snapshot);
    this.misses.delete(`slug:${slugKey}`);
    this.misses.delete(`org:${organizationId}`);
    this.evict();
    // Open pages hear of the version first; the other files are rendered right after, in the
    // same synchronous step, so no request ever sees the entry without them.
    this.emit(organizationId, { type: "snapshot", snapshot });
    this.renderTheRest(snapshot, row.body, publicBody, origin);
    return snapshot;
  }

  /** The organization's page is no longer public (unpublished, suspended, deleted). */
  private remove(organizationId: string): void {
    const existing = this.byOrganization.get(organizationId);
    if (existing) this.remember(`slug:${existing.slug.toLowerCase()}`);
    this.remember(`org:${organizationId}`);
    this.drop(organizationId);
    this.emit(organizationId, { type: "gone" });
  }

  private drop(organizationId: string): void {
    const existing = this.byOrganization.get(organizationId);
    if (!existing) return;
    this.byOrganization.delete(organizationId);
    this.forgetSlug(existing);
  }

  private forgetSlug(snapshot: CachedSnapshot): void {
    const key = snapshot.slug.toLowerCase();
    if (this.bySlug.get(key) === snapshot) this.bySlug.delete(key);
  }

  private touch(snapshot: CachedSnapshot): void {
    // Re-inserting moves it to the end of the Map: most recently used.
    if (this.byOrganization.get(snapshot.organizationId) !== snapshot) return;
    this.byOrganization.delete(snapshot.organizationId);
    this.byOrganization.set(snapshot.organizationId, snapshot);
  }

  private evict(): void {
    if (this.byOrganization.size <= this.options.maxEntries) return;
    for (const [organizationId] of this.byOrganization) {
      if (this.byOrganization.size <= this.options.maxEntries) break;
      if (this.listeners.has(organizationId)) continue;
      this.drop(organizationId);
    }
  }

  private remember(key: string): void {
    this.misses.delete(key);
    this.misses.set(key, Date.now() + this.options.negativeTtlMs);
    while (this.misses.size > this.options.maxNegativeEntries) {
      this.misses.delete(this.misses.keys().next().value!);
    }
  }

  private isMiss(key: string): boolean {
    const until = this.misses.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.misses.delete(key);
    return false;
  }

  private emit(organizationId: string, event: SnapshotEvent): void {
    for (const listener of [...(this.listeners.get(organizationId) ?? [])]) {
      try {
        listener(event);
      } catch (error) {
        this.options.log(`a subscriber failed: ${(error as Error).message}`);
      }
    }
  }

  /** A version's summary.json and its SSE event: what must exist before anyone hears of it. */
  private serialiseSummary(
    organizationId: string,
    slug: string,
    version: number,
    publicBody: SnapshotBody,
  ): SnapshotInProgress {
    const summary = JSON.stringify(JSON_FILES["summary.json"](publicBody));
    const representations = new Map<StatusRepresentationName, Representation>([
      ["summary.json", representation(summary, JSON_CONTENT_TYPE)],
    ]);
    // JSON.stringify never emits a raw line break, so the summary is one `data:` line.
    const event = Buffer.from(`id: ${version}\ndata: ${summary}\n\n`, "utf8");
    return { organizationId, slug, version, representations, event };
  }

  /** Every other file a version is served as, serialised once. */
  private renderTheRest(
    snapshot: SnapshotInProgress,
    body: SnapshotBody,
    publicBody: SnapshotBody,
    origin: string,
  ): void {
    const { representations, slug, version } = snapshot;
    for (const file of STATUS_JSON_FILES) {
      if (file === "summary.json") continue;
      representations.set(file, representation(JSON.stringify(JSON_FILES[file](publicBody)), JSON_CONTENT_TYPE));
    }
    const { rss, atom, badge } = this.options.renderers;
    const render = (name: StatusRepresentationName, contentType: string, produce: () => string) => {
      try {
        representations.set(name, representation(produce(), contentType));
      } catch (error) {
        this.options.log(`rendering ${name} of ${slug} v${version} failed: ${(error as Error).message}`);
      }
    };
    // Feeds take the body as stored (page-relative URLs) and resolve them against the origin.
    if (rss) render("history.rss", "application/rss+xml; charset=utf-8", () => rss(body, origin));
    if (atom) render("history.atom", "application/atom+xml; charset=utf-8", () => atom(body, origin));
    if (badge) render("badge.svg", "image/svg+xml; charset=utf-8", () => badge(publicBody));
  }

  // ---------------------------------------------------------------------------------------
  // Notifications

  /** After a reconnect: notifications may have been missed, so read every cached page again. */
  private reloadEverything(): void {
    this.misses.clear();
    const organizations = new Set([...this.byOrganization.keys(), ...this.listeners.keys()]);
    for (const organizationId of organizations) void this.reloadOrganization(organizationId);
  }

  private notification(payload: string): void {
    let message: { organizationId?: unknown; slug?: unknown; previousSlug?: unknown; version?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    const { organizationId, slug, previousSlug, version } = message;
    if (typeof organizationId !== "string" || typeof version !== "number") return;
    this.notified.set(organizationId, Math.max(version, this.notified.get(organizationId) ?? 0));
    this.misses.delete(`org:${organizationId}`);
    if (typeof slug === "string") this.misses.delete(`slug:${slug.toLowerCase()}`);
    if (typeof previousSlug === "string" && previousSlug.toLowerCase() !== String(slug).toLowerCase()) {
      const key = previousSlug.toLowerCase();
      this.misses.delete(`slug:${key}`);
      const old = this.bySlug.get(key);
      if (old?.organizationId === organizationId) this.bySlug.delete(key);
    }
    const cached = this.byOrganization.get(organizationId);
    if (cached && cached.version >= version) return;
    // Pages nobody asked for stay unloaded until someone does.
    if (cached || this.listeners.has(organizationId)) void this.reloadOrganization(organizationId);
  }
}
