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
  /** A closed catchup range: stable, but retention deletes it one day, so not immutable. */
  archivePlaylist: 'public, max-age=300',
};

/** Default target duration for error answers before a channel has a playlist. */
export const FALLBACK_TD = 2;
