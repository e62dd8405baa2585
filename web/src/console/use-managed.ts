// Loads one management API path for a console screen, again whenever the draft changes.
import { useEffect, useState } from 'preact/hooks';
import { manage, onDraftChanged } from '../manage.ts';

export interface Managed<T> {
  data: T | undefined;
  etag: string | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): void;
}

export function useManaged<T>(path: string | undefined): Managed<T> {
  const [state, setState] = useState<{ data: T | undefined; etag: string | undefined; error: Error | undefined; loading: boolean }>({ data: undefined, etag: undefined, error: undefined, loading: path !== undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => onDraftChanged(() => setTick((n) => n + 1)), []);
  useEffect(() => {
    if (path === undefined) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    manage<T>('GET', path).then(
      ({ body, etag }) => live && setState({ data: body, etag, error: undefined, loading: false }),
      (error: Error) => live && setState({ data: undefined, etag: undefined, error, loading: false }),
    );
    return () => void (live = false);
  }, [path, tick]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}
