/**
 * One name per playlist: its absolute URL without query or fragment. Requests for the same
 * playlist differ by their `_HLS_` directives and tokens, and rendition reports name
 * renditions relative to the playlist carrying them; this is how they are all matched up.
 */

/** `uri` resolved against `base` (default: itself), without query or fragment; unparsable input comes back as it is. */
export function playlistKey(uri: string, base: string = uri): string {
  try {
    const u = new URL(uri, base);
    return `${u.origin}${u.pathname}`;
  } catch {
    return uri;
  }
}
