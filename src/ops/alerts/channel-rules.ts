import type { IngestSnapshot } from '../../ingest/ingest-snapshot.js';
import type { ChannelState } from '../../media/channel.js';
import type { ChannelRuleName, RuleSettings } from './alert-config.js';
import { notApplicable, round, type Check } from './check.js';

/** What the channel rules read of one channel at one evaluation. */
export interface ChannelReading {
  state: ChannelState;
  ingest: IngestSnapshot;
  /** Frames dropped (ingest or packager) within the last windowMs. */
  droppedWithin(windowMs: number): number;
  /** The channel's archive writes waiting for the disk, bytes. */
  archiveQueueBytes: number;
}

const MB = 1024 * 1024;

/** A publisher that sent nothing for a second is publisherStalled's business; the rate rules wait for frames. */
const sending = (i: IngestSnapshot): boolean => i.publishing && i.lastFrameAgeMs !== null && i.lastFrameAgeMs < 1000;

/** The track whose rate the bitrate rules watch: video, or audio on an audio-only channel. */
function watchedTrack(i: IngestSnapshot): { kind: 'video' | 'audio'; kbps: number } | null {
  if (i.video) return { kind: 'video', kbps: i.video.bitrate10s / 1000 };
  if (i.audio) return { kind: 'audio', kbps: i.audio.bitrate10s / 1000 };
  return null;
}

type ChannelCheck<R extends ChannelRuleName> = (r: ChannelReading, s: RuleSettings<R>) => Check;

export const CHANNEL_CHECKS: { [R in ChannelRuleName]: ChannelCheck<R> } = {
  publisherStalled(r, s) {
    const age = r.ingest.lastFrameAgeMs;
    if (!r.ingest.publishing || age === null || (r.state !== 'live' && r.state !== 'preview')) {
      return notApplicable(s.afterSec, 's', 'no publisher connected');
    }
    const sec = round(age / 1000);
    return { breached: age >= s.afterSec * 1000, value: sec, threshold: s.afterSec, unit: 's',
      message: `last frame ${sec} s ago, the publisher is connected (stalled after ${s.afterSec} s)` };
  },

  bitrateLow(r, s) {
    const t = sending(r.ingest) ? watchedTrack(r.ingest) : null;
    if (!t) return notApplicable(s.minKbps, 'kbit/s', 'no media arriving');
    const floor = t.kind === 'video' ? s.minKbps : s.audioOnlyMinKbps;
    return { breached: t.kbps < floor, value: round(t.kbps), threshold: floor, unit: 'kbit/s',
      message: `${t.kind} bitrate ${round(t.kbps)} kbit/s over 10 s (floor ${floor} kbit/s)` };
  },

  bitrateHigh(r, s) {
    const t = sending(r.ingest) ? watchedTrack(r.ingest) : null;
    if (!t) return notApplicable(s.maxKbps, 'kbit/s', 'no media arriving');
    const ceiling = t.kind === 'video' ? s.maxKbps : s.audioOnlyMaxKbps;
    return { breached: t.kbps > ceiling, value: round(t.kbps), threshold: ceiling, unit: 'kbit/s',
      message: `${t.kind} bitrate ${round(t.kbps)} kbit/s over 10 s (ceiling ${ceiling} kbit/s)` };
  },

  keyframeInterval(r, s) {
    const k = r.ingest.publishing ? r.ingest.video?.keyframeInterval : null;
    if (!k) return notApplicable(s.maxSec, 's', 'no keyframe interval measured this session');
    const sec = round(k.lastMs / 1000);
    return { breached: k.lastMs > s.maxSec * 1000, value: sec, threshold: s.maxSec, unit: 's',
      message: `keyframes ${sec} s apart (at most ${s.maxSec} s: segments longer than the target duration)` };
  },

  avDrift(r, s) {
    const d = r.ingest.publishing ? r.ingest.avDriftMs : null;
    if (d === null) return notApplicable(s.maxMs, 'ms', 'not both audio and video arriving');
    return { breached: Math.abs(d) > s.maxMs, value: d, threshold: s.maxMs, unit: 'ms',
      message: `audio ${d >= 0 ? 'ahead of' : 'behind'} video by ${Math.abs(d)} ms (at most ${s.maxMs} ms)` };
  },

  framesDropped(r, s) {
    const n = r.droppedWithin(s.windowSec * 1000);
    return { breached: n >= s.minFrames, value: n, threshold: s.minFrames, unit: 'frames',
      message: `${n} frames dropped in the last ${s.windowSec} s (alert at ${s.minFrames})` };
  },

  transcodeSlow(r, s) {
    const rungs = (r.ingest.publishing ? r.ingest.pipeline?.rungs ?? [] : []).filter((g) => g.realTimeFactor !== null);
    if (rungs.length === 0) return notApplicable(s.minRealTimeFactor, 'x', 'no rung measured');
    const slowest = rungs.reduce((a, b) => (b.realTimeFactor! < a.realTimeFactor! ? b : a));
    const f = round(slowest.realTimeFactor!);
    return { breached: f < s.minRealTimeFactor, value: f, threshold: s.minRealTimeFactor, unit: 'x',
      message: `rung ${slowest.name} encodes at ${f}× real time (at least ${s.minRealTimeFactor}×)` };
  },

  archiveQueue(r, s) {
    const mb = round(r.archiveQueueBytes / MB);
    return { breached: r.archiveQueueBytes > s.maxMb * MB, value: mb, threshold: s.maxMb, unit: 'MB',
      message: `${mb} MB of archive writes waiting for the disk (at most ${s.maxMb} MB)` };
  },
};
