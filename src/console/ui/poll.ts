import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  /** Fetch again now (after an action changed what is shown). */
  reload: () => void;
}

/**
 * Runs `load` now and every `everyMs` while the tab is visible (a hidden tab costs the origin
 * nothing), keeping the last answer on a failed poll so the page does not flicker. `key` restarts
 * it (another channel, another range).
 */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, key: unknown = undefined): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);

  const run = useCallback(async () => {
    const mine = generation.current;
    try {
      const value = await loadRef.current();
      if (mine === generation.current) { setData(value); setError(undefined); }
    } catch (err) {
      if (mine === generation.current) setError(err as Error);
    }
  }, []);

  useEffect(() => {
    generation.current++;
    setData(undefined);
    void run();
    if (everyMs <= 0) return undefined;
    const timer = setInterval(() => { if (!document.hidden) void run(); }, everyMs);
    const onVisible = () => { if (!document.hidden) void run(); };
    document.addEventListener('visibilitychange', onVisible);
    return () => { clearInterval(timer); document.removeEventListener('visibilitychange', onVisible); };
  }, [everyMs, key, run]);

  return { data, error, reload: () => void run() };
}
