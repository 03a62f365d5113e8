/**
 * ABR ladders: named rung presets, named ladders, and fitting a ladder to a publisher's source
 * (no upscaling, width from the source's aspect ratio). Pure; the config schema validates the
 * shapes, this module turns them into what the native transcoder takes.
 */
import type { LadderRung } from '../../addon/cmaf-pipeline.js';
import type { VideoTrackInfo } from '../types.js';

export type H264Profile = 'baseline' | 'main' | 'high';

/** One rung as the operator writes it. */
export interface RungSpec {
  /** Rendition name in URLs: /live/<channel>/<name>.m3u8. */
  name: string;
  /** Lines on the short side (a portrait source's width). */
  height: number;
  /** Default: the source's aspect ratio at this height, rounded to an even number. */
  width?: number;
  videoBitrateKbps: number;
  /** Frames per second at most (the source's rate when lower). */
  maxFrameRate?: number;
  profile?: H264Profile;
}

/** A channel's transcode profile once resolved: the rungs, and whether the source stays as the top rung. */
export interface LadderSpec {
  rungs: RungSpec[];
  keepSource: boolean;
}

/**
 * Rung presets: bit rates after Apple's HLS authoring spec (AAS 2.2) for 30 fps content; one
 * name per height so `"720p/480p/360p"` reads as what it gives.
 */
export const RUNG_PRESETS: Readonly<Record<string, RungSpec>> = {
  '1080p': { name: '1080p', height: 1080, videoBitrateKbps: 5000, maxFrameRate: 60, profile: 'high' },
  '720p': { name: '720p', height: 720, videoBitrateKbps: 2800, maxFrameRate: 30, profile: 'high' },
  '540p': { name: '540p', height: 540, videoBitrateKbps: 2000, maxFrameRate: 30, profile: 'high' },
  '480p': { name: '480p', height: 480, videoBitrateKbps: 1400, maxFrameRate: 30, profile: 'main' },
  '360p': { name: '360p', height: 360, videoBitrateKbps: 800, maxFrameRate: 30, profile: 'main' },
  '240p': { name: '240p', height: 240, videoBitrateKbps: 400, maxFrameRate: 30, profile: 'baseline' },
  '160p': { name: '160p', height: 160, videoBitrateKbps: 200, maxFrameRate: 15, profile: 'baseline' },
};

/** Named ladders; the config may add its own (transcode.ladders). */
export const LADDER_PRESETS: Readonly<Record<string, readonly string[]>> = {
  hd: ['1080p', '720p', '480p', '360p'],
  sd: ['720p', '480p', '360p'],
  mobile: ['480p', '360p', '240p'],
};

export type RungRef = string | RungSpec;

/**
 * Resolves a channel's `transcode` value: 'passthrough' (null), a ladder name, a slash list of
 * rung presets ("720p/480p/360p"), or an object with rungs (preset names or custom rungs).
 * Throws an Error whose message names the unknown piece.
 */
export function resolveLadder(
  value: string | { rungs: RungRef[]; keepSource?: boolean },
  ladders: Readonly<Record<string, readonly RungRef[]>> = {},
): LadderSpec | null {
  if (value === 'passthrough') return null;
  const all: Record<string, readonly RungRef[]> = { ...LADDER_PRESETS, ...ladders };
  let refs: readonly RungRef[];
  let keepSource = true;
  if (typeof value === 'string') {
    refs = all[value] ?? value.split('/');
  } else {
    refs = value.rungs;
    keepSource = value.keepSource ?? true;
  }
  const rungs = refs.map((r) => {
    if (typeof r !== 'string') return r;
    const preset = RUNG_PRESETS[r];
    if (!preset) {
      throw new Error(`unknown rung or ladder "${r}" (rungs: ${Object.keys(RUNG_PRESETS).join(', ')}; ladders: ${Object.keys(all).join(', ')})`);
    }
    return preset;
  });
  if (rungs.length === 0) throw new Error('a ladder needs at least one rung');
  const names = new Set<string>(['source']);
  for (const r of rungs) {
    if (names.has(r.name)) throw new Error(`rung name "${r.name}" is used twice (or is "source")`);
    names.add(r.name);
  }
  return { rungs: [...rungs].sort((a, b) => b.height - a.height), keepSource };
}

const even = (n: number): number => Math.max(2, 2 * Math.round(n / 2));

/**
 * The rungs a session gets for its source: sizes fitted to the source's aspect ratio, nothing
 * larger than the source (and, with the source kept, nothing as large: it would duplicate it).
 * A rung's height is its short side, as "720p" means for a portrait phone stream too.
 */
export function fitLadder(spec: LadderSpec, video: VideoTrackInfo): LadderRung[] {
  const portrait = video.height > video.width;
  const short = Math.min(video.width, video.height), long = Math.max(video.width, video.height);
  const out: LadderRung[] = [];
  for (const r of spec.rungs) {
    if (r.height > short || (spec.keepSource && r.height >= short)) continue;
    const across = even(r.height), along = r.width ?? even((r.height * long) / short);
    const [width, height] = portrait && r.width === undefined ? [across, along] : [along, across];
    out.push({
      name: r.name, width, height, videoBitrate: r.videoBitrateKbps * 1000,
      maxFrameRate: r.maxFrameRate ?? 0, profile: r.profile ?? 'high',
    });
  }
  return out;
}
