import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export type Loaded<T> =
  | Readonly<{ status: 'loading' }>
  | Readonly<{ status: 'failed'; message: string }>
  | Readonly<{ status: 'ready'; value: T }>;

/** Runs `load` whenever `deps` change; a 401 hands over to `onUnauthorized` (asks for the key again). */
export const useLoad = <T>(load: () => Promise<T>, deps: readonly unknown[], onUnauthorized: () => void) => {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  useEffect(() => {
    let current = true;
    setState({ status: 'loading' });
    load().then(
      (value) => current && setState({ status: 'ready', value }),
      (error: unknown) => {
        if (!current) return;
        if (error instanceof ApiError && error.status === 401) onUnauthorized();
        setState({ status: 'failed', message: error instanceof Error ? error.message : String(error) });
      },
    );
    return () => {
      current = false;
    };
  }, deps);
  return state;
};
