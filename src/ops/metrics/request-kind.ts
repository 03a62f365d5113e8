/**
 * What an HTTP request asked for, as the request metrics count it: a handful of values whatever
 * the URL, so the label's cardinality stays bounded (never a path or a viewer).
 */
export type RequestKind = 'playlist' | 'blocking_playlist' | 'part' | 'segment' | 'init' | 'archive' | 'thumbnail' | 'api' | 'other';

export const REQUEST_KINDS: readonly RequestKind[] = ['playlist', 'blocking_playlist', 'part', 'segment', 'init', 'archive', 'thumbnail', 'api', 'other'];

/**
 * The kind of a delivery request from its path and query, by suffix tests only: it runs on
 * every request, beside the handler's own routing, so it must cost next to nothing. A path the
 * handler answers 404 still gets a kind (what it looked like); the status class tells the rest.
 */
export function requestKind(path: string, query: string): RequestKind {
  if (!path.startsWith('/live/')) return 'other';
  if (path.includes('/archive/')) return path.endsWith('.vtt') ? 'thumbnail' : 'archive';
  if (path.endsWith('.m4s')) {
    // <msn>.<part>.m4s is a part, <msn>.m4s a segment: a part's name has a dot before the extension's.
    const name = path.slice(path.lastIndexOf('/') + 1);
    return name.indexOf('.') < name.length - 4 ? 'part' : 'segment';
  }
  if (path.endsWith('.m3u8')) {
    if (path.endsWith('/previews.m3u8')) return 'thumbnail';
    // A blocking reload (_HLS_msn) is held until the part exists: its latency is the wait, not the work.
    return query.includes('_HLS_msn=') ? 'blocking_playlist' : 'playlist';
  }
  if (path.endsWith('.mp4')) return 'init';
  if (path.endsWith('.jpg') || path.endsWith('.vtt')) return 'thumbnail';
  return 'other';
}

/** The status label's values, bounded like the kind. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const;

/** A status's index in STATUS_CLASSES. */
export function statusClassIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
}

/** 2xx, 4xx, …: the status label. */
export function statusClass(status: number): string {
  return STATUS_CLASSES[statusClassIndex(status)];
}

/** The channel id of a /live/<channel>/… path, or undefined. */
export function channelOfPath(path: string): string | undefined {
  if (!path.startsWith('/live/')) return undefined;
  const end = path.indexOf('/', 6);
  return end > 6 ? path.slice(6, end) : undefined;
}
