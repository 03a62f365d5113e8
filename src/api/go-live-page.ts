/**
 * The "Go live" page (issue 20): a broadcaster opens it in a browser, picks the camera or a
 * screen, gives the channel and its stream key or a publish token, and is live through WHIP
 * (this API's POST /v1/whip/<channel>, same origin: no CORS preflight), with a preview of what
 * viewers get (the channel's LL-HLS in hls.js) and its latency. No build step and no framework:
 * one page of plain script, served by the API so it works wherever the API is reachable.
 *
 * What it sends: H.264 first (the origin passes video through; Chromium and Safari both encode
 * it), Opus audio (transcoded to AAC by the origin), the resolution kept under congestion
 * (degradationPreference 'maintain-resolution': a new resolution would start a new init segment
 * for every viewer), and a bitrate cap the broadcaster picks.
 */

/** Where the page finds the channel's HLS: a public URL, or the HTTP port on the host it came from. */
export type PlaybackBase = { url: string } | { port: number };

function playbackBaseExpression(base: PlaybackBase): string {
  return 'url' in base ? JSON.stringify(base.url.replace(/\/$/, '')) : `location.protocol + '//' + location.hostname + ':' + ${base.port}`;
}

export function goLiveHtml(base: PlaybackBase): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sigma Live — Go live</title>
<style>
 :root{color-scheme:dark}
 body{margin:0;background:#111;color:#eee;font:15px system-ui,sans-serif}
 main{max-width:1100px;margin:0 auto;padding:12px}
 h1{font-size:20px;margin:4px 0 12px}
 form{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:10px;align-items:end}
 label{display:flex;flex-direction:column;gap:4px;font-size:13px;color:#ccc}
 input,select,button{font:inherit;padding:8px;border-radius:6px;border:1px solid #555;background:#1d1d1d;color:#eee}
 button{background:#c62828;border-color:#c62828;color:#fff;font-weight:600;cursor:pointer}
 button.stop{background:#444;border-color:#777}
 button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #ffb300;outline-offset:2px}
 .videos{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px;margin-top:14px}
 figure{margin:0} figcaption{font-size:13px;color:#bbb;padding:4px 0}
 video{width:100%;aspect-ratio:16/9;background:#000;display:block;border-radius:6px}
 #status{margin-top:10px;min-height:1.4em} #status.error{color:#ff8a80}
 b{font-variant-numeric:tabular-nums}
</style></head>
<body><main>
<h1>Go live</h1>
<form id="form">
 <label>Channel <input id="channel" name="channel" required autocomplete="off" pattern="[a-z0-9][a-z0-9_\\-]{0,63}"></label>
 <label>Stream key or publish token <input id="credential" name="credential" type="password" required autocomplete="off"></label>
 <label>Source <select id="source"><option value="camera">Camera and microphone</option><option value="screen">Screen (and its audio)</option></select></label>
 <label>Quality <select id="quality"><option value="360">360p, 0.8 Mb/s</option><option value="540">540p, 1.5 Mb/s</option><option value="720" selected>720p, 2.5 Mb/s</option><option value="1080">1080p, 4.5 Mb/s</option></select></label>
 <button id="go" type="submit">Go live</button>
</form>
<p id="status" role="status" aria-live="polite">Not live.</p>
<div class="videos">
 <figure><video id="local" muted autoplay playsinline aria-label="Your camera or screen"></video><figcaption>You (sent)</figcaption></figure>
 <figure><video id="preview" muted autoplay playsinline controls aria-label="What viewers see"></video>
  <figcaption>Viewers see (LL-HLS) · latency <b id="latency">–</b></figcaption></figure>
</div>
</main>
<script>
(function () {
  var PLAYBACK = ${playbackBaseExpression(base)};
  var BITRATES = { 360: 800000, 540: 1500000, 720: 2500000, 1080: 4500000 };
  var form = document.getElementById('form'), go = document.getElementById('go');
  var statusEl = document.getElementById('status');
  var state = { live: false, pc: null, stream: null, session: null, hls: null, latencies: [], errors: [], whip: null };
  window.sigmaGoLive = state;
  function say(text, error) { statusEl.textContent = text; statusEl.className = error ? 'error' : ''; if (error) state.errors.push(text); }
  // Prefilled from the fragment (#channel=…&token=…): a fragment never reaches a server's logs.
  var hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('channel')) document.getElementById('channel').value = hash.get('channel');
  if (hash.get('token')) document.getElementById('credential').value = hash.get('token');

  async function capture(source, height) {
    var video = { height: { ideal: height }, frameRate: { ideal: 30 } };
    if (source === 'screen') return navigator.mediaDevices.getDisplayMedia({ video: video, audio: true });
    return navigator.mediaDevices.getUserMedia({ video: video, audio: true });
  }

  function preferH264(transceiver) {
    if (!transceiver.setCodecPreferences || !window.RTCRtpReceiver || !RTCRtpReceiver.getCapabilities) return;
    var codecs = RTCRtpReceiver.getCapabilities('video').codecs;
    var h264 = codecs.filter(function (c) { return /h264/i.test(c.mimeType) && /packetization-mode=1/.test(c.sdpFmtpLine || ''); });
    if (h264.length) transceiver.setCodecPreferences(h264);
  }

  function iceGathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', function () { if (pc.iceGatheringState === 'complete') resolve(); });
      setTimeout(resolve, 2000); // host candidates come at once; do not wait on an unreachable server
    });
  }

  async function start() {
    var channel = document.getElementById('channel').value.trim();
    var credential = document.getElementById('credential').value.trim();
    var height = Number(document.getElementById('quality').value);
    go.disabled = true;
    say('Opening the ' + document.getElementById('source').value + '…');
    try {
      var stream = state.stream = await capture(document.getElementById('source').value, height);
      document.getElementById('local').srcObject = stream;
      var pc = state.pc = new RTCPeerConnection();
      stream.getTracks().forEach(function (track) {
        var t = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream],
          sendEncodings: track.kind === 'video' ? [{ maxBitrate: BITRATES[height] }] : undefined });
        if (track.kind === 'video') {
          preferH264(t);
          var p = t.sender.getParameters();
          p.degradationPreference = 'maintain-resolution';
          t.sender.setParameters(p).catch(function () {});
        }
      });
      if (!stream.getAudioTracks().length) pc.addTransceiver('audio', { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc);
      say('Connecting to the origin…');
      var res = await fetch('/v1/whip/' + encodeURIComponent(channel), { method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: 'Bearer ' + credential }, body: pc.localDescription.sdp });
      if (res.status !== 201) {
        var body = await res.json().catch(function () { return null; });
        throw new Error((body && body.error ? body.error.message : 'HTTP ' + res.status) + ' (' + res.status + ')');
      }
      state.session = new URL(res.headers.get('Location'), location.href).href;
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      pc.addEventListener('connectionstatechange', function () {
        if (pc.connectionState === 'connected') say('Live on ' + channel + '.');
        if (pc.connectionState === 'failed') { say('The connection to the origin failed.', true); stop(); }
      });
      state.live = true;
      go.textContent = 'Stop'; go.className = 'stop';
      preview(channel);
    } catch (err) {
      say('Could not go live: ' + err.message, true);
      stop();
    } finally {
      go.disabled = false;
    }
  }

  function stop() {
    if (state.session) fetch(state.session, { method: 'DELETE' }).catch(function () {});
    if (state.pc) state.pc.close();
    if (state.stream) state.stream.getTracks().forEach(function (t) { t.stop(); });
    if (state.hls) state.hls.destroy();
    if (state.live) say('Not live.');
    state.live = false; state.pc = state.stream = state.session = state.hls = null;
    go.textContent = 'Go live'; go.className = '';
  }

  function preview(channel) {
    var video = document.getElementById('preview');
    var src = PLAYBACK + '/live/' + encodeURIComponent(channel) + '/index.m3u8';
    var load = function () {
      if (!state.live) return;
      if (!window.Hls || !Hls.isSupported()) { video.src = src; return; } // Safari: native HLS
      var hls = state.hls = new Hls({ lowLatencyMode: true, manifestLoadPolicy: { default: { maxTimeToFirstByteMs: 10000, maxLoadTimeMs: 20000,
        timeoutRetry: { maxNumRetry: 20, retryDelayMs: 500, maxRetryDelayMs: 1000 }, errorRetry: { maxNumRetry: 20, retryDelayMs: 500, maxRetryDelayMs: 1000 } } } });
      hls.on(Hls.Events.MANIFEST_PARSED, function () { video.play().catch(function () {}); });
      hls.on(Hls.Events.ERROR, function (_, d) { if (d.fatal) { hls.destroy(); setTimeout(load, 1000); } });
      hls.loadSource(src);
      hls.attachMedia(video);
    };
    if (window.Hls) return load();
    var s = document.createElement('script');
    s.src = PLAYBACK + '/player/hls.min.js';
    s.onload = load;
    s.onerror = function () { video.src = src; };
    document.head.appendChild(s);
  }

  setInterval(function () {
    var pd = state.hls && state.hls.playingDate;
    if (pd && !document.getElementById('preview').paused) {
      var l = (Date.now() - pd.getTime()) / 1000;
      state.latencies.push(l);
      if (state.latencies.length > 600) state.latencies.shift();
      document.getElementById('latency').textContent = l.toFixed(2) + ' s';
    }
  }, 500);

  form.addEventListener('submit', function (e) { e.preventDefault(); if (state.live) stop(); else start(); });
  window.addEventListener('pagehide', stop);
})();
</script>
</body></html>
`;
}
