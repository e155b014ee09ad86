/**
 * A public status page's data, kept live: the summary, the incident history and the uptime
 * from the public files, then every new snapshot version from the server-sent events stream.
 * EventSource retries by itself after a dropped connection; when the server refuses outright
 * (the stream is then closed for good) this retries with a growing delay. A newer version,
 * including one missed while offline, arrives as soon as the stream is back, and brings the
 * other files along.
 */
import { useEffect, useState } from "react";
import type { IncidentsFile, Summary, UptimeFile } from "./types.ts";

export type Connection = "connecting" | "live" | "offline";

export interface StatusPageState {
  summary: Summary | null;
  history: IncidentsFile | null;
  /** Null until read, or when the server has no uptime file. */
  uptime: UptimeFile | null;
  connection: Connection;
  notFound: boolean;
  /** When the data shown was last confirmed current. */
  checkedAt: Date | null;
}

const RETRY_MS = { initial: 2_000, max: 60_000 };

async function readJson<T>(url: string): Promise<T | null> {
  // no-cache revalidates with the ETag: a 304 costs the server nothing.
  const response = await fetch(url, { cache: "no-cache", headers: { accept: "application/json" } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export function useStatusPage(slug: string): StatusPageState {
  const base = `/status/${encodeURIComponent(slug)}`;
  const [state, setState] = useState<StatusPageState>({
    summary: null,
    history: null,
    uptime: null,
    connection: "connecting",
    notFound: false,
    checkedAt: null,
  });

  useEffect(() => {
    const readFiles = async () => {
      try {
        const [summary, history, uptime] = await Promise.all([
          readJson<Summary>(`${base}/api/v2/summary.json`),
          readJson<IncidentsFile>(`${base}/api/v2/incidents.json`),
          // Bars are secondary: a failed read keeps the ones shown (undefined) rather than failing the page.
          readJson<UptimeFile>(`${base}/api/v2/uptime.json`).catch(() => undefined),
        ]);
        setState((s) => ({
          ...s,
          summary,
          history,
          uptime: uptime === undefined ? s.uptime : uptime,
          notFound: summary === null,
          checkedAt: new Date(),
        }));
      } catch {
        setState((s) => ({ ...s, connection: "offline" }));
      }
    };

    let source: EventSource | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let retryDelay = RETRY_MS.initial;
    let stopped = false;

    const connect = () => {
      if (stopped) return;
      source = new EventSource(`${base}/events`);
      source.onopen = () => {
        retryDelay = RETRY_MS.initial;
        // Nothing to read here: the server sends its current version first on every connection
        // (unless it is the one we already have), and that message reads the files.
        setState((s) => ({ ...s, connection: "live" }));
      };
      source.onmessage = (event: MessageEvent<string>) => {
        const summary = JSON.parse(event.data) as Summary;
        setState((s) => ({ ...s, summary, connection: "live", checkedAt: new Date() }));
        // The history and uptime belong to the same new version.
        void readFiles();
      };
      source.onerror = () => {
        setState((s) => ({ ...s, connection: "offline" }));
        if (source?.readyState === EventSource.CLOSED) {
          source = null;
          retryTimer = setTimeout(connect, retryDelay);
          retryDelay = Math.min(retryDelay * 2, RETRY_MS.max);
        }
      };
    };

    void readFiles();
    if (typeof EventSource !== "undefined") connect();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      source?.close();
    };
  }, [base]);

  return state;
}
