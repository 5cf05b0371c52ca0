import { useCallback } from 'react';
import { useSearchParams } from 'react-router';

/**
 * Filters and page positions live in the address, so a link shows the same rows to a colleague
 * and the browser's back button steps back through pages. `lang` is kept as it is.
 */
export function useUrlState<K extends string>(keys: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(keys.map((k) => [k, params.get(k) ?? ''])) as Record<K, string>;
  const set = useCallback((patch: Partial<Record<K | 'cursor' | 'page', string | null>>, options: { resetPage?: boolean } = { resetPage: true }) => {
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      if (options.resetPage) {
        next.delete('cursor');
        next.delete('page');
      }
      for (const [k, v] of Object.entries(patch) as [string, string | null | undefined][]) {
        if (v === null || v === undefined || v === '') next.delete(k);
        else next.set(k, v);
      }
      return next;
    });
  }, [setParams]);
  return { values, params, set };
}
