import { parseM3u8 } from './m3u8.js';
import type { Channel } from '../../src/media/channel.js';
import { VIDEO_TRACK_ID } from '../../src/ingest/rtmp/flv.js';

/** A segment as first seen in a media playlist. */
export interface ListedSegment {
  msn: number;
  /** PROGRAM-DATE-TIME of its first frame (epoch ms): the wall clock when that frame reached the origin. */
  pdtMs: number;
  durationMs: number;
  /**
   * PROGRAM-DATE-TIME + EXTINF: when its last frame's successor reached the origin, i.e. the
   * earliest the origin can know the segment is complete (it ends at the next keyframe).
   */
  endMs: number;
  /** Date.now() when the first response listing it arrived. */
  listedAt: number;
  /** listedAt − endMs. */
  delayMs: number;
  discontinuity: boolean;
}

/** A running probe; stop() ends the polling and resolves with what it saw. */
export interface ListingProbe {
  /** Segments listed after the probe's first response, in order. */
  readonly segments: ListedSegment[];
  /** Requests that failed or did not answer 200 once the playlist was there (message each). */
  readonly errors: string[];
  readonly intervalMs: number;
  stop(): Promise<ListedSegment[]>;
}

/**
 * Polls a media playlist every `intervalMs` (plain reloads, as a non-LL player does) and records
 * when each segment's EXTINF first appears, against when the segment could first have been
 * listed (PROGRAM-DATE-TIME + EXTINF). Segments already listed in the first response are the
 * baseline and not measured. The times are this process's clock, the same machine's as the
 * origin's PROGRAM-DATE-TIME; a listing is seen at most `intervalMs` + one request late.
 */
export function probeListing(playlistUrl: string, o: { intervalMs?: number } = {}): ListingProbe {
  const intervalMs = o.intervalMs ?? 50;
  const segments: ListedSegment[] = [];
  const errors: string[] = [];
  let baseline: number | undefined; // highest MSN of the first response
  let lastSeen = -1;
  let stopped = false;
  const poll = async () => {
    try {
      const r = await fetch(playlistUrl, { signal: AbortSignal.timeout(5000) });
      const text = await r.text();
      const at = Date.now();
      if (r.status !== 200) { if (baseline !== undefined) errors.push(`${r.status} ${text.slice(0, 200)}`); return; }
      const { manifest } = parseM3u8(text);
      const listed = manifest.segments as { duration: number; dateTimeString?: string; discontinuity?: boolean }[];
      const first = manifest.mediaSequence as number;
      listed.forEach((s, i) => {
        const msn = first + i;
        if (baseline === undefined || msn <= lastSeen || s.dateTimeString === undefined) return;
        const pdtMs = Date.parse(s.dateTimeString), durationMs = s.duration * 1000;
        segments.push({ msn, pdtMs, durationMs, endMs: pdtMs + durationMs, listedAt: at, delayMs: at - (pdtMs + durationMs), discontinuity: !!s.discontinuity });
      });
      if (listed.length) lastSeen = Math.max(lastSeen, first + listed.length - 1);
      baseline ??= lastSeen;
    } catch (e) {
      if (baseline !== undefined) errors.push(String(e));
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      await poll();
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
    }
  })();
  return {
    segments, errors, intervalMs,
    async stop() {
      stopped = true;
      await loop;
      return segments;
    },
  };
}

/** A video keyframe as it reached the origin's ingest. */
export interface KeyframeArrival {
  dtsMs: number;
  /** Date.now() when ingest handed it on. */
  at: number;
}

/**
 * Records when each video keyframe of a channel reached ingest, by wrapping the channel's ingest
 * meter (which sees every frame as it arrives). A segment ends where the next keyframe begins, so
 * that keyframe's arrival is the earliest the origin can list the segment; PROGRAM-DATE-TIME +
 * EXTINF is that moment only when the publisher keeps real time, which a publisher on a loaded
 * machine does not always do.
 */
export function recordKeyframeArrivals(channel: Pick<Channel, 'meter'>): KeyframeArrival[] {
  const arrivals: KeyframeArrival[] = [];
  const meter = channel.meter;
  const frame = meter.frame.bind(meter);
  meter.frame = (au) => {
    if (au.trackId === VIDEO_TRACK_ID && au.keyframe) arrivals.push({ dtsMs: au.dts, at: Date.now() });
    frame(au);
  };
  return arrivals;
}

/** A listed segment measured against the arrival of the keyframe that ends it. */
export interface ArrivalListing {
  msn: number;
  /** listedAt − the closing keyframe's arrival: the origin's own delay. */
  originDelayMs: number;
  /** The closing keyframe's arrival − (PDT + EXTINF): how far behind real time the publisher was. */
  publisherLagMs: number;
}

/**
 * Pairs each listed segment with the keyframe that ends it: the one whose media time, put on the
 * wall clock by the smallest arrival − dts seen (the origin's own PROGRAM-DATE-TIME rule), is
 * nearest the segment's end. Segments with no keyframe within `toleranceMs` are left out.
 */
export function listingAgainstArrivals(listed: readonly ListedSegment[], arrivals: readonly KeyframeArrival[], toleranceMs = 500): ArrivalListing[] {
  if (!arrivals.length) return [];
  const offset = Math.min(...arrivals.map((k) => k.at - k.dtsMs));
  const out: ArrivalListing[] = [];
  for (const s of listed) {
    let best: KeyframeArrival | undefined;
    for (const k of arrivals) if (!best || Math.abs(offset + k.dtsMs - s.endMs) < Math.abs(offset + best.dtsMs - s.endMs)) best = k;
    if (!best || Math.abs(offset + best.dtsMs - s.endMs) > toleranceMs) continue;
    out.push({ msn: s.msn, originDelayMs: s.listedAt - best.at, publisherLagMs: best.at - s.endMs });
  }
  return out;
}
