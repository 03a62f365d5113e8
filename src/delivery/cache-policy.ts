/**
 * Cache-Control lifetimes a CDN can act on: RFC 8216bis Appendix B.1's recommendations for
 * playlists and blocked media, long-lived immutable media (URIs never repeat: MSNs and init
 * ids are unique across restarts, see Channel.startPublication).
 */
export const cachePolicy = {
  blockingPlaylist: (td: number) => `public, max-age=${6 * td}`,
  blockingPlaylistError: (td: number) => `public, max-age=${4 * td}`,
  playlist: (td: number) => `public, max-age=${Math.max(1, Math.floor(0.5 * td))}`,
  playlistError: (td: number) => `public, max-age=${td}`,
  blockingMediaError: (td: number) => `public, max-age=${td}`,
  immutableMedia: 'public, max-age=31536000, immutable',
  /** Retry soon: a 503 after a blocking timeout or a resource still being produced. */
  noStore: 'no-store',
  multivariant: 'public, max-age=2',
  /** A response made for one viewer (a multivariant playlist with a new analytics session id). */
  perViewer: 'private, no-store',
  /** A closed catchup range: stable, but retention deletes it one day, so not immutable. */
  archivePlaylist: 'public, max-age=300',
};

/** Default target duration for error answers before a channel has a playlist. */
export const FALLBACK_TD = 2;

/**
 * The max-age of a Cache-Control value, when it plans a lifetime: undefined without max-age and
 * for `no-store` / `no-cache` (nothing to expire: no store, or revalidated on every use).
 */
export function plannedMaxAge(cacheControl: string): number | undefined {
  if (/(?:^|[\s,])no-(?:store|cache)\b/i.test(cacheControl)) return undefined;
  const m = /(?:^|[\s,])max-age=(\d+)/i.exec(cacheControl);
  return m ? Number(m[1]) : undefined;
}

/** Cache-Control values seen are a handful per process (lifetimes are multiples of a few TDs); beyond this they are parsed each time. */
const MAX_AGES_KEPT = 64;

/**
 * Date and Expires for every reply, from one clock (the handler's, injectable for tests).
 * RFC 8216bis §6.2.2 [AV-06] asks for an Expires that reflects the planned time to live where
 * segments are removed; here every reply whose Cache-Control plans a lifetime (max-age,
 * without no-store / no-cache) gets Expires = Date + max-age: media, parts and init segments
 * (immutable: a year), playlists (½ TD, 6 × TD when blocked), errors cached by a CDN. Caches
 * that know HTTP/1.1 go by max-age (RFC 9111 §5.3); HTTP/1.0 caches only know Expires, and the
 * two then agree. Both are whole seconds: Date is the current second, formatted once a second;
 * each Expires once per second and lifetime (a handful of strings per second whatever the
 * request rate).
 */
export class HttpDates {
  private second = Number.NaN;
  private date = '';
  private readonly expires = new Map<number, string>();
  private readonly maxAges = new Map<string, number | undefined>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Sets `date`, and `expires` when the reply's cache-control plans a lifetime. */
  stamp(headers: Record<string, string>): void {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.date = new Date(second * 1000).toUTCString();
      this.expires.clear();
    }
    headers.date = this.date;
    const cacheControl = headers['cache-control'];
    if (cacheControl === undefined) return;
    const maxAge = this.maxAgeOf(cacheControl);
    if (maxAge === undefined) return;
    let expires = this.expires.get(maxAge);
    if (expires === undefined) {
      expires = new Date((second + maxAge) * 1000).toUTCString();
      this.expires.set(maxAge, expires);
    }
    headers.expires = expires;
  }

  private maxAgeOf(cacheControl: string): number | undefined {
    if (this.maxAges.has(cacheControl)) return this.maxAges.get(cacheControl);
    const maxAge = plannedMaxAge(cacheControl);
    if (this.maxAges.size < MAX_AGES_KEPT) this.maxAges.set(cacheControl, maxAge);
    return maxAge;
  }
}
