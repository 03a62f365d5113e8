/**
 * What the analytics take in (issue 17): server-side touches from delivery requests and player
 * beacons, merged into one viewer session per session key. Delivery and the beacon route only
 * produce these records; src/analytics/ counts them.
 */

/** What a viewer watches: the live edge, the DVR window behind it, or a catchup range. */
export type ViewingMode = 'live' | 'dvr' | 'catchup';

/** How the viewer was told apart (the strongest one the request had). */
export type SessionKeySource = 'token' | 'sid' | 'fallback';

/** One delivery request of a viewer (playlist, part, segment, init; not thumbnails or the API). */
export interface ViewerTouch {
  channel: string;
  /** The playback token's jti, the sid the multivariant playlist handed out, or the salted daily hash of address + user agent + channel. */
  sessionKey: string;
  keySource: SessionKeySource;
  /**
   * What unique viewers are counted by when it is not the session key: the fallback hash of a
   * sid session's client (a sid is per playback, not per viewer). Only needed on a session's
   * first touch (computing it costs an HMAC); absent: the session key.
   */
  viewerKey?: string;
  mode: ViewingMode;
  rendition?: string;
  protocol: 'h1' | 'h2';
  /** Player family from the user agent (e.g. 'browser', 'safari-native', 'exoplayer', 'ffmpeg', 'vlc', 'other'). */
  player: string;
  atMs: number;
}

/** One player beacon (POST /v1/beacon), already validated and tied to a channel. */
export interface ViewerBeacon {
  channel: string;
  sessionKey: string;
  keySource: SessionKeySource;
  event: 'play' | 'heartbeat' | 'pause' | 'end';
  mode?: ViewingMode;
  rendition?: string;
  /** Seconds into the media (live: the playhead's PROGRAM-DATE-TIME is not required). */
  positionSec?: number;
  /** Glass-to-glass or playhead-to-live-edge latency the player reports, ms. */
  latencyMs?: number;
  /** Time spent rebuffering since the previous beacon, ms. */
  rebufferMs?: number;
  player?: string;
  atMs: number;
}

/** Where delivery and the beacon route hand their records; the analytics implement it. */
export interface ViewerEventSink {
  touch(t: ViewerTouch): void;
  beacon(b: ViewerBeacon): void;
}
