/**
 * A scripted LL-HLS viewer, as cheap as a real client can be: the multivariant playlist (which
 * hands out its analytics sid), then blocking reloads of the media playlist on the part its
 * preload hint names, fetching the newest part listed after each. It records when it joined
 * (its first media playlist request) and when it left (its last response: it stops there).
 */

export interface ViewerRecord {
  name: string;
  /** ms: the first media playlist request; undefined until then. */
  joinedAt?: number;
  /** ms: when it stopped making requests; undefined while it watches. */
  leftAt?: number;
  requests: number;
  errors: string[];
}

const HINT = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([a-z0-9_-]+)\/(\d+)\.(\d+)\.m4s[^"]*"/;

/** The URI of the newest part a playlist lists. */
function lastPart(playlist: string): string | undefined {
  const at = playlist.lastIndexOf('#EXT-X-PART:');
  return at < 0 ? undefined : /URI="([^"]+)"/.exec(playlist.slice(at, playlist.indexOf('\n', at)))?.[1];
}

/** Playlists uncompressed: the test measures the origin's counting, not gzip in both processes. */
const HEADERS = (ua: string) => ({ 'user-agent': ua, 'accept-encoding': 'identity' });

async function text(url: string, ua: string, v: ViewerRecord): Promise<string | undefined> {
  v.requests++;
  const r = await fetch(url, { headers: HEADERS(ua) });
  const body = await r.text();
  if (r.status !== 200) { v.errors.push(`${r.status} ${url}`); return undefined; }
  return body;
}

/**
 * Watches `channelUrl` (…/live/<channel>/) until `leaveAt` (ms), identified by `ua`; resolves
 * with its record when it has left. `startAt` (ms): when it asks for the multivariant playlist.
 */
export async function watchLlHls(channelUrl: string, o: { name: string; ua: string; startAt: number; leaveAt: number }): Promise<ViewerRecord> {
  const v: ViewerRecord = { name: o.name, requests: 0, errors: [] };
  await new Promise((r) => setTimeout(r, Math.max(0, o.startAt - Date.now())));
  const mv = await text(`${channelUrl}index.m3u8`, o.ua, v);
  const media = mv?.split('\n').find((l) => l.length > 0 && !l.startsWith('#'));
  if (!media) { v.leftAt = Date.now(); return v; }
  const sep = media.includes('?') ? '&' : '?';
  v.joinedAt = Date.now();
  let playlist = await text(`${channelUrl}${media}`, o.ua, v);
  while (playlist !== undefined && Date.now() < o.leaveAt) {
    const part = lastPart(playlist);
    if (part) await (await fetch(`${channelUrl}${part}`, { headers: HEADERS(o.ua) })).arrayBuffer();
    const hint = HINT.exec(playlist);
    if (!hint) { v.errors.push('no preload hint'); break; }
    if (Date.now() >= o.leaveAt) break;
    playlist = await text(`${channelUrl}${media}${sep}_HLS_msn=${hint[2]}&_HLS_part=${hint[3]}`, o.ua, v);
  }
  v.leftAt = Date.now();
  return v;
}

/** The viewers present at `at`: joined before it and not yet left. */
export function presentAt(viewers: readonly ViewerRecord[], at: number): number {
  return viewers.filter((v) => v.joinedAt !== undefined && v.joinedAt < at && (v.leftAt === undefined || v.leftAt > at)).length;
}

/** Sum of (left − joined) over the viewers that joined, ms. */
export function watchedMs(viewers: readonly ViewerRecord[]): number {
  return viewers.reduce((s, v) => s + (v.joinedAt !== undefined && v.leftAt !== undefined ? v.leftAt - v.joinedAt : 0), 0);
}
