import { useEffect, useState } from 'preact/hooks';

/** Hash routes (#/channels/news): the console is static files, so the server never sees the route. */
export type Route =
  | { page: 'channels' }
  | { page: 'channel'; id: string }
  | { page: 'analytics' }
  | { page: 'operations' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts[0] === 'channels' && parts[1] !== undefined) return { page: 'channel', id: parts[1] };
  if (parts[0] === 'analytics') return { page: 'analytics' };
  if (parts[0] === 'operations') return { page: 'operations' };
  return { page: 'channels' };
}

export const href = {
  channels: '#/channels',
  channel: (id: string) => `#/channels/${encodeURIComponent(id)}`,
  analytics: '#/analytics',
  operations: '#/operations',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}
