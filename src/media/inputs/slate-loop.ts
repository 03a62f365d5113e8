import type { AccessUnit, TrackInfo } from '../types.js';

/** An encoded loop of the slate (src/addon/slate-encoder.ts makes it): every AU from 0 ms. */
export interface SlateClipLike {
  tracks: TrackInfo[];
  units: AccessUnit[];
  durationMs: number;
}

/**
 * Plays a slate clip on the channel's timeline in real time: repetition k of the clip is shifted
 * by k × its duration after `startDts`, and each AU is released once the wall clock reaches it
 * (wall = epoch + dts), as an encoder would send it. Each repetition starts with a keyframe.
 */
export class SlateLoop {
  private loop = 0;
  private index = 0;

  constructor(private readonly clip: SlateClipLike, private readonly startDts: number, private readonly epochMs: number) {
    if (clip.units.length === 0 || clip.durationMs <= 0) throw new Error('empty slate clip');
  }

  get tracks(): TrackInfo[] {
    return this.clip.tracks;
  }

  /** The AUs due by `now` (epoch ms), in order; bounded so a stalled event loop does not flood the pipeline. */
  due(now: number, max = 600): AccessUnit[] {
    const out: AccessUnit[] = [];
    const until = now - this.epochMs;
    while (out.length < max) {
      const u = this.clip.units[this.index];
      const shift = this.startDts + this.loop * this.clip.durationMs;
      if (u.dts + shift > until) break;
      out.push({ ...u, dts: u.dts + shift, pts: u.pts + shift });
      if (++this.index === this.clip.units.length) {
        this.index = 0;
        this.loop++;
      }
    }
    return out;
  }
}
