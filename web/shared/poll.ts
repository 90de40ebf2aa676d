/**
 * Short polling: the next request leaves only after the previous answer (a slow Pi is never asked
 * twice at once), and none while the page is hidden (a phone in a pocket costs the gateway nothing).
 */
import { useEffect, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  /** The last request's failure, shown on the page; cleared by the next success. */
  error: string | undefined;
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    throw new Error(body?.error?.message ?? `${response.status} ${response.statusText}`);
  }
  return (await response.json()) as T;
}

export function usePolling<T>(url: string | undefined, intervalMs: number): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ data: undefined, error: undefined });
  useEffect(() => {
    if (url === undefined) return undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      if (!document.hidden) {
        try {
          const data = await getJson<T>(url);
          if (!stopped) setState({ data, error: undefined });
        } catch (err) {
          if (!stopped) setState((previous) => ({ data: previous.data, error: (err as Error).message }));
        }
      }
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
    };
    const onVisible = (): void => {
      if (document.hidden || stopped) return;
      clearTimeout(timer);
      void tick();
    };
    document.addEventListener('visibilitychange', onVisible);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [url, intervalMs]);
  return state;
}
