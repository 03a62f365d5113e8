/**
 * The slate maker with a recording encoder: what it asks the addon for (the source's format, the
 * defaults before any source, audio-only and video-only sources), that a clip is made once per
 * picture and format, and that a failure is not kept.
 */
import t from 'tap';
import { SlateMaker, slateRequest } from '../../../../src/media/slate/slate-maker.js';
import type { SlateRequest } from '../../../../src/addon/slate-encoder.js';
import type { TrackInfo } from '../../../../src/media/types.js';
import { silentLogger } from '../../../../src/log.js';

const video = (width: number, height: number, frameRate: number): TrackInfo =>
  ({ kind: 'video', id: 0, codec: 'h264', timescale: 1000, codecConfig: Buffer.alloc(0), width, height, frameRate });
const audio = (sampleRate: number, channels: number): TrackInfo =>
  ({ kind: 'audio', id: 1, codec: 'aac', timescale: 1000, codecConfig: Buffer.alloc(0), sampleRate, channels });
const card = { slate: 'card' as const };

t.test('the request follows the source: size (even), frame rate, a keyframe a second, its audio format', async (t) => {
  t.match(slateRequest(card, [video(1280, 720, 29.97), audio(44100, 2)]),
    { video: { width: 1280, height: 720, frameRate: 29.97, gopFrames: 30, imagePath: undefined }, audio: { sampleRate: 44100, channels: 2 }, durationMs: 2000 });
  t.match(slateRequest(card, [video(641, 361, 0)]), { video: { width: 640, height: 360, frameRate: 30 }, audio: undefined },
    'odd sizes rounded down, unknown frame rate 30, no audio for a video-only source');
  t.match(slateRequest(card, [audio(48000, 1)]), { video: undefined, audio: { sampleRate: 48000, channels: 1 } }, 'audio only');
  t.match(slateRequest(card, []), { video: { width: 1280, height: 720, frameRate: 30 }, audio: { sampleRate: 48000, channels: 2 } }, 'no source yet: 720p30 + 48 kHz stereo');
  t.match(slateRequest({ slate: 'image', slateImage: '/s.png' }, [video(640, 360, 25)]), { video: { imagePath: '/s.png', gopFrames: 25 } });
});

t.test('one clip per picture and format, the card drawn here, a failure tried again', async (t) => {
  const asked: SlateRequest[] = [];
  let fail = false;
  const maker = new SlateMaker(async (req) => {
    asked.push(req);
    if (fail) throw new Error('encoder broke');
    return { tracks: [], units: [{ trackId: 0, dts: 0, pts: 0, keyframe: true, data: Buffer.from([1]) }], durationMs: 2133 };
  }, silentLogger());
  const hd = [video(1280, 720, 30), audio(48000, 2)];
  const a = maker.clip('a', card, hd), b = maker.clip('b', card, hd);
  t.equal(a, b, 'the same promise for the same format while it is made');
  await a;
  t.equal(asked.length, 1);
  t.equal(asked[0].video!.picture!.length, (1280 * 720 * 3) / 2, 'the card as an I420 picture');
  await maker.clip('a', card, [video(640, 360, 30), audio(48000, 2)]);
  await maker.clip('a', { slate: 'image', slateImage: '/s.png' }, hd);
  t.equal(asked.length, 3, 'another format, another picture: new clips');
  t.equal(asked[2].video!.picture, undefined, 'an image is read by the addon');
  fail = true;
  await t.rejects(maker.clip('a', card, [audio(44100, 2)]), /encoder broke/);
  fail = false;
  await maker.clip('a', card, [audio(44100, 2)]);
  t.equal(asked.length, 5, 'the failed clip was not kept');
});
