import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorText } from './api.ts';

/** GET `path` (none when undefined); `reload` fetches again, keeping the old data until it lands. */
export function useApi<T>(path: string | undefined): {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
} {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const seen = useRef<string | undefined>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick is the reload trigger
  useEffect(() => {
    if (path === undefined) {
      setData(undefined);
      return;
    }
    if (seen.current !== path) setData(undefined);
    seen.current = path;
    let live = true;
    setLoading(true);
    api<T>(path).then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(errorText(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}
