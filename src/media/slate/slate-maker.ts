import type { Logger } from 'pino';
import type { AudioTrackInfo, TrackInfo, VideoTrackInfo } from '../types.js';
import type { FailoverSettings } from '../inputs/failover-policy.js';
import type { SlateClipLike } from '../inputs/slate-loop.js';
import type { SlateRequest } from '../../addon/slate-encoder.js';
import { slateCard } from './slate-card.js';

/** Encodes a slate clip (src/addon/slate-encoder.ts encodeSlate; a fake in tests). */
export type SlateEncoder = (req: SlateRequest) => Promise<SlateClipLike>;

/** The format the slate takes when the channel has not seen a source yet. */
const DEFAULT_VIDEO = { width: 1280, height: 720, frameRate: 30 };
/** Clips kept (a few KB each): one per channel and source format in practice. */
const MAX_CACHED = 64;
/** About two seconds of loop (the encoder fits it to whole video and audio frames). */
const LOOP_MS = 2000;

/**
 * Makes each channel's slate to match its source: the card (or the configured image) as H.264
 * at the source's size and frame rate with a keyframe every second, and silent AAC at its
 * sample rate and channel count, so the pipeline and the ABR ladder take it like the source.
 * Each clip is made once per picture and format (a few hundred ms off the event loop) and kept.
 */
export class SlateMaker {
  private readonly clips = new Map<string, Promise<SlateClipLike>>();

  constructor(private readonly encode: SlateEncoder, private readonly logger: Logger) {}

  /** The clip for this channel's settings and source tracks (the same promise while it is being made). */
  clip(channelId: string, settings: Pick<FailoverSettings, 'slate' | 'slateImage'>, tracks: readonly TrackInfo[]): Promise<SlateClipLike> {
    const req = slateRequest(settings, tracks);
    const key = JSON.stringify({ ...req, video: req.video && { ...req.video, picture: undefined } });
    let clip = this.clips.get(key);
    if (clip) {
      this.clips.delete(key); // most recently used last
      this.clips.set(key, clip);
      return clip;
    }
    const started = Date.now();
    clip = this.encode(withPicture(req, settings)).then((c) => {
      this.logger.info({ channel: channelId, picture: settings.slate === 'image' ? settings.slateImage : 'card', video: req.video && `${req.video.width}x${req.video.height}@${req.video.frameRate}`,
        audio: req.audio && `${req.audio.sampleRate}/${req.audio.channels}`, loopMs: c.durationMs, ms: Date.now() - started }, 'slate made');
      return c;
    });
    // A failure is not kept: the next need tries again (an image fixed meanwhile).
    clip.catch((err: Error) => {
      this.clips.delete(key);
      this.logger.error({ channel: channelId, err }, 'cannot make the slate');
    });
    this.clips.set(key, clip);
    if (this.clips.size > MAX_CACHED) this.clips.delete(this.clips.keys().next().value!);
    return clip;
  }
}

/** What to encode: the source's video format (or the default) and audio format, without the picture. */
export function slateRequest(settings: Pick<FailoverSettings, 'slate' | 'slateImage'>, tracks: readonly TrackInfo[]): SlateRequest {
  const video = tracks.find((t): t is VideoTrackInfo => t.kind === 'video');
  const audio = tracks.find((t): t is AudioTrackInfo => t.kind === 'audio');
  const known = tracks.length > 0;
  const v = video ?? (known ? undefined : DEFAULT_VIDEO);
  const frameRate = v && (v.frameRate > 0 ? v.frameRate : 30);
  return {
    video: v && { width: even(v.width), height: even(v.height), frameRate: frameRate!, gopFrames: Math.max(1, Math.round(frameRate!)),
      imagePath: settings.slate === 'image' ? settings.slateImage : undefined },
    audio: audio ? { sampleRate: audio.sampleRate, channels: audio.channels } : known ? undefined : { sampleRate: 48000, channels: 2 },
    durationMs: LOOP_MS,
  };
}

/** The card is drawn here (for the image the addon reads the file). */
function withPicture(req: SlateRequest, settings: Pick<FailoverSettings, 'slate'>): SlateRequest {
  if (!req.video || settings.slate === 'image') return req;
  return { ...req, video: { ...req.video, picture: slateCard(req.video.width, req.video.height) } };
}

/** Odd sizes (a publisher may send them) are rounded down to even for 4:2:0. */
function even(n: number): number {
  return Math.max(16, n - (n % 2));
}
