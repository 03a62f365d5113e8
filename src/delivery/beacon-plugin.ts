/**
 * The player beacon for hls.js (/player/sigma-beacon.js): behind a CDN the origin sees only the
 * CDN, so the player itself reports its viewing to POST /v1/beacon. It runs inside pages, so it
 * is one self-contained function whose source text is the script (like stall-monitor.ts): it may
 * use nothing from this module, and keeps to ES2017 (no ?. or ??) with no build step.
 *
 * What it sends, as JSON (text/plain, so a cross-origin post needs no preflight):
 * - a `heartbeat` once the first media playlist has loaded (the session opens then, as it does
 *   at the origin's first media playlist request when nothing stands between);
 * - `play` on the first frame, and again when playback resumes after a pause;
 * - `heartbeat` every `intervalMs` (10 s) while playing;
 * - `pause` when the viewer pauses; `end` when the video ends, hls.js is destroyed or the page goes away.
 * Each carries the session (the `sid` of the media playlist URL hls.js loaded, and the
 * playback token of that URL or of the page), the channel (from the playlist path), the mode
 * (catchup for archive playlists, dvr when more than `dvrBehindSec` behind the live edge, else
 * live), the playhead, hls.js's latency, the time spent rebuffering since the previous beacon
 * and the rendition (the media playlist's name, else the level's height).
 */

/** What the plugin reads of hls.js (a subset of its API). */
export interface BeaconHls {
  on(event: string, listener: (event: string, data: any) => void): void;
  readonly latency: number;
  readonly currentLevel: number;
  readonly levels: readonly { height?: number }[];
  readonly media: BeaconMedia | null;
}

/** What it reads of the media element. */
export interface BeaconMedia {
  readonly currentTime: number;
  readonly paused: boolean;
  readonly seeking: boolean;
  addEventListener(type: string, listener: () => void): void;
}

export interface BeaconOptions {
  /** Where beacons go; default `/v1/beacon` on the page's origin. */
  url?: string;
  /** Default: from the playlist path (/live/<channel>/…). */
  channel?: string;
  /** Default: the `token` argument of the playlist URL, else of the page URL. */
  token?: string;
  intervalMs?: number;
  dvrBehindSec?: number;
  /** Tests: what posts a body (default: navigator.sendBeacon, else fetch with keepalive). */
  send?: (url: string, body: string) => void;
  now?: () => number;
}

export interface BeaconHandle {
  /** Beacons sent so far, by event (the demo page shows them, tests read them). */
  readonly sent: Record<string, number>;
  /** Sends `end` (once) and stops the heartbeat. */
  end(): void;
}

export function sigmaBeacon(hls: BeaconHls, options?: BeaconOptions): BeaconHandle {
  const o = options || {};
  const every = o.intervalMs || 10000;
  const dvrBehindSec = o.dvrBehindSec || 30;
  const now = o.now || (() => Date.now());
  const target = o.url || '/v1/beacon';
  const sent: Record<string, number> = { play: 0, heartbeat: 0, pause: 0, end: 0 };
  let playlistUrl = '';
  let playing = false;
  let ended = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  /** Rebuffering: closed stalls since the last beacon, and the start of the one going on. */
  let rebufferMs = 0;
  let stallSince: number | undefined;
  let started = false;

  const page = () => (typeof location === 'undefined' ? 'http://localhost/' : location.href);
  const param = (url: string, name: string): string | undefined => {
    try {
      const v = new URL(url, page()).searchParams.get(name);
      return v === null ? undefined : v;
    } catch (_e) {
      return undefined;
    }
  };
  const send = o.send || ((url: string, body: string) => {
    // A string goes as text/plain: a "simple" request, so no preflight even cross-origin.
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    } catch (_e) { /* fall through to fetch */ }
    fetch(url, { method: 'POST', body, keepalive: true, mode: 'cors', headers: { 'content-type': 'text/plain' } }).catch(() => undefined);
  });
  const rendition = (): string | undefined => {
    const m = /\/([a-z0-9_-]+)\.m3u8$/.exec(playlistUrl.split('?')[0]);
    if (m && m[1] !== 'index') return m[1];
    const level = hls.levels[hls.currentLevel];
    return level && level.height ? level.height + 'p' : undefined;
  };
  const mode = (): 'live' | 'dvr' | 'catchup' => {
    if (playlistUrl.indexOf('/archive/') >= 0) return 'catchup';
    return hls.latency > dvrBehindSec ? 'dvr' : 'live';
  };
  /** Whether a beacon went out yet: the first media playlist loaded sends one. */
  let opened = false;
  const beacon = (event: 'play' | 'heartbeat' | 'pause' | 'end') => {
    const media = hls.media;
    const channelMatch = /\/live\/([a-z0-9_-]+)\//.exec(playlistUrl);
    const channel = o.channel || (channelMatch ? channelMatch[1] : undefined);
    const sid = param(playlistUrl, 'sid');
    const token = o.token || param(playlistUrl, 'token') || param(page(), 'token');
    if (!channel || (!sid && !token)) return; // nothing names the session yet: no beacon to send
    const at = now();
    let stalled = rebufferMs;
    if (stallSince !== undefined) {
      stalled += at - stallSince;
      stallSince = at;
    }
    rebufferMs = 0;
    const body: Record<string, unknown> = { channel, event, mode: mode() };
    // Both when both are there: the origin keys the session as delivery does (token jti, else sid).
    if (sid) body.sid = sid;
    if (token) body.token = token;
    if (media) body.positionSec = Math.max(0, media.currentTime);
    if (hls.latency > 0) body.latencyMs = Math.round(hls.latency * 1000);
    body.rebufferMs = Math.round(stalled);
    const r = rendition();
    if (r) body.rendition = r;
    opened = true;
    sent[event]++;
    send(target, JSON.stringify(body));
  };
  const stopTimer = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  const end = () => {
    if (ended) return;
    if (opened) beacon('end');
    ended = true;
    playing = false;
    stopTimer();
  };

  hls.on('hlsLevelLoaded', (_e, data) => {
    if (data && data.details && data.details.url) playlistUrl = data.details.url;
    // The session opens when the player starts loading, as the origin's own counts open it at the
    // first media playlist request: a viewer still starting up behind a CDN is counted too.
    if (!opened && !ended) beacon('heartbeat');
  });
  let watched: BeaconMedia | undefined;
  const watch = (media: BeaconMedia | null) => {
    if (!media || media === watched) return;
    watched = media;
    media.addEventListener('playing', () => {
      if (stallSince !== undefined) {
        rebufferMs += now() - stallSince;
        stallSince = undefined;
      }
      started = true;
      if (playing || ended) return;
      playing = true;
      beacon('play');
      stopTimer();
      timer = setInterval(() => beacon('heartbeat'), every);
    });
    media.addEventListener('waiting', () => {
      if (started && !media.seeking && stallSince === undefined) stallSince = now();
    });
    media.addEventListener('pause', () => {
      if (!playing || ended) return;
      playing = false;
      stopTimer();
      beacon('pause');
    });
    media.addEventListener('ended', end);
  };
  // Before or after hls.attachMedia(video): either way the element is watched.
  watch(hls.media);
  hls.on('hlsMediaAttached', () => watch(hls.media));
  hls.on('hlsDestroying', end);
  // pagehide fires on tab close and navigation (and before the back/forward cache keeps the page).
  if (typeof addEventListener === 'function') addEventListener('pagehide', end);
  return { sent, end };
}

/** The plugin as a script: defines `sigmaBeacon` in the page's global scope. */
export function beaconPluginScript(): string {
  return `/* Sigma Live player beacon for hls.js: sigmaBeacon(hls, { url: 'https://origin.example/v1/beacon' }) before hls.attachMedia(video). */
var sigmaBeacon = ${sigmaBeacon.toString()};
`;
}
