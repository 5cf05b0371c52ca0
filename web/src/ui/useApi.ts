import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import type { Query } from '../api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** GETs `path` (null: nothing to load yet) and reloads when the path or query changes. */
export function useApi<T>(path: string | null, query?: Query, options: { pollMs?: number } = {}): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const key = path === null ? null : `${path}?${JSON.stringify(query ?? {})}`;
  const seq = useRef(0);

  useEffect(() => {
    if (key === null || path === null) {
      setLoading(false);
      return;
    }
    const mine = ++seq.current;
    setLoading(true);
    api.get<T>(path, query).then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== seq.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [key, tick]);

  useEffect(() => {
    if (!options.pollMs || key === null) return;
    const timer = window.setInterval(() => setTick((n) => n + 1), options.pollMs);
    return () => window.clearInterval(timer);
  }, [options.pollMs, key]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}
