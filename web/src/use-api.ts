// Loads one admin API path; reloads when the path changes and, if asked, every `refreshMs`
// while the tab is visible. A newer load cancels an older one, so a slow answer never
// overwrites a fresher one.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { getJson } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

export function useApi<T>(path: string | undefined, refreshMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean; path: string | undefined }>({ data: undefined, error: undefined, loading: path !== undefined, path });
  const controller = useRef<AbortController | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    if (path === undefined) return;
    controller.current?.abort();
    const mine = new AbortController();
    controller.current = mine;
    // Keep the previous data on screen while the same path refreshes; clear it when the path changed.
    setState((s) => ({ data: s.path === path ? s.data : undefined, error: undefined, loading: true, path }));
    getJson<T>(path, mine.signal).then(
      (data) => !mine.signal.aborted && setState({ data, error: undefined, loading: false, path }),
      (error: Error) => !mine.signal.aborted && setState((s) => ({ data: s.path === path ? s.data : undefined, error: error.message, loading: false, path })),
    );
    return () => mine.abort();
  }, [path, tick]);

  useEffect(() => {
    if (!refreshMs || path === undefined) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, refreshMs);
    return () => window.clearInterval(timer);
  }, [path, refreshMs, reload]);

  return { data: state.data, error: state.error, loading: state.loading, reload };
}
