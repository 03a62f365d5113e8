import { sigmaBeacon, type BeaconHandle, type BeaconHls, type BeaconMedia } from '../../src/delivery/beacon-plugin.js';
import type { ViewerRecord } from './llhls-viewer.js';

/**
 * A viewer without a browser, for audiences of hundreds on one test machine: it plays a channel
 * as an LL-HLS player does (the multivariant playlist, then its media playlist with the sid the
 * origin put on its URI, then a blocking reload for the part the preload hint names and a fetch
 * of that part, over and over), and reports itself with the real beacon plugin
 * (src/delivery/beacon-plugin.ts), driven through the few hls.js events and media events it
 * listens to. It records when it started and stopped watching: the truth the analytics are
 * checked against, as a ViewerRecord (presentAt and watchedMs of llhls-viewer.ts count them).
 * Unlike watchLlHls there, it joins and leaves when told, and plays through a stand-in for hls.js.
 */

/** The media element the beacon plugin watches: its few fields and events, fired by hand. */
export class ScriptMedia implements BeaconMedia {
  currentTime = 0;
  paused = true;
  seeking = false;
  private readonly listeners = new Map<string, (() => void)[]>();
  addEventListener(type: string, l: () => void): void { this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]); }
  fire(type: string): void { for (const l of this.listeners.get(type) ?? []) l(); }
}

class ScriptHls implements BeaconHls {
  latency = 0;
  currentLevel = 0;
  levels = [] as { height?: number }[];
  readonly media = new ScriptMedia();
  private readonly listeners = new Map<string, ((e: string, d: unknown) => void)[]>();
  on(e: string, l: (e: string, d: unknown) => void): void { this.listeners.set(e, [...(this.listeners.get(e) ?? []), l]); }
  emit(e: string, d?: unknown): void { for (const l of this.listeners.get(e) ?? []) l(e, d); }
}

export interface ScriptedViewerOptions {
  /** Where playlists and parts come from: the origin's delivery port, or the proxy in front of it. */
  base: string;
  channel: string;
  /** POST /v1/beacon, on the API port or through the proxy. */
  beaconUrl: string;
  /** Each viewer its own (players differ; the origin's fallback key mixes it in). */
  userAgent: string;
  heartbeatMs?: number;
}

const PRELOAD_HINT = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/;
const PART_NAME = /\/(\d+)\.(\d+)\.m4s(?:\?|$)/;

export class ScriptedViewer implements ViewerRecord {
  readonly name: string;
  requests = 0;
  /** Epoch ms of the first media playlist request (the session's first sign at the origin), of `play`, and of `end`. */
  joinedAt: number | undefined;
  playAt: number | undefined;
  leftAt: number | undefined;
  partsFetched = 0;
  /** Failed requests and refused beacons (none expected). */
  readonly errors: string[] = [];
  beaconsRefused = 0;
  private readonly hls = new ScriptHls();
  private readonly abort = new AbortController();
  private readonly beacon: BeaconHandle;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: ScriptedViewerOptions) {
    this.name = o.userAgent;
    this.beacon = sigmaBeacon(this.hls, {
      url: o.beaconUrl, intervalMs: o.heartbeatMs ?? 10_000,
      send: (url, body) => { void this.post(url, body); },
    });
  }

  /** Resolves once the first part played (`play` sent); the viewer then keeps playing until leave(). */
  async join(): Promise<void> {
    let playing!: () => void;
    const started = new Promise<void>((resolve) => { playing = resolve; });
    this.loop = this.play(playing).catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.errors.push(`stopped: ${String(err)}`);
    });
    const failed = this.loop.then(() => {
      if (this.playAt === undefined) throw new Error(`viewer did not start: ${this.errors.join('; ')}`);
    });
    await Promise.race([started, failed]);
  }

  /** Sends `end` (as the plugin does on pagehide) and stops requesting; once. */
  async leave(): Promise<void> {
    if (this.leftAt !== undefined) return;
    this.leftAt = Date.now();
    this.beacon.end();
    this.abort.abort();
    await this.loop;
  }

  get beaconsSent(): number {
    const s = this.beacon.sent;
    return s.play + s.heartbeat + s.pause + s.end;
  }

  private async post(url: string, body: string): Promise<void> {
    try {
      const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain', 'user-agent': this.o.userAgent } });
      await r.arrayBuffer();
      if (r.status !== 204) {
        this.beaconsRefused++;
        this.errors.push(`beacon ${r.status}`);
      }
    } catch (err) {
      this.beaconsRefused++;
      this.errors.push(`beacon: ${String(err)}`);
    }
  }

  private async get(url: string): Promise<string> {
    this.requests++;
    const r = await fetch(url, { signal: this.abort.signal, headers: { 'user-agent': this.o.userAgent } });
    const body = await r.text();
    if (r.status !== 200) throw new Error(`${r.status} ${url}`);
    return body;
  }

  private async play(playing: () => void): Promise<void> {
    const multivariantUrl = `${this.o.base}/live/${this.o.channel}/index.m3u8`;
    const multivariant = await this.get(multivariantUrl);
    const variant = multivariant.split('\n').find((l) => l !== '' && !l.startsWith('#'));
    if (!variant) throw new Error('no variant in the multivariant playlist');
    const mediaUrl = new URL(variant, multivariantUrl);
    this.joinedAt = Date.now();
    let playlist = await this.get(mediaUrl.href);
    for (;;) {
      // The URL as hls.js reports it in LEVEL_LOADED: the plugin reads sid, channel and rendition from it.
      this.hls.emit('hlsLevelLoaded', { details: { url: mediaUrl.href } });
      const hint = PRELOAD_HINT.exec(playlist);
      const name = hint ? PART_NAME.exec(hint[1]) : null;
      if (!hint || !name) throw new Error('no preload hint for a part in the media playlist');
      // Blocking reload: answered once the hinted part is listed; then that part is fetched.
      const reload = new URL(mediaUrl);
      reload.searchParams.set('_HLS_msn', name[1]);
      reload.searchParams.set('_HLS_part', name[2]);
      playlist = await this.get(reload.href);
      await this.get(new URL(hint[1], mediaUrl).href);
      this.partsFetched++;
      if (this.playAt === undefined) {
        this.playAt = Date.now();
        this.hls.media.paused = false;
        this.hls.media.fire('playing');
        playing();
      }
      this.hls.media.currentTime = (Date.now() - this.playAt) / 1000;
    }
  }
}
