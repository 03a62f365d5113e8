/**
 * The beacon plugin's script text (what /player/sigma-beacon.js serves), run in a bare VM
 * context as a page would run it, against a stand-in for hls.js and the video element whose
 * events the test fires; the clock and the interval are the test's. Real hls.js in Chromium
 * posts through it in test/integration/viewer-beacons.test.ts.
 */
import t from 'tap';
import { runInNewContext } from 'node:vm';
import { beaconPluginScript, type BeaconHandle } from '../../../src/delivery/beacon-plugin.js';
import { ScriptMedia } from '../../helpers/scripted-viewer.js';

class FakeHls {
  latency = 0;
  currentLevel = 0;
  levels = [{ height: 720 }];
  media: ScriptMedia | null = null;
  private readonly listeners = new Map<string, ((e: string, d: unknown) => void)[]>();
  on(e: string, l: (e: string, d: unknown) => void): void { this.listeners.set(e, [...(this.listeners.get(e) ?? []), l]); }
  emit(e: string, d?: unknown): void { for (const l of this.listeners.get(e) ?? []) l(e, d); }
  attach(media: ScriptMedia): void { this.media = media; this.emit('hlsMediaAttached'); }
  loaded(url: string): void { this.emit('hlsLevelLoaded', { details: { url } }); }
}

function page(href = 'https://site.example/watch') {
  let now = 1_000_000;
  let tick: (() => void) | undefined;
  const posts: { url: string; body: any }[] = [];
  const pageListeners: Record<string, () => void> = {};
  const ctx: Record<string, unknown> = {
    URL, JSON, Math, Date,
    location: { href },
    setInterval: (fn: () => void) => { tick = fn; return 1; },
    clearInterval: () => { tick = undefined; },
    addEventListener: (type: string, l: () => void) => { pageListeners[type] = l; },
  };
  runInNewContext(beaconPluginScript(), ctx);
  const start = (hls: FakeHls, o: Record<string, unknown> = {}): BeaconHandle =>
    (ctx.sigmaBeacon as (h: unknown, o: unknown) => BeaconHandle)(hls, {
      url: 'https://api.example/v1/beacon', now: () => now, send: (url: string, body: string) => posts.push({ url, body: JSON.parse(body) }), ...o,
    });
  return {
    posts, start, pageListeners,
    advance(ms: number) { now += ms; },
    heartbeat() { if (!tick) throw new Error('no heartbeat timer running'); tick(); },
    get ticking() { return tick !== undefined; },
  };
}

t.test('a heartbeat once the playlist loaded, play on the first frame, heartbeats while playing, pause, play again, end once', async (t) => {
  const p = page();
  const hls = new FakeHls(), video = new ScriptMedia();
  const handle = p.start(hls);
  hls.attach(video);
  hls.loaded('https://cdn.example/live/news/720p.m3u8?sid=SID123');
  t.same(p.posts.map((x) => x.body.event), ['heartbeat'], 'the session opens while the player starts up');
  hls.loaded('https://cdn.example/live/news/720p.m3u8?sid=SID123&_HLS_msn=10&_HLS_part=2');
  t.equal(p.posts.length, 1, 'once');
  p.posts.length = 0;
  handle.sent.heartbeat = 0;
  hls.latency = 2.345;
  video.currentTime = 12.5;
  video.fire('playing');
  t.same(p.posts, [{ url: 'https://api.example/v1/beacon', body: {
    channel: 'news', event: 'play', mode: 'live', sid: 'SID123', positionSec: 12.5, latencyMs: 2345, rebufferMs: 0, rendition: '720p' } }]);
  p.advance(10_000);
  video.currentTime = 22.5;
  p.heartbeat();
  t.match(p.posts[1].body, { event: 'heartbeat', positionSec: 22.5 });
  video.fire('pause');
  t.match(p.posts[2].body, { event: 'pause' });
  t.notOk(p.ticking, 'no heartbeats while paused');
  video.fire('playing');
  t.match(p.posts[3].body, { event: 'play' }, 'resumed');
  t.ok(p.ticking);
  p.pageListeners.pagehide();
  hls.emit('hlsDestroying');
  video.fire('ended');
  t.same(p.posts.slice(4).map((x) => x.body.event), ['end'], 'end once, whatever says so');
  t.notOk(p.ticking);
  t.same(handle.sent, { play: 2, heartbeat: 1, pause: 1, end: 1 });
});

t.test('rebuffering: from waiting to playing, the one going on counted up to the beacon, reset after each', async (t) => {
  const p = page();
  const hls = new FakeHls(), video = new ScriptMedia();
  hls.attach(video);
  p.start(hls);
  hls.loaded('/live/news/source.m3u8?sid=S');
  p.posts.length = 0;
  video.fire('waiting');
  p.advance(500);
  video.fire('playing');
  t.equal(p.posts[0].body.rebufferMs, 0, 'waiting before the first frame is start-up, not rebuffering');
  video.fire('waiting');
  p.advance(700);
  video.fire('playing');
  video.fire('waiting');
  p.advance(300);
  p.heartbeat();
  t.equal(p.posts[1].body.rebufferMs, 1000, 'a closed stall and the one going on');
  p.advance(200);
  video.fire('playing');
  p.heartbeat();
  t.equal(p.posts[2].body.rebufferMs, 200, 'only what came after the previous beacon');
  video.seeking = true;
  video.fire('waiting');
  p.advance(900);
  video.seeking = false;
  video.fire('playing');
  p.heartbeat();
  t.equal(p.posts[3].body.rebufferMs, 0, 'waiting for a seek is not rebuffering');
  t.equal(p.posts[3].body.rendition, 'source', 'the rendition from the playlist name');
});

t.test('the session: sid of the playlist, its token, else the page\'s; mode and rendition', async (t) => {
  const p = page('https://site.example/watch?token=PAGE.TOKEN');
  const hls = new FakeHls(), video = new ScriptMedia();
  hls.attach(video);
  p.start(hls);
  hls.loaded('/live/news/archive/1700000000-1700003600/index.m3u8');
  t.match(p.posts[0].body, { event: 'heartbeat', channel: 'news', token: 'PAGE.TOKEN', mode: 'catchup', rendition: '720p' },
    'the page token; height as rendition');
  t.notOk('sid' in p.posts[0].body);
  video.fire('playing');
  t.match(p.posts[1].body, { event: 'play' });
  p.posts.splice(0, 1);
  hls.loaded('/live/news/720p.m3u8?token=URL.TOKEN');
  hls.latency = 45;
  p.heartbeat();
  t.match(p.posts[1].body, { event: 'heartbeat', token: 'URL.TOKEN', mode: 'dvr' }, 'the playlist\'s token; 45 s behind: dvr');
  hls.loaded('/live/news/720p.m3u8?sid=S1&token=URL.TOKEN');
  p.heartbeat();
  t.match(p.posts[2].body, { sid: 'S1', token: 'URL.TOKEN' }, 'both: the origin picks as delivery does');
});

t.test('attached after hls.attachMedia, and with an explicit channel', async (t) => {
  const p = page();
  const hls = new FakeHls(), video = new ScriptMedia();
  hls.attach(video);
  p.start(hls, { channel: 'other' });
  hls.loaded('/live/news/720p.m3u8?sid=S');
  video.fire('playing');
  t.match(p.posts.map((x) => x.body), [{ channel: 'other', event: 'heartbeat' }, { channel: 'other', event: 'play' }]);
});

t.test('no session named (no sid, no token): nothing is sent, not even end', async (t) => {
  const p = page();
  const hls = new FakeHls(), video = new ScriptMedia();
  hls.attach(video);
  const handle = p.start(hls);
  hls.loaded('/live/news/720p.m3u8');
  video.fire('playing');
  handle.end();
  t.same(p.posts, []);
});
