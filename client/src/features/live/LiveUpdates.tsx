/**
 * Live dashboard: one EventSource on /api/live per signed-in tab. Each `change` event (any
 * committed change in the active organization, by anyone) makes the visible queries read
 * again from the network, so what others do appears without reloading. Bursts are merged.
 * EventSource reconnects by itself; a reconnect also re-reads, to catch up on missed events.
 */
import { createContext, useContext, useEffect, useEffectEvent, useState, type ReactNode } from "react";
import { useQuery, type AnyVariables, type UseQueryArgs, type UseQueryResponse } from "urql";

const MERGE_MS = 250;

interface LiveState {
  /** Increases whenever something changed; queries re-run when it does. */
  version: number;
  connected: boolean;
}

const LiveContext = createContext<LiveState>({ version: 0, connected: false });

export const useLiveState = () => useContext(LiveContext);

export function LiveUpdatesProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const [state, setState] = useState<LiveState>({ version: 0, connected: false });

  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    const source = new EventSource("/api/live", { withCredentials: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let everOpened = false;
    const changed = () => {
      clearTimeout(timer);
      timer = setTimeout(() => setState((s) => ({ ...s, version: s.version + 1 })), MERGE_MS);
    };
    source.addEventListener("change", changed);
    source.onopen = () => {
      setState((s) => ({ version: everOpened ? s.version + 1 : s.version, connected: true }));
      everOpened = true;
    };
    source.onerror = () => setState((s) => ({ ...s, connected: false }));
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, [enabled]);

  return <LiveContext.Provider value={state}>{children}</LiveContext.Provider>;
}

const listContexts = new Map<string, { additionalTypenames: string[] }>();

/**
 * The query context for a list of these types: urql's cache drops a result when a mutation
 * returns one of the types in it, but an empty list holds none, so a list that may be empty
 * names its types here. One object per set, so the context never changes between renders.
 */
export function listContext(...typenames: string[]): { additionalTypenames: string[] } {
  const key = typenames.join(",");
  let context = listContexts.get(key);
  if (!context) listContexts.set(key, (context = { additionalTypenames: typenames }));
  return context;
}

/** useQuery that also re-reads (network-only) after every live change. */
export function useLiveQuery<Data = unknown, Variables extends AnyVariables = AnyVariables>(
  args: UseQueryArgs<Variables, Data>,
): UseQueryResponse<Data, Variables> {
  const response = useQuery<Data, Variables>(args);
  const { version } = useLiveState();
  const refresh = useEffectEvent(() => response[1]({ requestPolicy: "network-only" }));
  useEffect(() => {
    if (version > 0) refresh();
  }, [version]);
  return response;
}
