import { usePoll } from '../ui/poll.js';

/** At most this many pictures across the DVR window, evenly spaced. */
const SHOWN = 12;

interface Tile { atMs: number; sheet: string; x: number; y: number; w: number; h: number }

/** The scrubbing previews track (README: Thumbnails): cue times on the playlist's timeline, 0 = the NOTE's PROGRAM-DATE-TIME. */
export function parsePreviews(vtt: string, base: string): Tile[] {
  const zero = /NOTE time 0 is PROGRAM-DATE-TIME (\S+)/.exec(vtt);
  const zeroMs = zero ? Date.parse(zero[1]) : NaN;
  const tiles: Tile[] = [];
  const cue = /(\d+):(\d\d):(\d\d\.\d+) --> [^\n]+\n([^\n#]+)#xywh=(\d+),(\d+),(\d+),(\d+)/g;
  for (let m = cue.exec(vtt); m !== null; m = cue.exec(vtt)) {
    const sec = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
    tiles.push({ atMs: zeroMs + sec * 1000, sheet: new URL(m[4].trim(), base).href, x: +m[5], y: +m[6], w: +m[7], h: +m[8] });
  }
  // The sheet being filled keeps its URL as tiles are added to it: the browser would keep the
  // picture it first loaded (one tile), so the URL carries the sheet's tile count.
  const count = new Map<string, number>();
  for (const t of tiles) count.set(t.sheet, (count.get(t.sheet) ?? 0) + 1);
  return tiles.map((t) => ({ ...t, sheet: `${t.sheet}${t.sheet.includes('?') ? '&' : '?'}tiles=${count.get(t.sheet)}` }));
}

function spaced<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]);
}

/** Pictures of the DVR window from the channel's previews.vtt (sprite tiles), refreshed every 10 s. */
export function ThumbnailsStrip({ playbackUrl }: { playbackUrl: string }) {
  const vttUrl = new URL('previews.vtt', playbackUrl).href;
  const tiles = usePoll(async () => {
    const r = await fetch(vttUrl);
    return r.ok ? parsePreviews(await r.text(), vttUrl) : [];
  }, 10_000, vttUrl);
  const shown = spaced(tiles.data ?? [], SHOWN);
  return (
    <section aria-labelledby="thumbs-h">
      <h2 id="thumbs-h">DVR window</h2>
      {shown.length === 0 ? <p class="placeholder">No previews yet (one every few seconds while live).</p> : (
        <ol class="strip" data-testid="thumbnails">
          {shown.map((t) => (
            <li key={`${t.sheet}${t.x},${t.y}`}>
              <div class="tile" role="img" aria-label={`Picture at ${new Date(t.atMs).toLocaleTimeString()}`}
                style={{ width: `${t.w}px`, height: `${t.h}px`, backgroundImage: `url("${t.sheet}")`, backgroundPosition: `-${t.x}px -${t.y}px` }} />
              <time dateTime={new Date(t.atMs).toISOString()}>{new Date(t.atMs).toLocaleTimeString()}</time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
