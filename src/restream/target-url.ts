/**
 * A restream target's URL, `rtmp://host[:port]/app[/instance]/streamKey` or `rtmps://…`, as
 * YouTube, Twitch, Facebook and every RTMP server take it: the last path element is the stream
 * key, what precedes it the application (tcUrl = scheme://host[:port]/app).
 */
export interface TargetUrl {
  tls: boolean;
  host: string;
  port: number;
  app: string;
  streamKey: string;
  tcUrl: string;
}

export function parseTargetUrl(text: string): TargetUrl {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error('not a URL');
  }
  if (u.protocol !== 'rtmp:' && u.protocol !== 'rtmps:') throw new Error(`scheme ${u.protocol.replace(':', '')} is not rtmp or rtmps`);
  if (!u.hostname) throw new Error('no host');
  if (u.username || u.password) throw new Error('credentials belong in the stream key, not in user:password@');
  const path = decodeURIComponent(u.pathname).replace(/^\/+/, '');
  const cut = path.lastIndexOf('/');
  if (cut <= 0 || cut === path.length - 1) throw new Error('the path must be /app/streamKey');
  const tls = u.protocol === 'rtmps:';
  const port = u.port ? Number(u.port) : tls ? 443 : 1935;
  const app = path.slice(0, cut);
  // The query (some services put a token there) goes with the key, as ffmpeg sends it.
  const streamKey = path.slice(cut + 1) + u.search;
  return { tls, host: u.hostname.replace(/^\[|\]$/g, ''), port, app, streamKey, tcUrl: `${u.protocol}//${u.host}/${app}` };
}

/**
 * The URL as the API lists it and logs may name it: scheme, host and application whole, the
 * stream key reduced to its last 4 characters (enough to tell targets apart, never to publish).
 */
export function maskedTargetUrl(text: string): string {
  try {
    const t = parseTargetUrl(text);
    const key = t.streamKey.replace(/\?.*$/, '');
    return `${t.tcUrl}/${key.length > 8 ? `…${key.slice(-4)}` : '…'}`;
  } catch {
    return '(invalid URL)';
  }
}
