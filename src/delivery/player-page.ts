import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { OriginReply } from './types.js';
import { stallMonitorScript } from './stall-monitor.js';
import { beaconPluginScript } from './beacon-plugin.js';

/**
 * Where the demo player posts its beacons: an absolute URL (the public URL, whose proxy routes
 * /v1/beacon to the API), or the API's port on the host the page came from.
 */
export type BeaconTarget = { url: string } | { port: number };

const require = createRequire(import.meta.url);

/**
 * The demo player: a page served by the origin that plays a channel with hls.js and shows the
 * measured latency (wall clock − PROGRAM-DATE-TIME of the frame on screen, stamped at ingest)
 * and the stalls. It also keeps its measurements for the end-to-end tests and the latency
 * bench: window.sigmaPlayer (latencies, errors, playing) and window.sigmaStalls.report()
 * (stall-monitor.ts, which counts a freeze still going on).
 */
export class PlayerAssets {
  private hlsJs: Buffer | undefined;
  private beaconJs: Buffer | undefined;

  asset(path: string): OriginReply | undefined {
    if (path === '/player/sigma-beacon.js') {
      this.beaconJs ??= Buffer.from(beaconPluginScript());
      return { status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' }, body: this.beaconJs };
    }
    if (path !== '/player/hls.min.js') return undefined;
    // Served from the installed hls.js package: no CDN, works offline.
    this.hlsJs ??= readFileSync(require.resolve('hls.js/dist/hls.min.js'));
    return { status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' }, body: this.hlsJs };
  }

  /** `beacon`: where the page's beacons go; undefined: none (the API is off). */
  page(channelId: string, beacon?: BeaconTarget): OriginReply {
    return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }, body: Buffer.from(playerHtml(channelId, beacon)) };
  }
}

/** The page's expression for the beacon URL. */
function beaconUrlExpression(beacon: BeaconTarget): string {
  return 'url' in beacon ? JSON.stringify(beacon.url)
    : `location.protocol + '//' + location.hostname + ':' + ${beacon.port} + '/v1/beacon'`;
}

function playerHtml(channelId: string, beacon: BeaconTarget | undefined): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sigma Live — ${channelId}</title>
<style>
 body{margin:0;background:#111;color:#eee;font:14px system-ui,sans-serif}
 video{width:100%;max-height:80vh;background:#000;display:block}
 #stats{padding:8px 12px;display:flex;gap:24px;flex-wrap:wrap}
 #stats b{font-variant-numeric:tabular-nums}
</style></head>
<body>
<video id="video" muted autoplay playsinline controls></video>
<div id="stats">
 <span>channel <b>${channelId}</b></span>
 <span>latency (wall clock − PDT) <b id="latency">–</b></span>
 <span>hls.js latency <b id="hlsLatency">–</b></span>
 <span>buffer <b id="buffer">–</b></span>
 <span>stalls <b id="stalls">0</b></span>
 <span>beacons <b id="beacons">${beacon ? 0 : 'off'}</b></span>
 <span id="state">loading…</span>
</div>
<script src="/player/hls.min.js"></script>
<script>${stallMonitorScript()}</script>
<script src="/player/sigma-beacon.js"></script>
<script>
(function () {
  var src = '/live/${channelId}/index.m3u8' + location.search;
  var video = document.getElementById('video');
  var state = { latencies: [], playing: false, errors: [], startedAt: 0, level: -1 };
  window.sigmaPlayer = state;
  var stalls = installStallMonitor(video);
  window.sigmaStalls = stalls;
  function show(id, text) { document.getElementById(id).textContent = text; }
  if (!window.Hls || !Hls.isSupported()) {
    if (video.canPlayType('application/vnd.apple.mpegurl')) { video.src = src; show('state', 'native HLS'); }
    else show('state', 'this browser cannot play HLS');
    return;
  }
  var hls = new Hls({ lowLatencyMode: true, backBufferLength: 30, maxLiveSyncPlaybackRate: 1.5 });
  window.sigmaHls = hls;
  var beacons = ${beacon ? `sigmaBeacon(hls, { url: ${beaconUrlExpression(beacon)} })` : 'null'};
  window.sigmaBeacons = beacons;
  hls.on(Hls.Events.ERROR, function (_, d) {
    state.errors.push({ type: d.type, details: d.details, fatal: d.fatal });
    if (d.fatal) {
      show('state', 'error: ' + d.details + ', retrying');
      if (d.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      else setTimeout(function () { hls.loadSource(src); }, 1000);
    }
  });
  hls.on(Hls.Events.MANIFEST_PARSED, function () { video.play().catch(function () {}); });
  video.addEventListener('playing', function () {
    state.playing = true; state.startedAt = state.startedAt || Date.now(); show('state', 'playing');
  });
  hls.loadSource(src);
  hls.attachMedia(video);
  setInterval(function () {
    var pd = hls.playingDate;
    if (pd && !video.paused) {
      var l = (Date.now() - pd.getTime()) / 1000;
      state.latencies.push(l);
      if (state.latencies.length > 3600) state.latencies.shift();
      show('latency', l.toFixed(2) + ' s');
    }
    if (hls.latency) show('hlsLatency', hls.latency.toFixed(2) + ' s');
    var b = video.buffered;
    if (b.length) show('buffer', (b.end(b.length - 1) - video.currentTime).toFixed(2) + ' s');
    var st = stalls.report();
    if (beacons) show('beacons', String(beacons.sent.play + beacons.sent.heartbeat + beacons.sent.pause + beacons.sent.end));
    show('stalls', st.stalls + ', ' + (st.stalledMs / 1000).toFixed(1) + ' s' + (st.stalled ? ' (stalled now)' : ''));
  }, 250);
})();
</script>
</body></html>
`;
}
