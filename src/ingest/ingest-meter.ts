import type { AccessUnit, TrackInfo } from '../media/types.js';
import { aacCodecString, avcCodecString } from '../media/codec-string.js';
import type { IngestSnapshot, IngestTotals, PipelineSnapshot, RungSnapshot } from './ingest-snapshot.js';

/** Arrival time is counted in buckets of this many ms; 100 whole ones make the 10 s window. */
const BUCKET_MS = 100;
const WINDOW_MS = 10_000;
/** The whole buckets of the window, and the one filling now (never read: it would under-count). */
const BUCKETS = WINDOW_MS / BUCKET_MS + 1;
/** Drift is the median over this many samples per track (about 10 s of audio at 48 kHz). */
const DRIFT_SAMPLES = 64;

/**
 * Bytes and frames per arrival bucket, in a ring: a frame costs an addition, a reading sums
 * at most 100 buckets. Buckets older than the window are cleared lazily as time moves on.
 */
class ArrivalRing {
  private readonly bytes = new Float64Array(BUCKETS);
  private readonly frames = new Uint32Array(BUCKETS);
  /** Absolute bucket number (time / BUCKET_MS) of the newest bucket written or cleared; NaN before the first. */
  private head = NaN;

  add(nowMs: number, bytes: number): void {
    const b = this.advance(nowMs);
    this.bytes[slot(b)] += bytes;
    this.frames[slot(b)]++;
  }

  /** Sums of the whole buckets of the last `spanMs` of arrival (the one filling now excluded). */
  sum(nowMs: number, spanMs: number): { bytes: number; frames: number } {
    const b = this.advance(nowMs);
    let bytes = 0, frames = 0;
    for (let i = 1; i <= Math.min(BUCKETS - 1, spanMs / BUCKET_MS); i++) {
      bytes += this.bytes[slot(b - i)];
      frames += this.frames[slot(b - i)];
    }
    return { bytes, frames };
  }

  private advance(nowMs: number): number {
    const b = Math.floor(nowMs / BUCKET_MS);
    if (Number.isNaN(this.head)) this.head = b - BUCKETS;
    for (let n = Math.max(this.head + 1, b - BUCKETS + 1); n <= b; n++) {
      this.bytes[slot(n)] = 0;
      this.frames[slot(n)] = 0;
    }
    this.head = Math.max(this.head, b);
    return this.head;
  }
}

/** The ring index of an absolute bucket number (which may be negative on a test clock). */
function slot(bucket: number): number {
  return ((bucket % BUCKETS) + BUCKETS) % BUCKETS;
}

/** A track's clock against the arrival clock: dts − arrival, a median over recent frames. */
class ClockOffset {
  private readonly samples: number[] = [];
  private next = 0;

  add(offsetMs: number): void {
    if (this.samples.length < DRIFT_SAMPLES) this.samples.push(offsetMs);
    else this.samples[this.next] = offsetMs;
    this.next = (this.next + 1) % DRIFT_SAMPLES;
  }

  median(): number | undefined {
    if (this.samples.length === 0) return undefined;
    const s = [...this.samples].sort((a, b) => a - b);
    return s[s.length >> 1];
  }
}

interface TrackMeter {
  info: TrackInfo;
  codec: string;
  ring: ArrivalRing;
  clock: ClockOffset;
  lastDts: number;
}

/** What a pipeline reports of itself (CmafPipeline.stats()). */
export interface PipelineCounters {
  queued: number;
  dropped: number;
  rungs?: Array<{ name: string; encoded: number; dropped: number; decimated: number }>;
}

interface RungSample {
  atMs: number;
  /** Source video frames arrived so far this session. */
  sourceFrames: number;
  /** Per rung: frames encoded or skipped for the frame-rate cap (both keep up with real time). */
  handled: Map<string, number>;
}

/**
 * One channel's ingest figures, measured from the access units as they reach the channel:
 * rates over 1 s and 10 s of arrival, frame rate, keyframe intervals, the two tracks' clock
 * drift, drops and late frames. Session figures restart with each publish; totals never do.
 */
export class IngestMeter {
  private readonly totals: IngestTotals = { bytesIn: 0, framesIn: 0, droppedFrames: 0, lateFrames: 0, reconnects: 0, sessions: 0 };
  private session: {
    startedAt: number;
    address: string;
    software: string | null;
    tracks: Map<number, TrackMeter>;
    lastFrameAt: number | null;
    lastKeyframeDts: number | null;
    keyframeInterval: { minMs: number; maxMs: number; lastMs: number } | null;
    videoFrames: number;
    /** Pipeline drops already counted in the totals (the pipeline counts per session). */
    pipelineDropped: number;
    rungSamples: RungSample[];
  } | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** A publisher connected; `reconnect` when it continues the previous session. */
  startSession(address: string, reconnect: boolean): void {
    this.totals.sessions++;
    if (reconnect) this.totals.reconnects++;
    this.session = { startedAt: this.now(), address, software: null, tracks: new Map(), lastFrameAt: null, lastKeyframeDts: null,
      keyframeInterval: null, videoFrames: 0, pipelineDropped: 0, rungSamples: [] };
  }

  /** Another input of the channel went on air (backup inputs): the session goes on, its publisher is another. */
  switchPublisher(address: string, software: string | undefined): void {
    if (!this.session) return;
    this.session.address = address;
    this.session.software = software?.slice(0, 200) ?? null;
  }

  /** The publisher's software as it names itself (RTMP flashVer, onMetaData encoder). */
  setSoftware(software: string): void {
    if (this.session) this.session.software = software.slice(0, 200);
  }

  setTracks(tracks: readonly TrackInfo[]): void {
    const s = this.session;
    if (!s) return;
    for (const t of tracks) {
      const prev = s.tracks.get(t.id);
      const codec = t.kind === 'video' ? safeCodec(() => avcCodecString(t.codecConfig)) : safeCodec(() => aacCodecString(t.codecConfig));
      // A codec change keeps the track's rates: it is the same publisher's stream going on.
      s.tracks.set(t.id, prev ? { ...prev, info: t, codec } : { info: t, codec, ring: new ArrivalRing(), clock: new ClockOffset(), lastDts: -Infinity });
    }
  }

  /** One access unit arrived. Called for every frame: a few additions, no allocation. */
  frame(au: AccessUnit): void {
    const s = this.session;
    if (!s) return;
    const t = this.now();
    s.lastFrameAt = t;
    this.totals.framesIn++;
    this.totals.bytesIn += au.data.length;
    const track = s.tracks.get(au.trackId);
    if (!track) return;
    track.ring.add(t, au.data.length);
    if (au.dts <= track.lastDts) this.totals.lateFrames++;
    track.lastDts = Math.max(track.lastDts, au.dts);
    track.clock.add((au.dts * 1000) / track.info.timescale - t);
    if (track.info.kind !== 'video') return;
    s.videoFrames++;
    if (!au.keyframe) return;
    const dtsMs = (au.dts * 1000) / track.info.timescale;
    if (s.lastKeyframeDts !== null && dtsMs > s.lastKeyframeDts) {
      const gap = Math.round(dtsMs - s.lastKeyframeDts);
      const k = s.keyframeInterval;
      s.keyframeInterval = k ? { minMs: Math.min(k.minMs, gap), maxMs: Math.max(k.maxMs, gap), lastMs: gap } : { minMs: gap, maxMs: gap, lastMs: gap };
    }
    s.lastKeyframeDts = dtsMs;
  }

  /** Frames refused before the pipeline (ingest) or by it (counted here from its stats). */
  dropped(n = 1): void {
    this.totals.droppedFrames += n;
  }

  endSession(): void {
    this.session = null;
  }

  get publishing(): boolean {
    return this.session !== null;
  }

  snapshot(pipeline?: PipelineCounters): IngestSnapshot {
    const s = this.session;
    const t = this.now();
    if (pipeline && s && pipeline.dropped > s.pipelineDropped) {
      this.totals.droppedFrames += pipeline.dropped - s.pipelineDropped;
      s.pipelineDropped = pipeline.dropped;
    }
    const base = { totals: { ...this.totals } };
    if (!s) return { publishing: false, sessionStartedAt: null, publisher: null, video: null, audio: null, avDriftMs: null, lastFrameAgeMs: null, pipeline: null, transport: null, ...base };
    // A session younger than the window is averaged over its own whole buckets, not diluted by empty ones.
    const span10 = Math.max(BUCKET_MS, Math.min(WINDOW_MS, Math.floor((t - s.startedAt) / BUCKET_MS) * BUCKET_MS));
    const span1 = Math.min(1000, span10);
    const rates = (m: TrackMeter) => ({
      bitrate1s: Math.round((m.ring.sum(t, span1).bytes * 8 * 1000) / span1),
      bitrate10s: Math.round((m.ring.sum(t, span10).bytes * 8 * 1000) / span10),
    });
    let video: IngestSnapshot['video'] = null, audio: IngestSnapshot['audio'] = null;
    let videoClock: number | undefined, audioClock: number | undefined;
    for (const m of s.tracks.values()) {
      if (m.info.kind === 'video') {
        const frames = m.ring.sum(t, span10).frames;
        video = { codec: m.codec, width: m.info.width, height: m.info.height, ...rates(m),
          frameRate: Math.round((frames * 1000 * 100) / span10) / 100, keyframeInterval: s.keyframeInterval && { ...s.keyframeInterval } };
        videoClock = m.clock.median();
      } else {
        audio = { codec: m.codec, sampleRate: m.info.sampleRate, channels: m.info.channels, ...rates(m) };
        audioClock = m.clock.median();
      }
    }
    return {
      publishing: true,
      sessionStartedAt: s.startedAt,
      publisher: { address: s.address, software: s.software },
      video, audio,
      avDriftMs: videoClock !== undefined && audioClock !== undefined ? Math.round(audioClock - videoClock) : null,
      lastFrameAgeMs: s.lastFrameAt === null ? null : t - s.lastFrameAt,
      pipeline: pipeline ? this.pipelineSnapshot(pipeline, t) : null,
      transport: null,
      ...base,
    };
  }

  /**
   * A rung's real-time factor: the source frames it encoded (or skipped for its frame-rate cap)
   * per source frame arrived, over the last 10 s; below 1 its encoder falls behind and drops.
   */
  private pipelineSnapshot(p: PipelineCounters, t: number): PipelineSnapshot {
    const s = this.session!;
    const handled = new Map((p.rungs ?? []).map((r) => [r.name, r.encoded + r.decimated]));
    const samples = s.rungSamples;
    if (samples.length === 0 || t - samples[samples.length - 1].atMs >= 1000) {
      samples.push({ atMs: t, sourceFrames: s.videoFrames, handled });
      while (samples.length > 2 && t - samples[1].atMs >= WINDOW_MS) samples.shift();
    }
    const from = samples[0];
    const old = t - from.atMs >= WINDOW_MS;
    const rungs: RungSnapshot[] = (p.rungs ?? []).map((r) => {
      const arrived = s.videoFrames - from.sourceFrames;
      const done = (handled.get(r.name) ?? 0) - (from.handled.get(r.name) ?? 0);
      return { name: r.name, framesEncoded: r.encoded, framesDropped: r.dropped,
        realTimeFactor: old && arrived > 0 ? Math.round((done / arrived) * 1000) / 1000 : null };
    });
    return { queued: p.queued, dropped: p.dropped, rungs };
  }
}

function safeCodec(f: () => string): string {
  try {
    return f();
  } catch {
    return 'unknown';
  }
}
